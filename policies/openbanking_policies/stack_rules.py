"""Stack policies: coverage rules that need to see more than one resource.

Props here are OUTPUTS. Resources are linked by id/ARN/name values, never by dependencies (offline, under
mocks, there are none). A value unknown at preview never produces a violation: a target whose own link
value is unknown is skipped, and a candidate whose link value is unknown counts as "maybe linked".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from ._base import stack_policy
from ._links import ids, link_values, linked, of_type, provider_urn, short
from ._props import PLAIN, ci_get, contains_unknown, get, is_true, is_unknown, items, parse_json
from ._statements import provider_accounts
from .network import REQUIRED_NFW_LOG_TYPES, nfw_log_types

STAGE_TAG = "openbanking:stage"

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PAB_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
             "aws:s3/bucketPublicAccessBlockV2:BucketPublicAccessBlockV2")
SSE_TYPES = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
             "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPolicyV2:BucketPolicyV2")
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
STAGE = "aws:apigateway/stage:Stage"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
FIREWALL = "aws:networkfirewall/firewall:Firewall"
NFW_LOGGING = "aws:networkfirewall/loggingConfiguration:LoggingConfiguration"
ZONE = "aws:route53/zone:Zone"
QUERY_LOG = "aws:route53/queryLog:QueryLog"
DNSSEC = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
SECURITYHUB_ACCOUNT = "aws:securityhub/account:Account"
STANDARDS_SUBSCRIPTION = "aws:securityhub/standardsSubscription:StandardsSubscription"
STATEFUL_TYPES = (
    "aws:dynamodb/table:Table",
    "aws:rds/cluster:Cluster",
    "aws:kms/key:Key",
    *BUCKET_TYPES,
    "aws:opensearch/domain:Domain",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:rds/instance:Instance",
    "aws:msk/cluster:Cluster",
    "aws:msk/serverlessCluster:ServerlessCluster",
    "aws:mq/broker:Broker",
)

KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})


# ------------------------------------------------------------------------------------------------
# "Every resource of type X needs a companion of type Y whose field F equals X's id/arn"
# ------------------------------------------------------------------------------------------------

#: (subject, its first link value, the companions linked to it) -> the violation message, or None
_Judge = Callable[[PolicyResource, str, list[PolicyResource]], str | None]


def _always(_r: PolicyResource) -> bool:
    return True


@dataclass(frozen=True)
class _Companion:
    """What a subject needs: resources of `types` whose `field` equals one of the subject's link values, as
    `judge` sees them; only for subjects `when` holds for."""

    types: tuple[str, ...]
    field: str
    judge: _Judge
    when: Callable[[PolicyResource], bool] = _always


def _needs_one(types: Sequence[str], field: str, message: Callable[[PolicyResource, str], str], *,
               accept: Callable[[PolicyResource], bool] = _always,
               when: Callable[[PolicyResource], bool] = _always) -> _Companion:
    """A companion of which at least one linked resource must exist (and be `accept`ed);
    `message(subject, link_value)` is the violation when none does."""

    def judge(subject: PolicyResource, key: str, found: list[PolicyResource]) -> str | None:
        return None if any(accept(c) for c in found) else message(subject, key)

    return _Companion(tuple(types), field, judge, when)


def _check_companions(args: StackValidationArgs, report: ReportViolation, subject_types: Sequence[str],
                      link_keys: Callable[[PolicyResource], set[str] | None], *companions: _Companion) -> None:
    """For every resource of `subject_types`, report what each of `companions` finds missing, in order.

    A subject whose link values (`link_keys`) are unknown at preview, or not yet named, is skipped: it cannot
    be linked yet. So is a companion some candidate's unknown `field` could still provide.
    """
    pools = [(c, of_type(args.resources, *c.types)) for c in companions]
    for subject in of_type(args.resources, *subject_types):
        keys = link_keys(subject)
        if not keys:
            continue
        for companion, pool in pools:
            if not companion.when(subject):
                continue
            found = linked(pool, companion.field, keys)
            message = None if found is None else companion.judge(subject, sorted(keys)[0], found)
            if message:
                report(message, subject.urn)


# ------------------------------------------------------------------------------------------------
# ob-s3-bucket-coverage
# ------------------------------------------------------------------------------------------------


def _sse_algorithms(cfg: Any) -> list[Any]:
    """sseAlgorithm values of a SSE configuration (sub-resource `rules` or inline `rule`)."""
    if is_unknown(cfg):
        return [cfg]
    rules = items(get(cfg, "rules")) + items(get(cfg, "rule"))
    return [r if is_unknown(r) else get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for r in rules]


def _kms_sse(algorithms: list[Any]) -> bool | None:
    """True if an algorithm is SSE-KMS, None (maybe) if unknown, else False."""
    if any(a in KMS_ALGORITHMS for a in algorithms):
        return True
    if any(is_unknown(a) for a in algorithms):
        return None
    return False


def denies_insecure_transport(raw_policy: Any) -> bool | None:
    """True when the policy has a Deny statement conditioned on aws:SecureTransport = false."""
    doc = parse_json(raw_policy)
    if is_unknown(doc) or contains_unknown(doc):
        return None
    if not isinstance(doc, Mapping):
        return False
    for st in items(ci_get(doc, "Statement")):
        if not isinstance(st, Mapping) or ci_get(st, "Effect") != "Deny":
            continue
        for operator in ("Bool", "BoolIfExists"):
            cond = ci_get(ci_get(st, "Condition"), operator)
            values = [str(v).lower() for v in items(ci_get(cond, "aws:SecureTransport"))]
            if "false" in values:
                return True
    return False


def _inline_sse_algorithms(b: PolicyResource) -> list[Any]:
    return _sse_algorithms(get(b.props, "serverSideEncryptionConfiguration"))


def _no_pab(b: PolicyResource, name: str) -> str:
    return (f"{short(b)} (bucket {name!r}) has no BucketPublicAccessBlock whose bucket equals "
            f"{name!r}; every bucket needs one with all four flags true.")


def _no_sse_kms(b: PolicyResource, name: str) -> str:
    return (f"{short(b)} (bucket {name!r}) has no server-side encryption configuration with "
            f"sseAlgorithm 'aws:kms' (inline sseAlgorithm {PLAIN.show(_inline_sse_algorithms(b) or None)}); "
            "SSE-S3 is the AWS default and is not allowed.")


def _no_tls_policy(b: PolicyResource, name: str) -> str:
    return (f"{short(b)} (bucket {name!r}) has no BucketPolicy with a Deny statement on "
            "Condition Bool aws:SecureTransport = 'false'.")


def _denies_insecure_transport_in(r: PolicyResource) -> bool | None:
    return denies_insecure_transport(get(r.props, "policy"))


def _check_bucket_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_companions(
        args, report, BUCKET_TYPES, lambda b: link_values(b, "bucket", "id"),
        _needs_one(PAB_TYPES, "bucket", _no_pab),
        _needs_one(SSE_TYPES, "bucket", _no_sse_kms,
                   accept=lambda c: _kms_sse(_sse_algorithms(c.props)) is not False,
                   when=lambda b: _kms_sse(_inline_sse_algorithms(b)) is False),
        _needs_one(BUCKET_POLICY_TYPES, "bucket", _no_tls_policy,
                   accept=lambda c: _denies_insecure_transport_in(c) is not False,
                   when=lambda b: _denies_insecure_transport_in(b) is False),
    )


s3_bucket_coverage = stack_policy(
    name="ob-s3-bucket-coverage",
    description="Every S3 bucket must have a public access block, SSE-KMS encryption and a TLS-only "
                "bucket policy.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "S3.8"), ("CIS", "2.1.4"), ("FSBP", "S3.17"), ("FSBP", "S3.5"), ("CIS", "2.1.1"),
                ("Checkov", "CKV2_AWS_6"), ("Checkov", "CKV_AWS_145")],
    resource_types=[*BUCKET_TYPES, *PAB_TYPES, *SSE_TYPES, *BUCKET_POLICY_TYPES],
    remediation="For each aws.s3.Bucket add aws.s3.BucketPublicAccessBlock(bucket=b.id, "
                "block_public_acls=True, block_public_policy=True, ignore_public_acls=True, "
                "restrict_public_buckets=True), "
                "aws.s3.BucketServerSideEncryptionConfiguration(bucket=b.id, rules=[{'apply_server_side_"
                "encryption_by_default': {'sse_algorithm': 'aws:kms', 'kms_master_key_id': key.arn}, "
                "'bucket_key_enabled': True}]) and aws.s3.BucketPolicy(bucket=b.id, policy=...) with a Deny "
                "on s3:* when aws:SecureTransport is 'false'.",
    check=_check_bucket_coverage,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-s3-account-pab-coverage
# ------------------------------------------------------------------------------------------------

_DEFAULT_KEY = "<default provider>"


def provider_account_ids(r: PolicyResource) -> set[str]:
    """allowedAccountIds of r's provider (a list, or a JSON string as providers store them)."""
    return provider_accounts(r.provider)


def _check_account_pab(args: StackValidationArgs, report: ReportViolation) -> None:
    aws = [r for r in args.resources if r.resource_type.startswith("aws:")]
    apabs = of_type(aws, ACCOUNT_PAB)
    covered_keys: set[str] = set()
    covered_accounts: set[str] = set()
    for a in apabs:
        covered_keys.add(provider_urn(a) or _DEFAULT_KEY)
        covered_accounts |= provider_account_ids(a)
        acct = get(a.props, "accountId")
        if isinstance(acct, str) and acct:
            covered_accounts.add(acct)
    seen: dict[str, tuple[PolicyResource, set[str]]] = {}
    for r in aws:
        key = provider_urn(r) or _DEFAULT_KEY
        if key not in seen:
            seen[key] = (r, provider_account_ids(r))
    for key, (r, accounts) in seen.items():
        if key in covered_keys or (accounts and accounts <= covered_accounts):
            continue
        where = f"account(s) {', '.join(sorted(accounts))}" if accounts else "its account"
        report(f"provider {key} deploys aws: resources into {where} but the stack has no "
               "AccountPublicAccessBlock for that account (accountId/provider).",
               key if key != _DEFAULT_KEY else r.urn)


s3_account_pab_coverage = stack_policy(
    name="ob-s3-account-pab-coverage",
    description="Every AWS account the stack deploys into must have an account-level S3 public access block.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "S3.1"), ("CIS", "2.1.4")],
    resource_types=[ACCOUNT_PAB],
    remediation="For each aws.Provider, add aws.s3.AccountPublicAccessBlock(block_public_acls=True, "
                "block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, "
                "opts=pulumi.ResourceOptions(provider=that_provider)).",
    check=_check_account_pab,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-vpc-flowlogs-coverage / ob-default-sg-coverage
# ------------------------------------------------------------------------------------------------


def _vpc_coverage(args: StackValidationArgs, report: ReportViolation, child_type: str, what: str) -> None:
    def message(vpc: PolicyResource, vpc_id: str) -> str:
        return (f"{short(vpc)} (id {vpc_id!r}) has no {child_type.rsplit(':', 1)[-1]} whose vpcId equals "
                f"{vpc_id!r}; {what}.")

    _check_companions(args, report, [VPC], lambda vpc: ids(vpc, "id"), _needs_one([child_type], "vpcId", message))


def _check_vpc_flowlogs(args: StackValidationArgs, report: ReportViolation) -> None:
    _vpc_coverage(args, report, FLOW_LOG, "every VPC needs a flow log with trafficType ALL")


def _check_default_sg_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    _vpc_coverage(args, report, DEFAULT_SG, "adopt the default security group with no rules")


vpc_flowlogs_coverage = stack_policy(
    name="ob-vpc-flowlogs-coverage",
    description="Every VPC must have a flow log.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "EC2.6"), ("CIS", "3.7"), ("Checkov", "CKV2_AWS_11")],
    resource_types=[VPC, FLOW_LOG],
    remediation="Add aws.ec2.FlowLog(vpc_id=vpc.id, traffic_type='ALL', log_destination=..., "
                "iam_role_arn=...) next to every aws.ec2.Vpc.",
    check=_check_vpc_flowlogs,
)

default_sg_coverage = stack_policy(
    name="ob-default-sg-coverage",
    description="Every VPC's default security group must be adopted and emptied.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "EC2.2"), ("CIS", "5.5"), ("Checkov", "CKV2_AWS_12")],
    resource_types=[VPC, DEFAULT_SG],
    remediation="Add aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) with no ingress/egress for every "
                "aws.ec2.Vpc.",
    check=_check_default_sg_coverage,
)


# ------------------------------------------------------------------------------------------------
# ob-waf-coverage
# ------------------------------------------------------------------------------------------------


def _stage_suffix(stage: PolicyResource) -> str | None:
    api, name = get(stage.props, "restApi"), get(stage.props, "stageName")
    if isinstance(api, str) and api and isinstance(name, str) and name:
        return f"/restapis/{api}/stages/{name}"
    return None


def _check_waf_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    assocs = of_type(args.resources, WEB_ACL_ASSOCIATION)
    targets = [get(a.props, "resourceArn") for a in assocs]
    maybe = any(is_unknown(t) for t in targets)
    arns = {t for t in targets if isinstance(t, str)}

    for stage in of_type(args.resources, STAGE):
        web_acl = get(stage.props, "webAclArn")
        if is_unknown(web_acl) or (isinstance(web_acl, str) and web_acl):
            continue
        arn = get(stage.props, "arn")
        suffix = _stage_suffix(stage)
        if is_unknown(arn) or (arn is None and suffix is None):
            continue
        if (isinstance(arn, str) and arn in arns) or (suffix and any(a.endswith(suffix) for a in arns)):
            continue
        if not maybe:
            report(f"{short(stage)} (arn {PLAIN.show(arn)}) has no WebAclAssociation whose resourceArn equals its "
                   "arn; API stages must be protected by WAF.", stage.urn)

    _check_companions(args, report, [LOAD_BALANCER], lambda lb: link_values(lb, "arn", "id"),
                      _needs_one([WEB_ACL_ASSOCIATION], "resourceArn", _no_web_acl, when=_public_alb))


def _public_alb(lb: PolicyResource) -> bool:
    lb_type, internal = get(lb.props, "loadBalancerType"), get(lb.props, "internal")
    if is_unknown(lb_type) or is_unknown(internal) or is_true(internal):
        return False
    return (lb_type or "application") == "application"


def _no_web_acl(lb: PolicyResource, arn: str) -> str:
    return (f"{short(lb)} (internet-facing application load balancer, internal "
            f"{PLAIN.show(get(lb.props, 'internal'))}) has no WebAclAssociation whose resourceArn equals {arn!r}.")


waf_coverage = stack_policy(
    name="ob-waf-coverage",
    description="Every API Gateway stage and internet-facing application load balancer must be associated "
                "with a WAFv2 web ACL.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "APIGateway.4"), ("FSBP", "ELB.16"), ("Checkov", "CKV2_AWS_29"),
                ("Checkov", "CKV2_AWS_28")],
    resource_types=[STAGE, LOAD_BALANCER, WEB_ACL_ASSOCIATION],
    remediation="Add aws.wafv2.WebAclAssociation(resource_arn=stage.arn (or alb.arn), "
                "web_acl_arn=regional_acl.arn) for every aws.apigateway.Stage and public "
                "aws.lb.LoadBalancer.",
    check=_check_waf_coverage,
)


# ------------------------------------------------------------------------------------------------
# ob-waf-logging-coverage
# ------------------------------------------------------------------------------------------------


def _no_waf_logging(acl: PolicyResource, arn: str) -> str:
    return (f"{short(acl)} (arn {arn!r}) has no WebAclLoggingConfiguration whose resourceArn equals "
            "its arn; web ACL requests must be logged.")


def _check_waf_logging_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_companions(args, report, [WEB_ACL], lambda acl: link_values(acl, "arn"),
                      _needs_one([WEB_ACL_LOGGING], "resourceArn", _no_waf_logging))


waf_logging_coverage = stack_policy(
    name="ob-waf-logging-coverage",
    description="Every WAFv2 web ACL must have a logging configuration.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "WAF.11"), ("Checkov", "CKV2_AWS_31")],
    resource_types=[WEB_ACL, WEB_ACL_LOGGING],
    remediation="Add aws.wafv2.WebAclLoggingConfiguration(resource_arn=acl.arn, log_destination_configs="
                "[log_group_arn]) for every aws.wafv2.WebAcl (a CloudWatch log group named 'aws-waf-logs-*', "
                "a Firehose stream or an S3 bucket), with redacted_fields for the Authorization header.",
    check=_check_waf_logging_coverage,
)


# ------------------------------------------------------------------------------------------------
# ob-nfw-logging-coverage
# ------------------------------------------------------------------------------------------------


def _nfw_logging_gap(fw: PolicyResource, _arn: str, configs: list[PolicyResource]) -> str | None:
    """What the firewall's logging configurations (together) fail to log; None when ALERT and FLOW are both
    covered, or when a log type is unknown at preview."""
    types: set[Any] = set()
    for c in configs:
        types |= nfw_log_types(c.props)
    if any(is_unknown(t) for t in types):
        return None
    missing = [t for t in REQUIRED_NFW_LOG_TYPES if t not in types]
    if not missing:
        return None
    detail = (f"its LoggingConfiguration logs only {PLAIN.show(sorted(map(str, types)))}" if configs
              else "no LoggingConfiguration has firewallArn equal to its arn")
    return f"{short(fw)}: {detail}; ALERT and FLOW logs are required (missing {', '.join(missing)})."


def _check_nfw_logging_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_companions(args, report, [FIREWALL], lambda fw: link_values(fw, "arn", "id"),
                      _Companion((NFW_LOGGING,), "firewallArn", _nfw_logging_gap))


nfw_logging_coverage = stack_policy(
    name="ob-nfw-logging-coverage",
    description="Every network firewall must have a logging configuration covering ALERT and FLOW logs.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "NetworkFirewall.2"), ("Checkov", "CKV2_AWS_63")],
    resource_types=[FIREWALL, NFW_LOGGING],
    remediation="Add aws.networkfirewall.LoggingConfiguration(firewall_arn=fw.arn, logging_configuration="
                "{'log_destination_configs': [{'log_type': 'ALERT', ...}, {'log_type': 'FLOW', ...}]}).",
    check=_check_nfw_logging_coverage,
)


# ------------------------------------------------------------------------------------------------
# ob-explicit-provider
# ------------------------------------------------------------------------------------------------


def _is_default_provider(urn: str) -> bool:
    name = urn.rsplit("::", 1)[-1]
    return name == "default" or name.startswith("default_")


def _check_explicit_provider(args: StackValidationArgs, report: ReportViolation) -> None:
    for r in args.resources:
        if not r.resource_type.startswith("aws:"):
            continue
        urn = provider_urn(r)
        if urn is None:
            report(f"{short(r)} has no provider; pass opts=pulumi.ResourceOptions(provider=...) with an "
                   "explicit aws.Provider.", r.urn)
        elif _is_default_provider(urn):
            report(f"{short(r)} uses the default provider {urn!r}; every AWS resource must use an explicit "
                   "aws.Provider pinned to its account.", r.urn)


explicit_provider = stack_policy(
    name="ob-explicit-provider",
    description="Every AWS resource must use an explicit provider, never the ambient default provider.",
    severity=Severity.HIGH,
    frameworks=[("FSI Lens", "Security by Design: multi-account isolation"),
                ("Pulumi", "disable-default-providers")],
    resource_types=["aws:*"],
    remediation="Create aws.Provider(..., allowed_account_ids=[account_id], assume_role=...) per account and "
                "pass opts=pulumi.ResourceOptions(provider=provider) to every AWS resource; set "
                "'pulumi:disable-default-providers: [\"aws\"]' in the stack config.",
    check=_check_explicit_provider,
)


# ------------------------------------------------------------------------------------------------
# ob-protect-stateful
# ------------------------------------------------------------------------------------------------


def _check_protect(args: StackValidationArgs, report: ReportViolation) -> None:
    if (args.stack_tags or {}).get(STAGE_TAG) != "prod":
        return  # only production stacks must protect stateful resources
    for r in of_type(args.resources, *STATEFUL_TYPES):
        if not (r.opts is not None and r.opts.protect is True):
            report(f"{short(r)} has opts.protect {PLAIN.show(r.opts.protect if r.opts else None)}; stateful "
                   "resources in prod must be protected.", r.urn)


protect_stateful = stack_policy(
    name="ob-protect-stateful",
    description="In prod stacks, stateful resources (tables, clusters, instances, keys, buckets, domains, "
                "caches, Kafka clusters, brokers) must be protected against deletion by Pulumi.",
    severity=Severity.HIGH,
    frameworks=[("FSI Lens", "Resilience: protect stateful data stores"),
                ("Pulumi", "CrossGuard 2.0 protect")],
    resource_types=list(STATEFUL_TYPES),
    remediation="Pass opts=pulumi.ResourceOptions(protect=True) (e.g. protect=stage == 'prod') to every "
                "DynamoDB table, RDS cluster and instance, KMS key, S3 bucket, OpenSearch domain, ElastiCache "
                "replication group, MSK cluster (provisioned or serverless) and Amazon MQ broker.",
    check=_check_protect,
)


# ------------------------------------------------------------------------------------------------
# ob-route53-zone-logging
# ------------------------------------------------------------------------------------------------


def _is_public_zone(zone: PolicyResource) -> bool:
    vpcs = get(zone.props, "vpcs")
    return not is_unknown(vpcs) and not items(vpcs)  # no vpcs: public (unknown: maybe private)


def _no_query_log(zone: PolicyResource, zone_id: str) -> str:
    return f"public {short(zone)} (zoneId {zone_id!r}) has no QueryLog whose zoneId equals it."


def _no_dnssec(zone: PolicyResource, zone_id: str) -> str:
    return (f"public {short(zone)} (zoneId {zone_id!r}) has no HostedZoneDnsSec whose hostedZoneId "
            "equals it.")


def _check_route53(args: StackValidationArgs, report: ReportViolation) -> None:
    _check_companions(args, report, [ZONE], lambda zone: link_values(zone, "zoneId", "id"),
                      _needs_one([QUERY_LOG], "zoneId", _no_query_log, when=_is_public_zone),
                      _needs_one([DNSSEC], "hostedZoneId", _no_dnssec, when=_is_public_zone))


route53_zone_logging = stack_policy(
    name="ob-route53-zone-logging",
    description="Public Route 53 hosted zones must have DNS query logging and DNSSEC signing.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "Route53.2"), ("Checkov", "CKV2_AWS_39"), ("Checkov", "CKV2_AWS_38")],
    resource_types=[ZONE, QUERY_LOG, DNSSEC],
    remediation="For each public aws.route53.Zone add aws.route53.QueryLog(zone_id=zone.zone_id, "
                "cloudwatch_log_group_arn=...) (log group in us-east-1) and a KeySigningKey plus "
                "aws.route53.HostedZoneDnsSec(hosted_zone_id=zone.zone_id).",
    check=_check_route53,
)


# ------------------------------------------------------------------------------------------------
# ob-securityhub
# ------------------------------------------------------------------------------------------------

REQUIRED_STANDARDS = ("aws-foundational-security-best-practices", "cis-aws-foundations-benchmark")


def _subscriptions_for(account: PolicyResource, subs: Iterable[PolicyResource]) -> list[PolicyResource]:
    prov = provider_urn(account)
    return [s for s in subs if prov is None or provider_urn(s) in (None, prov)]


def _check_securityhub(args: StackValidationArgs, report: ReportViolation) -> None:
    accounts = of_type(args.resources, SECURITYHUB_ACCOUNT)
    if not accounts:
        return  # not applicable: Security Hub is enabled by another stack
    subs = of_type(args.resources, STANDARDS_SUBSCRIPTION)
    for account in accounts:
        arns = [get(s.props, "standardsArn") for s in _subscriptions_for(account, subs)]
        if any(is_unknown(a) for a in arns):
            continue
        missing = [std for std in REQUIRED_STANDARDS
                   if not any(isinstance(a, str) and std in a.lower() for a in arns)]
        if missing:
            report(f"{short(account)} has standards subscriptions with standardsArn {PLAIN.show(arns)}; "
                   f"missing {', '.join(missing)}.", account.urn)


securityhub = stack_policy(
    name="ob-securityhub",
    description="When Security Hub is enabled, the FSBP and CIS AWS Foundations standards must be "
                "subscribed.",
    severity=Severity.MEDIUM,
    frameworks=[("CIS", "4.16")],
    resource_types=[SECURITYHUB_ACCOUNT, STANDARDS_SUBSCRIPTION],
    remediation="Add aws.securityhub.StandardsSubscription(standards_arn="
                "'arn:aws:securityhub:<region>::standards/aws-foundational-security-best-practices/v/1.0.0') "
                "and one for "
                "'arn:aws:securityhub:<region>::standards/cis-aws-foundations-benchmark/v/5.0.0', each with "
                "depends_on=[account].",
    check=_check_securityhub,
)


# ------------------------------------------------------------------------------------------------
# ob-cloudfront-logging-coverage
# ------------------------------------------------------------------------------------------------


def _cloudfront_logging_gap(args: StackValidationArgs, distribution: PolicyResource) -> str | None:
    """Why `distribution` logs nothing; None when it logs (legacy or v2), or when preview cannot tell yet."""
    legacy = get(distribution.props, "loggingConfig")
    if is_unknown(legacy) or (legacy is not None and get(legacy, "bucket")):
        return None
    arn = get(distribution.props, "arn")
    if not isinstance(arn, str) or not arn:
        return None
    sources = [s for s in of_type(args.resources, LOG_DELIVERY_SOURCE) if get(s.props, "logType") == "ACCESS_LOGS"]
    if any(is_unknown(get(s.props, "resourceArn")) for s in sources):
        return None
    names = {get(s.props, "name") for s in sources if get(s.props, "resourceArn") == arn}
    if names:
        deliveries = [get(d.props, "deliverySourceName") for d in of_type(args.resources, LOG_DELIVERY)]
        if any(is_unknown(n) for n in deliveries) or names & set(deliveries):
            return None
        return (f"{short(distribution)} (arn {arn!r}) has an ACCESS_LOGS LogDeliverySource "
                f"{PLAIN.show(sorted(map(str, names)))} but no LogDelivery from it; nothing is delivered.")
    return (f"{short(distribution)} (arn {arn!r}) has neither loggingConfig nor an ACCESS_LOGS LogDeliverySource "
            "whose resourceArn equals its arn; its access logs go nowhere.")


def _check_cloudfront_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    for distribution in of_type(args.resources, DISTRIBUTION):
        gap = _cloudfront_logging_gap(args, distribution)
        if gap:
            report(gap, distribution.urn)


cloudfront_logging_coverage = stack_policy(
    name="ob-cloudfront-logging-coverage",
    description="Every CloudFront distribution must deliver its access logs: legacy loggingConfig, or standard "
                "logging v2 (an ACCESS_LOGS LogDeliverySource for it with a LogDelivery).",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "CloudFront.5"), ("Checkov", "CKV_AWS_86")],
    resource_types=[DISTRIBUTION, LOG_DELIVERY_SOURCE, LOG_DELIVERY],
    remediation="Add aws.cloudwatch.LogDeliverySource(log_type='ACCESS_LOGS', resource_arn=distribution.arn, "
                "region='us-east-1'), an aws.cloudwatch.LogDeliveryDestination for the log bucket and an "
                "aws.cloudwatch.LogDelivery(delivery_source_name=source.name, delivery_destination_arn=...) "
                "(v2 needs no bucket ACLs, unlike logging_config).",
    check=_check_cloudfront_logging,
)


POLICIES: list = [
    s3_bucket_coverage,
    s3_account_pab_coverage,
    vpc_flowlogs_coverage,
    waf_coverage,
    waf_logging_coverage,
    nfw_logging_coverage,
    explicit_provider,
    protect_stateful,
    default_sg_coverage,
    route53_zone_logging,
    cloudfront_logging_coverage,
    securityhub,
]
