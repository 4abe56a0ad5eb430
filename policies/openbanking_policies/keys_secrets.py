"""KMS key and Secrets Manager rules."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from . import _statements as _st
from ._base import resource_policy
from ._props import (
    TICKED,
    UNKNOWN,
    get,
    number,
    statements,
)

KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"

MAX_ROTATION_DAYS = 365
MIN_DELETION_WINDOW_DAYS = 30
MAX_SECRET_ROTATION_DAYS = 90


# ---------------------------------------------------------------------------------------------
# ob-kms-rotation
# ---------------------------------------------------------------------------------------------


def _is_symmetric(args: ResourceValidationArgs) -> bool | None:
    """True for symmetric encryption keys; None when the spec is unknown at preview."""
    for key in ("keySpec", "customerMasterKeySpec"):
        spec = get(args.props, key)
        if spec is UNKNOWN:
            return None
        if spec is not None and spec != "SYMMETRIC_DEFAULT":
            return False
    return True


def _check_kms_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    symmetric = _is_symmetric(args)
    if symmetric:
        enabled = get(props, "enableKeyRotation")
        if enabled is not UNKNOWN and enabled is not True:
            shown = TICKED.show(enabled, "AWS default: false")
            report(f"`enableKeyRotation` is {shown}; symmetric keys must rotate automatically", None)
        period = number(get(props, "rotationPeriodInDays"))
        if period not in (None, UNKNOWN) and (not isinstance(period, float) or period > MAX_ROTATION_DAYS):
            report(f"`rotationPeriodInDays` is {TICKED.show(period)}; it must be at most {MAX_ROTATION_DAYS}", None)
    window = number(get(props, "deletionWindowInDays"))
    too_short = not isinstance(window, float) or window < MIN_DELETION_WINDOW_DAYS
    if window not in (None, UNKNOWN) and too_short:
        report(f"`deletionWindowInDays` is {TICKED.show(window)}; it must be at least {MIN_DELETION_WINDOW_DAYS} "
               "so an accidental deletion can be cancelled", None)


kms_rotation = resource_policy(
    name="ob-kms-rotation",
    description="Symmetric KMS keys rotate at least yearly and keep a 30-day deletion window.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "KMS.4"), ("FSBP", "KMS.3"), ("CIS", "3.6"), ("Checkov", "CKV_AWS_7"),
                ("FSI Lens", "FSISEC09")],
    resource_types=[KMS_KEY],
    remediation=("On `aws.kms.Key` set `enable_key_rotation=True`, `rotation_period_in_days=365` (or less) "
                 "and `deletion_window_in_days=30`."),
    check=_check_kms_rotation,
)


# ---------------------------------------------------------------------------------------------
# ob-kms-policy
# ---------------------------------------------------------------------------------------------


def _check_kms_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    doc = TICKED.policy_document(report, args.props, "policy")
    if doc is None:  # also when absent: the default key policy trusts only the account
        return
    for i, statement in enumerate(statements(doc)):
        if not (_st.is_allow(statement) and _st.grants_everyone(statement)) or _st.scoping_keys(statement):
            continue
        who = (f"NotPrincipal {TICKED.show(_st.field(statement, 'NotPrincipal'))} (everyone else)"
               if _st.field(statement, "NotPrincipal") is not None
               else f"Principal {TICKED.show(_st.field(statement, 'Principal'))}")
        if not _st.has_condition(statement):
            report(f"`policy` {_st.label(statement, i)} allows {who} without a Condition; anyone could use or "
                   "manage the key", None)
        else:
            keys = _st.condition_keys(statement)
            report(f"`policy` {_st.label(statement, i)} allows {who} with a Condition on {_st.describe(keys)} "
                   "only, which does not limit callers to the organization, an account or a source "
                   "(aws:PrincipalOrgID, kms:CallerAccount, aws:SourceAccount, ...); anyone could use the key",
                   None)


kms_policy = resource_policy(
    name="ob-kms-policy",
    description="KMS key policies never allow every principal without an organization, account or source "
                "condition.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "KMS.5"), ("Checkov", "CKV_AWS_33")],
    resource_types=[KMS_KEY, KMS_KEY_POLICY],
    remediation=("In the key `policy` JSON (`aws.kms.Key(policy=...)` or `aws.kms.KeyPolicy`) name specific "
                 "principals (account root, roles, service principals) or give every statement with "
                 "`\"Principal\": \"*\"` a `Condition` that limits the caller, such as "
                 "`{\"StringEquals\": {\"aws:PrincipalOrgID\": org_id}}` or "
                 "`{\"StringEquals\": {\"kms:CallerAccount\": account_id}}` (a `kms:ViaService` condition "
                 "alone is not enough)."),
    check=_check_kms_policy,
)


# ---------------------------------------------------------------------------------------------
# ob-secrets
# ---------------------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(day|days|hour|hours)\s*\)$")


def _check_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == SECRET:
        TICKED.require_cmk(report, props, "kmsKeyId", why=" (the default is aws/secretsmanager)")
        return
    days = number(get(props, "rotationRules", "automaticallyAfterDays"))
    if days is UNKNOWN:
        return
    if days is not None:
        if not isinstance(days, float) or days > MAX_SECRET_ROTATION_DAYS:
            report(f"`rotationRules.automaticallyAfterDays` is {TICKED.show(days)}; it must be at most "
                   f"{MAX_SECRET_ROTATION_DAYS}", None)
        return
    expr = get(props, "rotationRules", "scheduleExpression")
    if expr is UNKNOWN:
        return
    if expr is None:
        report("`rotationRules` sets neither `automaticallyAfterDays` nor `scheduleExpression`; "
               f"rotate at least every {MAX_SECRET_ROTATION_DAYS} days", None)
        return
    m = _RATE.match(str(expr).strip())
    if m and m.group(2).startswith("day") and int(m.group(1)) > MAX_SECRET_ROTATION_DAYS:
        report(f"`rotationRules.scheduleExpression` is {TICKED.show(expr)}; rotate at least every "
               f"{MAX_SECRET_ROTATION_DAYS} days", None)


secrets = resource_policy(
    name="ob-secrets",
    description="Secrets use a customer-managed KMS key and rotate at least every 90 days.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "SecretsManager.1"), ("FSBP", "SecretsManager.4"), ("Checkov", "CKV_AWS_149"),
                ("Checkov", "CKV_AWS_304")],
    resource_types=[SECRET, SECRET_ROTATION],
    remediation=("Set `kms_key_id=key.arn` on `aws.secretsmanager.Secret` and add an "
                 "`aws.secretsmanager.SecretRotation` with "
                 "`rotation_rules={\"automatically_after_days\": 30}` (90 at most)."),
    check=_check_secrets,
)


POLICIES = [kms_rotation, kms_policy, secrets]
