"""Network rules: security groups, VPC flow logs, Transit Gateway, Network Firewall, egress (squid) hosts."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import PLAIN, get, is_true, is_unknown, items, number

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
FIREWALL = "aws:networkfirewall/firewall:Firewall"
FIREWALL_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"
NFW_LOGGING = "aws:networkfirewall/loggingConfiguration:LoggingConfiguration"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE = "aws:ec2/instance:Instance"
SUBNET = "aws:ec2/subnet:Subnet"
EBS_DEFAULT_ENCRYPTION = "aws:ebs/encryptionByDefault:EncryptionByDefault"

WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
INTERNET_FACING_TAG = "lz:internet-facing"
ALLOWED_WORLD_PORT = 443.0


# ------------------------------------------------------------------------------------------------
# ob-sg-no-world-ingress
# ------------------------------------------------------------------------------------------------


def _internet_facing(props: Any) -> bool:
    return is_true(get(props, "tags", INTERNET_FACING_TAG))


def _https_only(rule: Any) -> bool:
    """True when the rule opens exactly TCP 443."""
    proto = get(rule, "protocol")
    if proto is None:
        proto = get(rule, "ipProtocol")
    if not (isinstance(proto, str) and proto.lower() in ("tcp", "6")):
        return False
    ports = (number(get(rule, "fromPort")), number(get(rule, "toPort")))
    return ports == (ALLOWED_WORLD_PORT, ALLOWED_WORLD_PORT)


def _ports(rule: Any) -> str:
    proto = get(rule, "protocol")
    if proto is None:
        proto = get(rule, "ipProtocol")
    return f"protocol {PLAIN.show(proto)} ports {PLAIN.show(get(rule, 'fromPort'))}-{PLAIN.show(get(rule, 'toPort'))}"


def _world_cidrs(rule: Any, *keys: str) -> list[str]:
    found: list[str] = []
    for key in keys:
        for cidr in items(get(rule, key)):
            if isinstance(cidr, str) and cidr.strip() in WORLD_CIDRS:
                found.append(f"{key}={cidr!r}")
    return found


def _check_world_rule(report: ReportViolation, rule: Any, where: str, world: list[str],
                      allow_listed: bool) -> None:
    if not world:
        return
    if allow_listed and _https_only(rule):
        return
    extra = (f" (tagged {INTERNET_FACING_TAG}=true, so only TCP 443 may be open to the world)"
             if allow_listed else "")
    report(f"{where} allows ingress from {', '.join(world)} on {_ports(rule)}{extra}; "
           "restrict the source to known CIDRs, prefix lists or security groups.", None)


def _check_sg_world_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        allow = _internet_facing(props)
        for i, rule in enumerate(items(get(props, "ingress"))):
            if is_unknown(rule):
                continue
            world = _world_cidrs(rule, "cidrBlocks", "ipv6CidrBlocks")
            _check_world_rule(report, rule, f"ingress[{i}]", world, allow)
    elif args.resource_type == SG_INGRESS_RULE:
        world = _world_cidrs(props, "cidrIpv4", "cidrIpv6")
        _check_world_rule(report, props, "security group ingress rule", world, _internet_facing(props))
    elif args.resource_type == SG_RULE:
        if get(props, "type") != "ingress":
            return
        world = _world_cidrs(props, "cidrBlocks", "ipv6CidrBlocks")
        _check_world_rule(report, props, "security group rule (type ingress)", world, False)


sg_no_world_ingress = resource_policy(
    name="ob-sg-no-world-ingress",
    description="Security groups must not allow ingress from 0.0.0.0/0 or ::/0, except TCP 443 on "
                "groups tagged lz:internet-facing=true.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "EC2.13"), ("FSBP", "EC2.14"), ("FSBP", "EC2.18"), ("FSBP", "EC2.19"),
                ("CIS", "5.3"), ("CIS", "5.4"), ("Checkov", "CKV_AWS_24"), ("Checkov", "CKV_AWS_25"),
                ("Checkov", "CKV_AWS_277")],
    resource_types=[SECURITY_GROUP, SG_INGRESS_RULE, SG_RULE],
    remediation="Replace cidr_blocks=['0.0.0.0/0'] / ipv6_cidr_blocks=['::/0'] (or cidr_ipv4/cidr_ipv6 on "
                "aws.vpc.SecurityGroupIngressRule) with the VPC CIDR, a managed prefix list or "
                "referenced_security_group_id. Edge load-balancer groups may stay world-open only for "
                "protocol='tcp', from_port=443, to_port=443 and must carry "
                "tags={'lz:internet-facing': 'true'}.",
    check=_check_sg_world_ingress,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-vpc-flowlogs (resource part)
# ------------------------------------------------------------------------------------------------


def _check_flow_log(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    traffic = get(props, "trafficType")
    if is_unknown(traffic):
        return
    if traffic is None and (get(props, "transitGatewayId") is not None
                            or get(props, "transitGatewayAttachmentId") is not None):
        return  # Transit Gateway flow logs always capture all traffic.
    if traffic != "ALL":
        report(f"trafficType is {PLAIN.show(traffic)}; it must be 'ALL' so accepted and rejected traffic is "
               "logged.", None)


vpc_flowlogs = resource_policy(
    name="ob-vpc-flowlogs",
    description="VPC flow logs must capture ALL traffic (accepted and rejected).",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "EC2.6"), ("CIS", "3.7"), ("Checkov", "CKV2_AWS_11")],
    resource_types=[FLOW_LOG],
    remediation="Create aws.ec2.FlowLog(vpc_id=vpc.id, traffic_type='ALL', log_destination=..., "
                "iam_role_arn=...) for every VPC.",
    check=_check_flow_log,
)


# ------------------------------------------------------------------------------------------------
# ob-tgw-segmentation
# ------------------------------------------------------------------------------------------------


def _check_tgw(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    # (property, AWS default)
    for prop, default in (("autoAcceptSharedAttachments", "disable"),
                          ("defaultRouteTableAssociation", "enable"),
                          ("defaultRouteTablePropagation", "enable")):
        v = get(props, prop)
        if is_unknown(v):
            continue
        effective = default if v is None else v
        if effective != "disable":
            shown = PLAIN.show(v, f"AWS default {default!r}")
            report(f"{prop} is {shown}; it must be 'disable' so attachments are segmented by explicit "
                   "route tables.", None)


tgw_segmentation = resource_policy(
    name="ob-tgw-segmentation",
    description="Transit gateways must not auto-accept shared attachments nor use the default route "
                "table for association and propagation.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "EC2.23"), ("Checkov", "CKV_AWS_331")],
    resource_types=[TRANSIT_GATEWAY],
    remediation="Set auto_accept_shared_attachments='disable', default_route_table_association='disable' "
                "and default_route_table_propagation='disable' on aws.ec2transitgateway.TransitGateway, and "
                "associate/propagate each attachment with explicit RouteTableAssociation/Propagation "
                "resources.",
    check=_check_tgw,
)


# ------------------------------------------------------------------------------------------------
# ob-nfw-protection
# ------------------------------------------------------------------------------------------------


def _check_nfw_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    for prop in ("deleteProtection", "firewallPolicyChangeProtection", "subnetChangeProtection"):
        PLAIN.require_true(report, props, prop)
    enc_type = get(props, "encryptionConfiguration", "type")
    if is_unknown(enc_type):
        return
    if enc_type != "CUSTOMER_KMS":
        shown = PLAIN.show(enc_type, "AWS_OWNED_KMS_KEY")
        report(f"encryptionConfiguration.type is {shown}; it must be 'CUSTOMER_KMS' with a keyId.", None)
    elif get(props, "encryptionConfiguration", "keyId") is None:
        report("encryptionConfiguration.keyId is absent; CUSTOMER_KMS encryption needs a customer "
               "managed key.", None)


nfw_protection = resource_policy(
    name="ob-nfw-protection",
    description="Network firewalls must have delete, policy-change and subnet-change protection and be "
                "encrypted with a customer managed KMS key.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "NetworkFirewall.9"), ("Checkov", "CKV_AWS_344"), ("Checkov", "CKV_AWS_345")],
    resource_types=[FIREWALL],
    remediation="On aws.networkfirewall.Firewall set delete_protection=True, "
                "firewall_policy_change_protection=True, subnet_change_protection=True and "
                "encryption_configuration={'type': 'CUSTOMER_KMS', 'key_id': key.arn}.",
    check=_check_nfw_protection,
)


# ------------------------------------------------------------------------------------------------
# ob-nfw-policy
# ------------------------------------------------------------------------------------------------

STATELESS_OK = frozenset({"aws:forward_to_sfe", "aws:drop"})
STANDARD_STATELESS = frozenset({"aws:forward_to_sfe", "aws:drop", "aws:pass"})
STATEFUL_DROP = frozenset({"aws:drop_established", "aws:drop_strict"})


def _check_stateless(report: ReportViolation, policy: Any, prop: str) -> None:
    actions = items(get(policy, prop))
    if any(is_unknown(a) for a in actions):
        return
    standard = [a for a in actions if a in STANDARD_STATELESS]
    if not standard or any(a not in STATELESS_OK for a in standard):
        report(f"firewallPolicy.{prop} is {PLAIN.show(actions)}; it must be ['aws:forward_to_sfe'] or "
               "['aws:drop'].", None)


def _check_nfw_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    policy = get(args.props, "firewallPolicy")
    if is_unknown(policy):
        return
    if policy is None:
        report("firewallPolicy is absent; it must define default actions and rule groups.", None)
        return
    _check_stateless(report, policy, "statelessDefaultActions")
    _check_stateless(report, policy, "statelessFragmentDefaultActions")
    order = get(policy, "statefulEngineOptions", "ruleOrder")
    if not is_unknown(order) and order != "STRICT_ORDER":
        shown = PLAIN.show(order, "DEFAULT_ACTION_ORDER")
        report(f"firewallPolicy.statefulEngineOptions.ruleOrder is {shown}; it must be 'STRICT_ORDER'.", None)
    stateful = items(get(policy, "statefulDefaultActions"))
    if not any(is_unknown(a) for a in stateful) and not STATEFUL_DROP.intersection(stateful):
        report(f"firewallPolicy.statefulDefaultActions is {PLAIN.show(stateful)}; it must include "
               "'aws:drop_established' (or 'aws:drop_strict').", None)
    groups = get(policy, "statefulRuleGroupReferences")
    if not is_unknown(groups) and not items(groups):
        report("firewallPolicy.statefulRuleGroupReferences is empty; at least one stateful rule group is "
               "required.", None)


nfw_policy = resource_policy(
    name="ob-nfw-policy",
    description="Network firewall policies must forward or drop by default, use strict rule order with a "
                "drop-established default and reference at least one stateful rule group.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "NetworkFirewall.3"), ("FSBP", "NetworkFirewall.4"), ("FSBP", "NetworkFirewall.5")],
    resource_types=[FIREWALL_POLICY],
    remediation="In aws.networkfirewall.FirewallPolicy firewall_policy set "
                "stateless_default_actions=['aws:forward_to_sfe'], "
                "stateless_fragment_default_actions=['aws:forward_to_sfe'], "
                "stateful_engine_options={'rule_order': 'STRICT_ORDER'}, "
                "stateful_default_actions=['aws:drop_established'] and "
                "stateful_rule_group_references=[{'resource_arn': group.arn, 'priority': 100}].",
    check=_check_nfw_policy,
)


# ------------------------------------------------------------------------------------------------
# ob-nfw-logging (resource part)
# ------------------------------------------------------------------------------------------------

REQUIRED_NFW_LOG_TYPES = ("ALERT", "FLOW")


def nfw_log_types(props: Any) -> set[Any]:
    """The logType values of a Network Firewall LoggingConfiguration (UNKNOWN included when unknown)."""
    types: set[Any] = set()
    for cfg in items(get(props, "loggingConfiguration", "logDestinationConfigs")):
        types.add(get(cfg, "logType") if not is_unknown(cfg) else cfg)
    return types


def _check_nfw_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    types = nfw_log_types(args.props)
    if any(is_unknown(t) for t in types):
        return
    missing = [t for t in REQUIRED_NFW_LOG_TYPES if t not in types]
    if missing:
        report(f"loggingConfiguration.logDestinationConfigs[].logType is {PLAIN.show(sorted(map(str, types)))}; "
               f"it must cover ALERT and FLOW (missing {', '.join(missing)}).", None)


nfw_logging = resource_policy(
    name="ob-nfw-logging",
    description="Network firewall logging must deliver both ALERT and FLOW logs.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "NetworkFirewall.2"), ("Checkov", "CKV2_AWS_63")],
    resource_types=[NFW_LOGGING],
    remediation="Give aws.networkfirewall.LoggingConfiguration logging_configuration.log_destination_configs "
                "two entries: {'log_type': 'ALERT', ...} and {'log_type': 'FLOW', ...} (e.g. "
                "log_destination_type='CloudWatchLogs', log_destination={'logGroup': group.name}).",
    check=_check_nfw_logging,
)


# ------------------------------------------------------------------------------------------------
# ob-default-sg (resource part)
# ------------------------------------------------------------------------------------------------


def _check_default_sg(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for prop in ("ingress", "egress"):
        rules = get(args.props, prop)
        if is_unknown(rules):
            continue
        if items(rules):
            report(f"{prop} has {len(items(rules))} rule(s) {PLAIN.show(rules)}; the default security group must "
                   "have no rules.", None)


default_sg = resource_policy(
    name="ob-default-sg",
    description="The default security group of every VPC must have no ingress and no egress rules.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "EC2.2"), ("CIS", "5.5"), ("Checkov", "CKV2_AWS_12")],
    resource_types=[DEFAULT_SG],
    remediation="Adopt each VPC's default group with aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) and leave "
                "ingress and egress unset (or []), which removes all rules.",
    check=_check_default_sg,
)


# ------------------------------------------------------------------------------------------------
# ob-squid-host
# ------------------------------------------------------------------------------------------------


def _check_metadata_options(props: Any, report: ReportViolation, hop_default: float | None) -> None:
    """IMDSv2 only, hop limit 1; `hop_default` is the hop limit AWS applies when it is absent (None: the AMI's)."""
    endpoint = get(props, "metadataOptions", "httpEndpoint")
    if endpoint == "disabled":
        return  # no instance metadata service at all
    tokens = get(props, "metadataOptions", "httpTokens")
    if not is_unknown(tokens) and tokens != "required":
        shown = PLAIN.show(tokens, "IMDSv1 allowed")
        report(f"metadataOptions.httpTokens is {shown}; it must be 'required' (IMDSv2 only).", None)
    hop = get(props, "metadataOptions", "httpPutResponseHopLimit")
    if is_unknown(hop) or (hop is None and hop_default == 1):
        return
    n = number(hop)
    if not isinstance(n, float) or n < 1 or n > 1:
        shown = PLAIN.show(hop, "AMI default, 2 on Amazon Linux 2023")
        report(f"metadataOptions.httpPutResponseHopLimit is {shown}; it must be 1 for hosts.", None)


def _check_squid_host(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        _check_metadata_options(props, report, hop_default=None)
    elif args.resource_type == EC2_INSTANCE:
        if get(props, "metadataOptions") is None and get(props, "launchTemplate") is not None:
            return  # the launch template's metadata options apply (judged on the template)
        _check_metadata_options(props, report, hop_default=1)
    elif args.resource_type == SUBNET:
        v = get(props, "mapPublicIpOnLaunch")
        if not is_unknown(v) and is_true(v):
            report(f"mapPublicIpOnLaunch is {PLAIN.show(v)}; subnets must not assign public IPs on launch.", None)
    elif args.resource_type == EBS_DEFAULT_ENCRYPTION:
        v = get(props, "enabled")
        if v is not None and not is_unknown(v) and not is_true(v):
            report(f"enabled is {PLAIN.show(v)}; EBS encryption by default must be enabled.", None)


squid_host = resource_policy(
    name="ob-squid-host",
    description="EC2 hosts (egress proxies and any instance) and their launch templates must use IMDSv2 with "
                "hop limit 1, subnets must not map public IPs and EBS encryption by default must be on.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "EC2.8"), ("FSBP", "EC2.15"), ("FSBP", "EC2.7"), ("CIS", "5.7"), ("CIS", "5.1.1"),
                ("Checkov", "CKV_AWS_79"), ("Checkov", "CKV_AWS_130"), ("Checkov", "CKV_AWS_341")],
    resource_types=[LAUNCH_TEMPLATE, EC2_INSTANCE, SUBNET, EBS_DEFAULT_ENCRYPTION],
    remediation="On aws.ec2.LaunchTemplate and aws.ec2.Instance set metadata_options={'http_endpoint': "
                "'enabled', 'http_tokens': 'required', 'http_put_response_hop_limit': 1}; leave "
                "map_public_ip_on_launch unset/False on aws.ec2.Subnet (use a NAT or the proxy for egress); "
                "declare aws.ebs.EncryptionByDefault(enabled=True) in every account and region.",
    check=_check_squid_host,
)


POLICIES: list = [
    sg_no_world_ingress,
    vpc_flowlogs,
    tgw_segmentation,
    nfw_protection,
    nfw_policy,
    nfw_logging,
    default_sg,
    squid_host,
]
