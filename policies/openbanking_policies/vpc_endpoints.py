"""VPC endpoint policies: what passes through an endpoint to an AWS service stays inside the organization.

An endpoint created without a policy gets AWS's default one, which allows any principal (the organization's,
or anyone's credentials used inside the VPC) to reach any resource of any account. The S3 and DynamoDB
gateway routes bypass the Network Firewall and the proxy allow-list, so that is a path to write to any
bucket in the world. A statement is narrow enough when it names its resources (ARNs whose account and
resource id are not wildcards) or carries a resource condition (`aws:ResourceOrgID`, `aws:ResourceOrgPaths`,
`aws:ResourceAccount`) under a matching operator; a condition on the caller alone (`aws:PrincipalOrgID`)
still lets the organization's own principals write anywhere.

Endpoints to endpoint services that are not AWS's (`com.amazonaws.vpce.*`, partners') and Gateway Load
Balancer endpoints are not judged: AWS gives them full access whatever policy is set.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from . import _statements as st
from ._base import stack_policy
from ._links import ids, linked, of_type, short
from ._props import TICKED, get, is_unknown, statements

VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
#: Endpoint types that take a policy (an absent type is a gateway endpoint, the provider's default).
POLICY_TYPES = ("Gateway", "Interface")


def aws_service(endpoint: PolicyResource) -> str | None:
    """The endpoint's service name when it is an AWS service's gateway or interface endpoint (None: not
    judged, or unknown at preview)."""
    name = get(endpoint.props, "serviceName")
    kind = get(endpoint.props, "vpcEndpointType")
    if not isinstance(name, str) or is_unknown(kind) or (kind or "Gateway") not in POLICY_TYPES:
        return None
    if not name.startswith("com.amazonaws.") or name.startswith("com.amazonaws.vpce."):
        return None
    return name


def unbounded(resource: str) -> bool:
    """True when a Resource entry reaches resources of any account: `*`, anything that is not an ARN, an ARN
    whose account is a wildcard or whose resource id starts with one (`arn:aws:s3:::*`)."""
    value = resource.strip()
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return True
    account, rest = parts[4], parts[5]
    return "*" in account or "?" in account or not rest or rest[0] in "*?"


def _is_default(doc: dict[str, Any]) -> bool:
    """AWS's default endpoint policy: one unconditioned Allow of everything to everyone."""
    found = statements(doc)
    return len(found) == 1 and st.is_allow(found[0]) and st.grants_everyone(found[0]) \
        and st.strings(st.field(found[0], "Action")) == ["*"] \
        and st.strings(st.field(found[0], "Resource")) == ["*"] and not st.has_condition(found[0])


def _principal_shown(statement: dict[str, Any]) -> str:
    if st.field(statement, "NotPrincipal") is not None:
        return f"NotPrincipal {TICKED.show(st.field(statement, 'NotPrincipal'))}"
    return f"Principal {TICKED.show(st.field(statement, 'Principal'))}"


def _judge(doc: dict[str, Any], subject: str, report: ReportViolation, urn: str) -> None:
    """Report each Allow statement of an endpoint policy that reaches resources of any account."""
    default = " (AWS's default full-access policy, attached when the endpoint sets none)" if _is_default(doc) else ""
    for i, statement in enumerate(statements(doc)):
        if not st.is_allow(statement):
            continue
        if st.field(statement, "NotResource") is not None:
            wide = [f"NotResource {TICKED.show(st.field(statement, 'NotResource'))}"]
        else:
            wide = [r for r in st.strings(st.field(statement, "Resource")) if unbounded(r)]
        if not wide or st.scoping_keys(statement, st.RESOURCE_SCOPING_CONDITION_KEYS):
            continue
        actions = st.strings(st.field(statement, "Action")) or ["(NotAction)"]
        report(f"{subject}: `policy` {st.label(statement, i)}{default} allows {_principal_shown(statement)} to "
               f"{st.describe(actions)} on {st.describe(wide)} without a condition on aws:ResourceOrgID, "
               "aws:ResourceOrgPaths or aws:ResourceAccount; a caller in the VPC could reach resources of any "
               "account through it (through an S3 gateway: write to any bucket in the world)", urn)


def _document(resource: PolicyResource, report: ReportViolation) -> dict[str, Any] | None:
    return TICKED.policy_document(lambda message, _urn=None: report(message, resource.urn), resource.props, "policy")


def _check(args: StackValidationArgs, report: ReportViolation) -> None:
    separate = of_type(args.resources, VPC_ENDPOINT_POLICY)
    for policy in separate:
        doc = _document(policy, report)
        if doc is not None:
            _judge(doc, short(policy), report, policy.urn)
    for endpoint in of_type(args.resources, VPC_ENDPOINT):
        service = aws_service(endpoint)
        if service is None:
            continue
        if separate:  # an aws.ec2.VpcEndpointPolicy of its own replaces the inline one, and is judged above
            keys = ids(endpoint, "id")
            found = None if keys is None else linked(separate, "vpcEndpointId", keys)
            if found is None or found:
                continue
        subject = f"{short(endpoint)} ({service})"
        raw = get(endpoint.props, "policy")
        if is_unknown(raw):
            continue
        if not raw:
            report(f"{subject} has no endpoint policy, so AWS attaches its default full-access one: any "
                   "principal in the VPC could reach resources of any account through it", endpoint.urn)
            continue
        doc = _document(endpoint, report)
        if doc is not None:
            _judge(doc, subject, report, endpoint.urn)


vpc_endpoint_policy = stack_policy(
    name="ob-vpc-endpoint-policy",
    description="Every gateway and interface endpoint to an AWS service has a policy that keeps callers to "
                "the organization's resources (aws:ResourceOrgID) or to named resources; never the default "
                "full-access policy.",
    severity=Severity.HIGH,
    frameworks=[("AWS", "PrivateLink: control access to VPC endpoints using endpoint policies"),
                ("AWS", "Data perimeters: resource perimeter on VPC endpoints (aws:ResourceOrgID)"),
                ("FSI Lens", "Security by Design: prevent data exfiltration")],
    resource_types=[VPC_ENDPOINT, VPC_ENDPOINT_POLICY],
    remediation=("Give every `aws.ec2.VpcEndpoint` to an AWS service a `policy` (or an "
                 "`aws.ec2.VpcEndpointPolicy`) whose Allow statements either carry `\"Condition\": "
                 "{\"StringEquals\": {\"aws:PrincipalOrgID\": org_id, \"aws:ResourceOrgID\": org_id}}` or name "
                 "the AWS-owned resources the workloads need, e.g. `\"Resource\": "
                 "[\"arn:aws:s3:::prod-<region>-starport-layer-bucket/*\"]` with `\"Action\": [\"s3:GetObject\"]` "
                 "for ECR image layers through the S3 gateway."),
    check=_check,
)

POLICIES = [vpc_endpoint_policy]
