"""IAM rules: identity policies grant named actions on named resources; role trust names who may assume a role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from . import _statements as st
from ._base import resource_policy
from ._props import TICKED, get, items, statements

IAM_POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"

POLICY_DOCUMENT_TYPES = (IAM_POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY)
ATTACHMENT_TYPES = (ROLE_POLICY_ATTACHMENT, USER_POLICY_ATTACHMENT, GROUP_POLICY_ATTACHMENT, POLICY_ATTACHMENT)

#: AWS managed policies that hand out administration of the account (or of IAM, which is the same thing).
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")

#: Verbs of actions that only read. Anything else (Put, Create, Delete, Update, Decrypt, Invoke, Pass, ...)
#: changes something or hands out data a key protects, and counts as a write.
_READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "View", "Lookup", "Search", "Read", "Receive",
               "Head", "Check")

#: Write actions that have no resource-level permissions: IAM only accepts `"Resource": "*"` for them.
NO_RESOURCE_LEVEL_ACTIONS = frozenset(a.lower() for a in (
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData",
    "logs:CreateLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:PutResourcePolicy",
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel", "kms:CreateKey", "kms:GenerateRandom",
))


def is_write(action: str) -> bool:
    """True for an action (or action pattern) that may write: its verb is not a read verb, or a wildcard could
    reach one (`s3:*`, `s3:Put*`, `ec2:*Instance*`)."""
    if action.strip() == "*":
        return True
    _, _, verb = action.partition(":")
    if verb.startswith("*") or not verb:
        return True
    return not any(verb.startswith(v) for v in _READ_VERBS)


# ---------------------------------------------------------------------------------------------
# ob-iam-least-privilege
# ---------------------------------------------------------------------------------------------


def _statement_problems(statement: Mapping[str, Any]) -> list[str]:
    """What is too broad in one Allow statement of an identity policy (empty when it is specific)."""
    actions = st.strings(st.field(statement, "Action"))
    problems: list[str] = []
    if st.field(statement, "NotAction") is not None:
        problems.append("uses NotAction with Effect \"Allow\", which allows every action it does not list")
    if any(a.strip() in ("*", "*:*") for a in actions):
        problems.append("allows Action \"*\": every action of every service (full administrative access)")
    services = sorted({a for a in actions if a.endswith(":*") and a.strip() != "*:*"})
    if services:
        problems.append(f"allows every action of a service ({st.describe(services)}), including its permission "
                        "and deletion APIs")
    resources = st.strings(st.field(statement, "Resource"))
    every_resource = "*" in (r.strip() for r in resources) or st.field(statement, "NotResource") is not None
    if every_resource and not st.has_condition(statement):
        writes = [a for a in actions if is_write(a) and a.lower() not in NO_RESOURCE_LEVEL_ACTIONS]
        if writes and not problems:
            problems.append(f"allows the write actions {st.describe(writes)} on Resource \"*\" without a "
                            "Condition")
    return problems


def _check_document(report: ReportViolation, props: Any, *path: str | int) -> None:
    doc = TICKED.policy_document(report, props, *path)
    if doc is None:
        return
    for i, statement in enumerate(statements(doc)):
        if not st.is_allow(statement):
            continue
        for problem in _statement_problems(statement):
            report(f"{TICKED.path(*path)} {st.label(statement, i)} {problem}; name the actions and resource ARNs "
                   "the principal needs", None)


def _admin_policy(arn: Any) -> str | None:
    if not isinstance(arn, str):
        return None
    for name in ADMIN_MANAGED_POLICIES:
        if arn.endswith(f":iam::aws:policy/{name}"):
            return name
    return None


def _check_least_privilege(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    t = args.resource_type
    if t in POLICY_DOCUMENT_TYPES:
        _check_document(report, props, "policy")
    elif t == ROLE:
        for i, _ in enumerate(items(get(props, "inlinePolicies"))):
            _check_document(report, props, "inlinePolicies", i, "policy")
        for i, arn in enumerate(items(get(props, "managedPolicyArns"))):
            name = _admin_policy(arn)
            if name:
                report(f"`managedPolicyArns[{i}]` is {TICKED.show(arn)}: the AWS managed {name} policy grants "
                       "administration of the account", None)
    else:
        arn = get(props, "policyArn")
        name = _admin_policy(arn)
        if name:
            report(f"`policyArn` is {TICKED.show(arn)}: the AWS managed {name} policy grants administration of "
                   "the account", None)


iam_least_privilege = resource_policy(
    name="ob-iam-least-privilege",
    description="Identity policies name their actions and resources: no `*` or `service:*` actions, no write "
                "actions on every resource, no AdministratorAccess-like managed policies.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "IAM.1"), ("FSBP", "IAM.21"), ("FSBP", "KMS.1"), ("FSBP", "KMS.2"),
                ("Checkov", "CKV_AWS_62"), ("Checkov", "CKV_AWS_63"), ("Checkov", "CKV_AWS_290"),
                ("Checkov", "CKV_AWS_355"), ("Checkov", "CKV2_AWS_56")],
    resource_types=[*POLICY_DOCUMENT_TYPES, ROLE, *ATTACHMENT_TYPES],
    remediation=("In the `policy` JSON of `aws.iam.Policy`, `aws.iam.RolePolicy`, `aws.iam.UserPolicy`, "
                 "`aws.iam.GroupPolicy` (and `inline_policies` of `aws.iam.Role`) list the actions "
                 "(`\"dynamodb:PutItem\"`, never `\"*\"` or `\"dynamodb:*\"`) and the resource ARNs they act on "
                 "(`table.arn`, never `\"*\"` for write actions unless the action has no resource-level "
                 "permissions, or add a `Condition`); replace `policy_arn`/`managed_policy_arns` entries "
                 "`arn:aws:iam::aws:policy/AdministratorAccess`, `PowerUserAccess` or `IAMFullAccess` with a "
                 "customer managed policy."),
    check=_check_least_privilege,
)


# ---------------------------------------------------------------------------------------------
# ob-iam-role-trust
# ---------------------------------------------------------------------------------------------

GITHUB_OIDC = "token.actions.githubusercontent.com"


def _trust_problems(statement: Mapping[str, Any], own: set[str]) -> list[str]:
    problems: list[str] = []
    if st.grants_everyone(statement) and not st.scoping_keys(statement):
        problems.append("lets any AWS principal (Principal \"*\") assume the role without an aws:PrincipalOrgID, "
                        "aws:PrincipalAccount or aws:PrincipalArn condition")
    if not st.has_condition(statement):
        foreign = [a for a in st.whole_accounts(statement) if a not in own]
        if foreign:
            whose = (f"outside this role's account {st.describe(sorted(own))}" if own
                     else "and the role's provider pins no allowedAccountIds to tell its own account")
            problems.append(f"trusts the whole account(s) {st.describe(foreign)} ({whose}) without a Condition: "
                            "every principal there allowed sts:AssumeRole could assume it")
    for federated in st.principals(statement, "Federated"):
        keys = [k.lower() for k in st.condition_keys(statement)]
        if not keys:
            problems.append(f"trusts the identity provider \"{federated}\" without a Condition: any identity it "
                            "issues a token to could assume the role")
        elif GITHUB_OIDC in federated and f"{GITHUB_OIDC}:sub" not in keys:
            problems.append(f"trusts GitHub OIDC without a `{GITHUB_OIDC}:sub` condition: any repository's "
                            "workflow could assume the role")
    return problems


def _check_role_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    doc = TICKED.policy_document(report, args.props, "assumeRolePolicy")
    if doc is None:
        return
    own = st.provider_accounts(args.provider)
    for i, statement in enumerate(statements(doc)):
        if not st.is_allow(statement):
            continue
        for problem in _trust_problems(statement, own):
            report(f"`assumeRolePolicy` {st.label(statement, i)} {problem}", None)


iam_role_trust = resource_policy(
    name="ob-iam-role-trust",
    description="Role trust policies name who may assume the role: never any principal, never a whole foreign "
                "account or an identity provider without a condition.",
    severity=Severity.CRITICAL,
    frameworks=[("Checkov", "CKV_AWS_60"), ("Checkov", "CKV_AWS_61"), ("Checkov", "CKV_AWS_393"),
                ("FSI Lens", "Security by Design: multi-account isolation")],
    resource_types=[ROLE],
    remediation=("In `assume_role_policy` of `aws.iam.Role` name the principal that assumes the role "
                 "(`{\"AWS\": \"arn:aws:iam::<account>:role/<name>\"}`, or a `Service` principal); when a whole "
                 "account must stay the principal, add a `Condition` such as `{\"ArnEquals\": "
                 "{\"aws:PrincipalArn\": role_arn}}` or `{\"StringEquals\": {\"sts:ExternalId\": ...}}`; "
                 "`Principal: \"*\"` needs `{\"StringEquals\": {\"aws:PrincipalOrgID\": org_id}}`; federated "
                 "(OIDC/SAML) principals need conditions on the token, for GitHub "
                 "`token.actions.githubusercontent.com:sub`."),
    check=_check_role_trust,
    nonprod_may_downgrade=False,
)


POLICIES = [iam_least_privilege, iam_role_trust]
