"""AWS Network Firewall for the egress VPC: strict rule order, drop by default, a domain allow-list.

Rules, in the order the engine evaluates them (STRICT_ORDER):
1. the allow-list: TLS SNI and HTTP Host of the configured domains pass (`.example.com` also covers
   its subdomains), from the environment's own ranges (`HOME_NET`);
2. the TPP callback domains: TLS on 443 with their SNI passes from the egress proxy's subnets only (the proxy
   admits them from the events service's VPC alone), so no spoke reaches them directly;
3. non-TCP traffic to the internet (UDP, ICMP) is dropped outright: under `aws:drop_established` the
   first packet of a new UDP flow would otherwise leave before the flow counts as established;
4. default actions `aws:drop_established` + `aws:alert_established`: anything not allowed is dropped
   and alerted once the TCP handshake completes, which is the moment the SNI/Host can be seen
   (`aws:drop_strict` would drop the handshake itself, so no domain rule could ever match).

Alert and flow logs go to the log archive bucket (S3, Object Lock), the firewall, its policy and its
rule groups are encrypted with a customer-managed key, and delete, policy-change and subnet-change
protection are on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

#: Capacity of the allow-list rule group; fixed at creation (changing it replaces the group).
ALLOW_LIST_CAPACITY = 1000
#: The most domains the allow-list holds: each takes two of its rules (TLS SNI and HTTP Host).
MAX_ALLOWED_DOMAINS = ALLOW_LIST_CAPACITY // 2
DROP_NON_TCP_RULES = "\n".join([
    'drop udp $HOME_NET any -> $EXTERNAL_NET any (msg:"egress: UDP to the internet is not allowed"; '
    "sid:1000001; rev:1;)",
    'drop icmp $HOME_NET any -> $EXTERNAL_NET any (msg:"egress: ICMP to the internet is not allowed"; '
    "sid:1000002; rev:1;)",
])
FIREWALL_LOG_PREFIX = "network-firewall"
#: Capacity of the callback rule group (one rule per domain, so also the most callback domains); fixed at creation.
CALLBACK_CAPACITY = 200
#: The callback rules' Suricata ids start here (one per domain, in config order).
CALLBACK_SID_BASE = 1100001


def callback_rules(domains: Sequence[str], sources: Sequence[str]) -> str:
    """One Suricata `pass tls` rule per TPP callback domain: to port 443 from `sources` (the egress proxy's
    subnets), matched on the TLS SNI as the domain-list rule groups match it (`.example.com`: that name and every
    name under it). The domains are validated DNS names, so nothing in them can break out of the quoted content."""
    source = "[" + ",".join(sources) + "]"
    rules = []
    for sid, domain in enumerate(domains, start=CALLBACK_SID_BASE):
        match = (f'dotprefix; content:"{domain}"; nocase; endswith;' if domain.startswith(".")
                 else f'content:"{domain}"; nocase; startswith; endswith;')
        rules.append(f'pass tls {source} any -> $EXTERNAL_NET 443 (tls.sni; {match} '
                     f'msg:"egress: TPP callback {domain}"; flow:to_server, established; sid:{sid}; rev:1;)')
    return "\n".join(rules)


@dataclass(frozen=True)
class NetworkFirewallArgs:
    """The egress firewall: where its endpoints go, what it allows, how it is encrypted and where it logs."""

    #: Prefix of physical names (`<prefix>-egress`, `<prefix>-egress-allow-list`,
    #: `<prefix>-egress-drop-non-tcp`) and of the log keys (`network-firewall/<prefix>/`).
    name_prefix: str
    #: The egress VPC the firewall's endpoints are placed in.
    vpc_id: pulumi.Input[str]
    #: One firewall subnet per AZ the firewall serves.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Domains let out by TLS SNI and HTTP Host (`.example.com` also covers its subdomains).
    #: Empty: no allow-list rule group, so every flow is dropped.
    allowed_domains: Sequence[str]
    #: The environment's own ranges (spokes, egress VPC, on-prem): the firewall's HOME_NET.
    home_net: Sequence[str]
    #: Customer-managed key encrypting the firewall, its policy and its rule groups.
    kms_key_arn: pulumi.Input[str]
    #: Bucket (name) receiving the ALERT and FLOW logs, under `network-firewall/<prefix>/alert|flow`.
    log_bucket_name: pulumi.Input[str]
    #: The TPPs' event-notification callback domains: TLS to 443 with their SNI passes from `callback_sources` only.
    #: Empty: no callback rule group.
    callback_domains: Sequence[str] = ()
    #: Where callbacks may leave from: the egress proxy's subnets (the proxy decides who may use them).
    callback_sources: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.callback_domains and not self.callback_sources:
            raise ValueError("NetworkFirewallArgs.callback_sources: empty, so callback_domains would pass from "
                             "anywhere; name the egress proxy's subnets")
        if len(self.allowed_domains) > MAX_ALLOWED_DOMAINS:
            raise ValueError(f"NetworkFirewallArgs.allowed_domains: {len(self.allowed_domains)} domains, more than the "
                             f"allow-list rule group holds ({MAX_ALLOWED_DOMAINS}, two rules each)")
        if len(self.callback_domains) > CALLBACK_CAPACITY:
            raise ValueError(f"NetworkFirewallArgs.callback_domains: {len(self.callback_domains)} domains, more than "
                             f"the callback rule group's capacity ({CALLBACK_CAPACITY})")


def endpoint_in_subnet(statuses: Any, subnet_id: str) -> str:
    """The firewall endpoint (vpce-...) AWS placed in `subnet_id`, from the firewall's status. The SDK's
    output types are mappings keyed by the snake_case names, so this reads them as mappings."""
    for status in statuses or []:
        for sync in status.get("sync_states") or []:
            for attachment in sync.get("attachments") or []:
                if attachment.get("subnet_id") == subnet_id and attachment.get("endpoint_id"):
                    return str(attachment["endpoint_id"])
    raise ValueError(f"the network firewall reports no endpoint in subnet {subnet_id}")


class NetworkFirewall(pulumi.ComponentResource):
    """The firewall, its strict-order policy and rule groups, and its S3 logging."""

    firewall: aws.networkfirewall.Firewall
    policy: aws.networkfirewall.FirewallPolicy
    #: Firewall endpoint id per subnet, in the order of `args.subnet_ids`.
    endpoint_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:NetworkFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        encryption = {"type": "CUSTOMER_KMS", "key_id": args.kms_key_arn}
        references: list[aws.networkfirewall.FirewallPolicyFirewallPolicyStatefulRuleGroupReferenceArgs] = []

        def stateful(suffix: str, description: str, capacity: int, priority: int,
                     source: aws.networkfirewall.RuleGroupRuleGroupRulesSourceArgs) -> None:
            """A strict-order stateful rule group `<prefix>-egress-<suffix>`, encrypted, evaluated at `priority`."""
            group = aws.networkfirewall.RuleGroup(
                f"{name}-{suffix}", name=f"{args.name_prefix}-egress-{suffix}", description=description,
                type="STATEFUL", capacity=capacity,
                rule_group=aws.networkfirewall.RuleGroupRuleGroupArgs(
                    rules_source=source,
                    stateful_rule_options=aws.networkfirewall.RuleGroupRuleGroupStatefulRuleOptionsArgs(
                        rule_order="STRICT_ORDER")),
                encryption_configuration=aws.networkfirewall.RuleGroupEncryptionConfigurationArgs(**encryption),
                opts=child)
            references.append(aws.networkfirewall.FirewallPolicyFirewallPolicyStatefulRuleGroupReferenceArgs(
                resource_arn=group.arn, priority=priority))

        if args.allowed_domains:
            stateful("allow-list", "Egress domain allow-list (TLS SNI and HTTP Host), from the environment config",
                     ALLOW_LIST_CAPACITY, 100, aws.networkfirewall.RuleGroupRuleGroupRulesSourceArgs(
                         rules_source_list=aws.networkfirewall.RuleGroupRuleGroupRulesSourceRulesSourceListArgs(
                             generated_rules_type="ALLOWLIST", target_types=["TLS_SNI", "HTTP_HOST"],
                             targets=list(args.allowed_domains))))
        if args.callback_domains:
            stateful("callbacks", "TPP callback domains (TLS SNI, port 443), from the egress proxy only",
                     CALLBACK_CAPACITY, 150, aws.networkfirewall.RuleGroupRuleGroupRulesSourceArgs(
                         rules_string=callback_rules(args.callback_domains, args.callback_sources)))
        stateful("drop-non-tcp", "Drop UDP and ICMP to the internet", 10, 200,
                 aws.networkfirewall.RuleGroupRuleGroupRulesSourceArgs(rules_string=DROP_NON_TCP_RULES))
        self.policy = aws.networkfirewall.FirewallPolicy(
            f"{name}-policy",
            name=f"{args.name_prefix}-egress",
            description="Egress inspection: strict order, allow-listed domains only, drop by default",
            firewall_policy=aws.networkfirewall.FirewallPolicyFirewallPolicyArgs(
                stateless_default_actions=["aws:forward_to_sfe"],
                stateless_fragment_default_actions=["aws:forward_to_sfe"],
                stateful_engine_options=aws.networkfirewall.FirewallPolicyFirewallPolicyStatefulEngineOptionsArgs(
                    rule_order="STRICT_ORDER", stream_exception_policy="DROP"),
                stateful_default_actions=["aws:drop_established", "aws:alert_established"],
                stateful_rule_group_references=references,
                policy_variables=aws.networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesArgs(
                    rule_variables=[aws.networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesRuleVariableArgs(
                        key="HOME_NET",
                        ip_set=aws.networkfirewall.FirewallPolicyFirewallPolicyPolicyVariablesRuleVariableIpSetArgs(
                            definitions=list(args.home_net)),
                    )]),
            ),
            encryption_configuration=aws.networkfirewall.FirewallPolicyEncryptionConfigurationArgs(**encryption),
            opts=child,
        )
        self.firewall = aws.networkfirewall.Firewall(
            f"{name}-firewall",
            name=f"{args.name_prefix}-egress",
            description="Egress inspection for every spoke of the environment",
            firewall_policy_arn=self.policy.arn,
            vpc_id=args.vpc_id,
            subnet_mappings=[aws.networkfirewall.FirewallSubnetMappingArgs(subnet_id=s) for s in args.subnet_ids],
            delete_protection=True,
            firewall_policy_change_protection=True,
            subnet_change_protection=True,
            encryption_configuration=aws.networkfirewall.FirewallEncryptionConfigurationArgs(**encryption),
            opts=child,
        )
        aws.networkfirewall.LoggingConfiguration(
            f"{name}-logging",
            firewall_arn=self.firewall.arn,
            logging_configuration=aws.networkfirewall.LoggingConfigurationLoggingConfigurationArgs(
                log_destination_configs=[
                    aws.networkfirewall.LoggingConfigurationLoggingConfigurationLogDestinationConfigArgs(
                        log_type=log_type,
                        log_destination_type="S3",
                        log_destination={"bucketName": args.log_bucket_name,
                                         "prefix": f"{FIREWALL_LOG_PREFIX}/{args.name_prefix}/{log_type.lower()}"},
                    ) for log_type in ("ALERT", "FLOW")
                ]),
            opts=pulumi.ResourceOptions(parent=self.firewall),
        )
        self.endpoint_ids = [
            pulumi.Output.all(self.firewall.firewall_statuses, subnet_id).apply(
                lambda parts: endpoint_in_subnet(parts[0], parts[1]))
            for subnet_id in args.subnet_ids
        ]
        self.register_outputs({"firewallArn": self.firewall.arn, "policyArn": self.policy.arn,
                               "endpointIds": self.endpoint_ids})
