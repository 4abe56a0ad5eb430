"""Resource-policy rules: what buckets, topics, queues, secrets, repositories, Kafka clusters, CloudWatch Logs
destinations and event buses let other principals do.

A grant to `"*"` is a grant to every AWS account (and, for S3, SNS and SQS, to anonymous callers) unless a
condition narrows it to the organization, an account or a calling resource. S3 account and bucket public access
blocks stop some of these at request time, but the policy is judged on its own: a block can be lifted, and it
does not cover the other services.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from . import _statements as st
from ._base import resource_policy
from ._props import TICKED, get, is_unknown, statements

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ECR_REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
MSK_CLUSTER_POLICY = "aws:msk/clusterPolicy:ClusterPolicy"
EVENT_BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
LOG_DESTINATION_POLICY = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"

#: Every type with a resource policy in its `policy` property that this module judges.
POLICY_TYPES = (BUCKET_POLICY, BUCKET, BUCKET_V2, TOPIC_POLICY, TOPIC, QUEUE_POLICY, QUEUE, SECRET_POLICY, SECRET,
                ECR_REPOSITORY_POLICY, ECR_REGISTRY_POLICY, MSK_CLUSTER_POLICY)

#: Types whose resource policy is in another property than `policy`.
DOCUMENT_PROPERTY = {LOG_DESTINATION_POLICY: "accessPolicy"}

_SCOPE_HINT = "aws:PrincipalOrgID, aws:SourceArn, aws:SourceAccount or aws:PrincipalArn"


def _open_statements(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The Allow statements granting to anyone without a condition that narrows who (index, statement)."""
    return [(i, s) for i, s in enumerate(statements(doc))
            if st.is_allow(s) and st.grants_everyone(s) and not st.scoping_keys(s)]


def _principal_shown(statement: dict[str, Any]) -> str:
    if st.field(statement, "NotPrincipal") is not None:
        return f"NotPrincipal {TICKED.show(st.field(statement, 'NotPrincipal'))} (everyone else)"
    return f"Principal {TICKED.show(st.field(statement, 'Principal'))}"


# ---------------------------------------------------------------------------------------------
# ob-resource-policy-public
# ---------------------------------------------------------------------------------------------


def _check_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prop = DOCUMENT_PROPERTY.get(args.resource_type, "policy")
    doc = TICKED.policy_document(report, args.props, prop)
    if doc is None:
        return
    for i, statement in _open_statements(doc):
        actions = st.strings(st.field(statement, "Action")) or ["(NotAction)"]
        report(f"`{prop}` {st.label(statement, i)} allows {_principal_shown(statement)} to "
               f"{st.describe(actions)} without a condition on {_SCOPE_HINT}; any AWS account (or anonymous "
               "caller) could use it", None)


resource_policy_public = resource_policy(
    name="ob-resource-policy-public",
    description="Bucket, topic, queue, secret, ECR, MSK and CloudWatch Logs destination resource policies never "
                "grant to `*` without an organization, account or source condition.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "S3.2"), ("FSBP", "S3.3"), ("FSBP", "SNS.4"), ("Checkov", "CKV_AWS_70"),
                ("Checkov", "CKV_AWS_168"), ("Checkov", "CKV_AWS_169"), ("Checkov", "CKV_AWS_387"),
                ("Checkov", "CKV_AWS_32"), ("Checkov", "CKV_AWS_283")],
    resource_types=[*POLICY_TYPES, LOG_DESTINATION_POLICY],
    remediation=("In the `policy` JSON of `aws.s3.BucketPolicy`, `aws.sns.TopicPolicy`, `aws.sqs.QueuePolicy`, "
                 "`aws.secretsmanager.SecretPolicy`, `aws.ecr.RepositoryPolicy`, `aws.ecr.RegistryPolicy` and "
                 "`aws.msk.ClusterPolicy` (or the inline `policy` of the bucket, topic, queue or secret), and the "
                 "`access_policy` of `aws.cloudwatch.LogDestinationPolicy`, name "
                 "the principals (`{\"AWS\": role_arn}` or `{\"Service\": \"events.amazonaws.com\"}`), or keep "
                 "`\"Principal\": \"*\"` only with `\"Condition\": {\"StringEquals\": "
                 "{\"aws:PrincipalOrgID\": org_id}}` (service callers: `aws:SourceArn` / `aws:SourceAccount`). "
                 "Deny statements may use `\"*\"` freely."),
    check=_check_public,
    nonprod_may_downgrade=False,
)


# ---------------------------------------------------------------------------------------------
# ob-eventbus-policy
# ---------------------------------------------------------------------------------------------


def _check_bus_policy_document(args: ResourceValidationArgs, report: ReportViolation) -> None:
    doc = TICKED.policy_document(report, args.props, "policy")
    if doc is None:
        return
    own = st.provider_accounts(args.provider)
    for i, statement in enumerate(statements(doc)):
        if not st.is_allow(statement):
            continue
        if st.grants_everyone(statement) and not st.scoping_keys(statement):
            report(f"`policy` {st.label(statement, i)} lets {_principal_shown(statement)} put events on the bus "
                   f"without a condition on {_SCOPE_HINT}", None)
        foreign = [a for a in st.whole_accounts(statement) if a not in own]
        if foreign and not st.has_condition(statement):
            report(f"`policy` {st.label(statement, i)} grants the whole account(s) {st.describe(foreign)} "
                   "without a Condition; limit it to the publishing role (aws:PrincipalArn) or the event "
                   "source (events:source)", None)


def _check_event_permission(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    principal = get(props, "principal")
    if is_unknown(principal) or not isinstance(principal, str):
        return
    key = get(props, "condition", "key")
    if is_unknown(key):
        return
    if principal.strip() == "*":
        if not (isinstance(key, str) and key.lower() == "aws:principalorgid"):
            report(f"`principal` is \"*\" and `condition.key` is {TICKED.show(key)}; any AWS account could put "
                   "events on the bus: set `condition` to aws:PrincipalOrgID", None)
        return
    if principal not in st.provider_accounts(args.provider):
        report(f"`principal` is the whole account {TICKED.show(principal)}, which an EventPermission cannot "
               "narrow with a condition; use an EventBusPolicy statement that names the publishing role or "
               "adds a Condition", None)


def _check_eventbus_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == EVENT_PERMISSION:
        _check_event_permission(args, report)
    else:
        _check_bus_policy_document(args, report)


eventbus_policy = resource_policy(
    name="ob-eventbus-policy",
    description="EventBridge bus policies never let `*` put events without an organization condition, nor a "
                "whole foreign account without a condition.",
    severity=Severity.CRITICAL,
    frameworks=[("AWS", "EventBridge resource-based policies: aws:PrincipalOrgID"),
                ("FSI Lens", "Security by Design: multi-account isolation"), ("Checkov", "CKV_AWS_283")],
    resource_types=[EVENT_BUS_POLICY, EVENT_PERMISSION],
    remediation=("In the `policy` JSON of `aws.cloudwatch.EventBusPolicy` name the publishing roles "
                 "(`{\"AWS\": \"arn:aws:iam::<account>:role/<publisher>\"}`) or keep an account principal only "
                 "with a `Condition` (`aws:PrincipalArn`, `events:source`); `\"Principal\": \"*\"` needs "
                 "`{\"StringEquals\": {\"aws:PrincipalOrgID\": org_id}}`. Replace "
                 "`aws.cloudwatch.EventPermission(principal=<account id>)` with such a bus policy statement, and "
                 "give `principal=\"*\"` a `condition={\"key\": \"aws:PrincipalOrgID\", \"type\": "
                 "\"StringEquals\", \"value\": org_id}`."),
    check=_check_eventbus_policy,
    nonprod_may_downgrade=False,
)


POLICIES = [resource_policy_public, eventbus_policy]
