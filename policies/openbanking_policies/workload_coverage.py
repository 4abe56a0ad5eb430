"""Stack policies for the workload accounts: what one resource cannot show on its own.

- a secret that holds credentials has a rotation (the secret and its `SecretRotation` are separate resources);
- an Aurora/RDS cluster uses a cluster parameter group of the stack that forces TLS (the group is judged by
  `ob-rds-force-ssl`, the cluster's choice of group only here);
- a VPC endpoint service allows named principals only, whether listed inline or by
  `VpcEndpointServiceAllowedPrinciple` resources.

Props are outputs; resources are linked by ARN/name/id values. A link value unknown at preview makes a rule say
nothing about what it could link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from ._base import stack_policy
from ._links import ids, of_type, short
from ._props import PLAIN, UNKNOWN, get, is_true, is_unknown, items, parse_json
from .data import force_tls_parameter

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
ENDPOINT_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"
ENDPOINT_SERVICE_PRINCIPAL = "aws:ec2/vpcEndpointServiceAllowedPrinciple:VpcEndpointServiceAllowedPrinciple"


# ------------------------------------------------------------------------------------------------
# ob-secrets-rotation-coverage
# ------------------------------------------------------------------------------------------------

#: Words in a secret's name or description that say it holds a credential.
CREDENTIAL_NAME = re.compile(
    r"(password|passwd|pwd|credential|creds|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key|"
    r"client[-_]?secret|token|dsn|connection[-_]?string|master)", re.I)
#: Keys of a JSON secret value that hold a credential.
CREDENTIAL_KEY = re.compile(r"(password|passwd|pwd|secret|token|api[-_]?key|private[-_]?key|credential)", re.I)
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
CREDENTIAL_TAG = "lz:credential"


def _credential_in_value(raw: Any) -> str | None:
    """Why a secret string looks like a credential (None when it does not, or is unknown)."""
    if not isinstance(raw, str):
        return None
    if "-----BEGIN" in raw and "PRIVATE KEY-----" in raw:
        return "its SecretVersion holds a private key"
    if _URL_WITH_PASSWORD.search(raw):
        return "its SecretVersion holds a URL with a password"
    doc = parse_json(raw)
    if isinstance(doc, Mapping):
        keys = sorted(str(k) for k in doc if CREDENTIAL_KEY.search(str(k)))
        if keys:
            return f"its SecretVersion has the key(s) {PLAIN.show(keys)}"
    return None


def _why_credential(secret: PolicyResource, versions: list[PolicyResource], refs: set[str]) -> str | None:
    """Why the secret counts as holding credentials; None when nothing says so."""
    tags = get(secret.props, "tags")
    if isinstance(tags, Mapping) and is_true(get(tags, CREDENTIAL_TAG)):
        return f"it is tagged {CREDENTIAL_TAG}=true"
    for key in ("name", "namePrefix", "description"):
        v = get(secret.props, key)
        m = CREDENTIAL_NAME.search(v) if isinstance(v, str) else None
        if m:
            return f"its {key} mentions {m.group(1).lower()!r}"
    for version in versions:
        if get(version.props, "secretId") in refs:
            why = _credential_in_value(get(version.props, "secretString"))
            if why:
                return why
    return None


def _check_secrets_rotation(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    rotated: set[str] = set()
    for rotation in of_type(resources, SECRET_ROTATION):
        secret_id, enabled = get(rotation.props, "secretId"), get(rotation.props, "rotationEnabled")
        if is_unknown(secret_id) or is_unknown(enabled):
            return  # any secret could be the one it rotates
        if isinstance(secret_id, str) and enabled is not False:
            rotated.add(secret_id)
    versions = of_type(resources, SECRET_VERSION)
    for secret in of_type(resources, SECRET):
        refs = ids(secret, "name", "arn")
        if not refs or refs & rotated:
            continue
        why = _why_credential(secret, versions, refs)
        if why:
            report(f"{short(secret)} holds credentials ({why}) but no SecretRotation has a secretId naming it "
                   f"(its arn {PLAIN.show(get(secret.props, 'arn'))} or name); credentials must rotate "
                   "automatically.", secret.urn)


secrets_rotation_coverage = stack_policy(
    name="ob-secrets-rotation-coverage",
    description="Every Secrets Manager secret that holds credentials (by its name, description, tag "
                "lz:credential or value) has an automatic rotation.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "SecretsManager.1"), ("Checkov", "CKV2_AWS_57"), ("FSI Lens", "FSISEC09")],
    resource_types=[SECRET, SECRET_ROTATION, SECRET_VERSION],
    remediation="Add aws.secretsmanager.SecretRotation(secret_id=secret.id, rotation_lambda_arn=rotator.arn, "
                "rotation_rules={'automatically_after_days': 30}) for every aws.secretsmanager.Secret that holds "
                "a password, key or token; prefer credentials that need no secret at all (IAM database and "
                "cache authentication, RDS-managed master passwords).",
    check=_check_secrets_rotation,
)


# ------------------------------------------------------------------------------------------------
# ob-rds-force-ssl-coverage
# ------------------------------------------------------------------------------------------------


def _tls_gap(cluster: PolicyResource, groups: list[PolicyResource]) -> str | None:
    """Why the cluster's parameter group cannot be shown to force TLS; None when it does, or is unknown."""
    name = get(cluster.props, "dbClusterParameterGroupName")
    if is_unknown(name):
        return None
    if not isinstance(name, str) or not name or name.startswith("default."):
        return (f"dbClusterParameterGroupName is {PLAIN.show(name, 'the engine default group')}, an engine "
                "default group that does not force TLS")
    found = [g for g in groups if get(g.props, "name") == name]
    if any(is_unknown(get(g.props, "name")) for g in groups) and not found:
        return None
    if not found:
        return (f"dbClusterParameterGroupName is {name!r}, which no ClusterParameterGroup of the stack declares, "
                "so nothing shows it forces TLS")
    param, value, allowed = force_tls_parameter(found[0].props)
    if value is UNKNOWN or (value is not None and str(value) in allowed):
        return None
    return f"its ClusterParameterGroup {found[0].name!r} sets {param} to {PLAIN.show(value)}"


def _check_force_ssl_coverage(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = of_type(args.resources, CLUSTER_PARAMETER_GROUP)
    for cluster in of_type(args.resources, RDS_CLUSTER):
        engine = get(cluster.props, "engine")
        if not isinstance(engine, str) or not any(e in engine.lower() for e in ("postgres", "mysql")):
            continue
        gap = _tls_gap(cluster, groups)
        if gap:
            report(f"{short(cluster)} (engine {engine!r}): {gap}; clients could connect without TLS.", cluster.urn)


rds_force_ssl_coverage = stack_policy(
    name="ob-rds-force-ssl-coverage",
    description="Every Aurora/RDS cluster uses a cluster parameter group of the stack that forces TLS.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "RDS.38"), ("Checkov", "CKV2_AWS_69"), ("FAPI", "2.0 TLS")],
    resource_types=[RDS_CLUSTER, CLUSTER_PARAMETER_GROUP],
    remediation="Create aws.rds.ClusterParameterGroup(family='aurora-postgresql16', parameters=[{'name': "
                "'rds.force_ssl', 'value': '1'}]) (aurora-mysql: require_secure_transport = ON) and set "
                "db_cluster_parameter_group_name=group.name on aws.rds.Cluster.",
    check=_check_force_ssl_coverage,
)


# ------------------------------------------------------------------------------------------------
# ob-endpoint-service
# ------------------------------------------------------------------------------------------------


def _check_endpoint_services(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    grants = of_type(resources, ENDPOINT_SERVICE_PRINCIPAL)
    for grant in grants:
        if get(grant.props, "principalArn") == "*":
            report(f"{short(grant)} has principalArn '*'; every AWS account could discover and connect to the "
                   f"endpoint service {PLAIN.show(get(grant.props, 'vpcEndpointServiceId'))}.", grant.urn)
    grant_ids = [get(g.props, "vpcEndpointServiceId") for g in grants]
    maybe_granted = any(is_unknown(i) for i in grant_ids)
    for service in of_type(resources, ENDPOINT_SERVICE):
        inline = [p for p in items(get(service.props, "allowedPrincipals"))]
        if "*" in inline:
            report(f"{short(service)} has allowedPrincipals {PLAIN.show(inline)}; '*' lets every AWS account "
                   "discover and connect to the service.", service.urn)
            continue
        refs = ids(service, "serviceName", "arn")
        acceptance = get(service.props, "acceptanceRequired")
        if refs is None or is_unknown(acceptance) or any(is_unknown(p) for p in inline) or is_true(acceptance):
            continue
        named = inline or [g for g, i in zip(grants, grant_ids, strict=True) if isinstance(i, str) and i in refs]
        if not named and not maybe_granted:
            report(f"{short(service)} has acceptanceRequired {PLAIN.show(acceptance)} and no allowed principal "
                   "(allowedPrincipals, or a VpcEndpointServiceAllowedPrinciple whose vpcEndpointServiceId equals "
                   "its id); require acceptance or name the consumer accounts.", service.urn)


endpoint_service = stack_policy(
    name="ob-endpoint-service",
    description="VPC endpoint services never allow '*' and either require acceptance or name the principals "
                "allowed to connect.",
    severity=Severity.CRITICAL,
    frameworks=[("Checkov", "CKV_AWS_123"), ("FSI Lens", "Security by Design: multi-account isolation")],
    resource_types=[ENDPOINT_SERVICE, ENDPOINT_SERVICE_PRINCIPAL],
    remediation="On aws.ec2.VpcEndpointService set acceptance_required=True or allowed_principals="
                "['arn:aws:iam::<api account>:root'] (or one aws.ec2.VpcEndpointServiceAllowedPrinciple("
                "vpc_endpoint_service_id=service.id, principal_arn='arn:aws:iam::<api account>:root') per "
                "consumer account); never '*'.",
    check=_check_endpoint_services,
    nonprod_may_downgrade=False,
)


POLICIES: list = [secrets_rotation_coverage, rds_force_ssl_coverage, endpoint_service]
