"""Compute rules: ECS tasks, services and clusters, Lambda functions, ECR repositories, load balancers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import (
    PLAIN,
    contains_unknown,
    get,
    has,
    is_aws_managed_key,
    is_true,
    is_unknown,
    items,
    parse_json,
)

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
LB_LISTENER = "aws:lb/listener:Listener"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
EBS_VOLUME = "aws:ebs/volume:Volume"
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


# ------------------------------------------------------------------------------------------------
# ob-ecs-task
# ------------------------------------------------------------------------------------------------

# FSBP ECS.8 names these; the pattern catches the usual secret-looking variable names.
_CREDENTIAL_VARS = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"})
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
#: Names that say the value points at something rather than being it (an OAuth issuer is the IdP's URL).
_REFERENCE_SUFFIX = re.compile(r"_(ARN|NAME|ID|REF|PATH|URL|URI|ISSUER)$", re.I)


def _secretish(name: str) -> bool:
    if name.upper() in _CREDENTIAL_VARS:
        return True
    return bool(_SECRET_NAME.search(name)) and not _REFERENCE_SUFFIX.search(name)


_ROOT_USERS = frozenset({"0", "root"})


def _runs_as_root(user: Any) -> bool:
    """True when a container `user` ("uid", "uid:gid", "name", "name:group") is absent or names root."""
    if not isinstance(user, str | int) or str(user).strip() == "":
        return True
    return str(user).strip().split(":", 1)[0] in _ROOT_USERS


def _check_container(report: ReportViolation, c: Mapping[str, Any], i: int, linux: bool) -> None:
    where = f"containerDefinitions[{i}] ({c.get('name', '?')})"
    if is_true(c.get("privileged")):
        report(f"{where}.privileged is true; containers must not run privileged.", None)
    if linux and _runs_as_root(c.get("user")):
        shown = PLAIN.show(c.get("user"), "the image's USER, root unless the image sets one")
        report(f"{where}.user is {shown}; containers must run as a non-root user (a non-zero uid).", None)
    if not is_true(c.get("readonlyRootFilesystem")):
        report(f"{where}.readonlyRootFilesystem is {PLAIN.show(c.get('readonlyRootFilesystem'))}; "
               "it must be true.", None)
    if not c.get("logConfiguration"):
        report(f"{where}.logConfiguration is absent; container logs must go to a log driver "
               "(awslogs/firelens).", None)
    env = c.get("environment") or []
    bad = [e.get("name") for e in env if isinstance(e, Mapping) and isinstance(e.get("name"), str)
           and _secretish(e["name"])]
    if bad:
        report(f"{where}.environment sets {', '.join(map(repr, bad))} in plain text; pass credentials "
               "through 'secrets' (Secrets Manager / SSM valueFrom).", None)


def _check_ecs_task(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    pid = get(props, "pidMode")
    if pid == "host":
        report("pidMode is 'host'; tasks must not share the host's process namespace.", None)
    if get(props, "networkMode") == "host":
        report("networkMode is 'host'; tasks must not share the host's network namespace (use 'awsvpc').", None)
    family = get(props, "runtimePlatform", "operatingSystemFamily")
    linux = not (isinstance(family, str) and family.upper().startswith("WINDOWS")) and not is_unknown(family)
    raw = get(props, "containerDefinitions")
    if is_unknown(raw):
        return
    containers = parse_json(raw)
    if containers is None:
        report(f"containerDefinitions is {PLAIN.show(raw)}; it must be a JSON list of container definitions.", None)
        return
    if contains_unknown(containers):
        return
    if isinstance(containers, Mapping):
        containers = [containers]
    for i, c in enumerate(containers):
        if isinstance(c, Mapping):
            _check_container(report, c, i, linux)


ecs_task = resource_policy(
    name="ob-ecs-task",
    description="ECS task definitions must run unprivileged, non-root containers with read-only root "
                "filesystems, log configuration, no plain-text credentials and no host PID or network namespace.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "ECS.3"), ("FSBP", "ECS.4"), ("FSBP", "ECS.5"), ("FSBP", "ECS.8"), ("FSBP", "ECS.9"),
                ("FSBP", "ECS.17"), ("FSBP", "ECS.20"), ("Checkov", "CKV_AWS_334"), ("Checkov", "CKV_AWS_335"),
                ("Checkov", "CKV_AWS_336")],
    resource_types=[TASK_DEFINITION],
    remediation="In aws.ecs.TaskDefinition container_definitions=json.dumps([...]) give each container "
                "'user': '1000:1000' (the Dockerfile's non-root uid, never 0 or root), "
                "'readonlyRootFilesystem': True, 'privileged': False, 'logConfiguration': {'logDriver': "
                "'awslogs', ...} and move credentials from 'environment' to 'secrets' "
                "([{'name': ..., 'valueFrom': secret.arn}]); leave pid_mode unset and use "
                "network_mode='awsvpc'.",
    check=_check_ecs_task,
)


# ------------------------------------------------------------------------------------------------
# ob-ecs-service
# ------------------------------------------------------------------------------------------------


def _check_ecs_service(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    public = get(props, "networkConfiguration", "assignPublicIp")
    if is_true(public):
        report("networkConfiguration.assignPublicIp is true; services must run in private subnets.", None)
    PLAIN.require_not_true(report, props, "enableExecuteCommand",
                           why="; ECS Exec opens an interactive shell into running tasks (customer data, task "
                               "role credentials)")
    version = get(props, "platformVersion")
    launch = get(props, "launchType")
    if (isinstance(version, str) and version != "LATEST" and launch != "EC2"
            and not is_unknown(launch)):
        report(f"platformVersion is {version!r}; Fargate services must use 'LATEST'.", None)


ecs_service = resource_policy(
    name="ob-ecs-service",
    description="ECS services must not assign public IPs, must keep ECS Exec off and Fargate services must run "
                "the latest platform version.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "ECS.2"), ("FSBP", "ECS.10"), ("Checkov", "CKV_AWS_333"),
                ("Checkov", "CKV_AWS_332"), ("AWS", "ECS Exec: interactive access to running tasks")],
    resource_types=[ECS_SERVICE],
    remediation="On aws.ecs.Service set network_configuration={'subnets': private_subnet_ids, "
                "'assign_public_ip': False, 'security_groups': [...]}, enable_execute_command=False (or leave "
                "it unset) and platform_version='LATEST' (or leave it unset).",
    check=_check_ecs_service,
)


# ------------------------------------------------------------------------------------------------
# ob-lambda-hardening
# ------------------------------------------------------------------------------------------------

_RUNTIME_MIN = {  # family -> minimum supported major/minor
    "python3.": 11,
    "nodejs": 20,
    "java": 17,
    "dotnet": 8,
    "ruby3.": 3,
}
_PROVIDED_OK = frozenset({"provided.al2", "provided.al2023"})


def supported_runtime(runtime: str) -> bool:
    if runtime in _PROVIDED_OK:
        return True
    m = re.fullmatch(r"(python3\.|nodejs|java|dotnet|ruby3\.)(\d+)(\.x|\.al2)?", runtime)
    if not m or m.group(3) == ".al2":  # java8.al2 etc. are end-of-life
        return False
    family, version = m.group(1), int(m.group(2))
    if family == "nodejs" and m.group(3) != ".x":
        return False
    return version >= _RUNTIME_MIN[family]


def _check_lambda(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    subnets = get(props, "vpcConfig", "subnetIds")
    if not is_unknown(subnets) and not items(subnets):
        report("vpcConfig.subnetIds is absent; functions must run inside the VPC.", None)
    mode = get(props, "tracingConfig", "mode")
    if not is_unknown(mode) and mode != "Active":
        shown = PLAIN.show(mode, "PassThrough")
        report(f"tracingConfig.mode is {shown}; it must be 'Active'.", None)
    variables = get(props, "environment", "variables")
    has_vars = variables is not None and (is_unknown(variables) or len(variables) > 0)
    if has_vars and not has(props, "kmsKeyArn"):
        report("kmsKeyArn is absent while environment.variables is set; encrypt environment variables "
               "with a customer managed key.", None)
    runtime = get(props, "runtime")
    if isinstance(runtime, str) and not supported_runtime(runtime):
        report(f"runtime is {runtime!r}; it is deprecated or end-of-life (use python3.11+, nodejs20.x+, "
               "java17+, provided.al2023).", None)


lambda_hardening = resource_policy(
    name="ob-lambda-hardening",
    description="Lambda functions must run in the VPC with active X-Ray tracing, CMK-encrypted environment "
                "variables and a supported runtime.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "Lambda.2"), ("FSBP", "Lambda.3"), ("Checkov", "CKV_AWS_50"),
                ("Checkov", "CKV_AWS_117"), ("Checkov", "CKV_AWS_173"), ("Checkov", "CKV_AWS_363")],
    resource_types=[LAMBDA_FUNCTION],
    remediation="On aws.lambda_.Function set vpc_config={'subnet_ids': private_subnet_ids, "
                "'security_group_ids': [...]}, tracing_config={'mode': 'Active'}, kms_key_arn=key.arn when "
                "environment is used, and runtime='python3.12' (or another supported runtime).",
    check=_check_lambda,
)


# ------------------------------------------------------------------------------------------------
# ob-ecr
# ------------------------------------------------------------------------------------------------


def _check_ecr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    mutability = get(props, "imageTagMutability")
    if not is_unknown(mutability) and mutability != "IMMUTABLE":
        shown = PLAIN.show(mutability, "MUTABLE")
        report(f"imageTagMutability is {shown}; it must be 'IMMUTABLE'.", None)
    PLAIN.require_true(report, props, "imageScanningConfiguration", "scanOnPush")
    enc = get(props, "encryptionConfigurations")
    if is_unknown(enc):
        return
    configs = items(enc)
    enc_type = get(configs[0], "encryptionType") if configs else None
    if not is_unknown(enc_type) and enc_type not in ("KMS", "KMS_DSSE"):
        shown = PLAIN.show(enc_type, "AES256")
        report(f"encryptionConfigurations[0].encryptionType is {shown}; it must be 'KMS' with a kmsKey.",
               None)
    elif configs and not is_unknown(configs[0]) and not has(configs[0], "kmsKey"):
        report("encryptionConfigurations[0].kmsKey is absent; use a customer managed KMS key.", None)


ecr = resource_policy(
    name="ob-ecr",
    description="ECR repositories must have immutable tags, scan on push and KMS encryption with a CMK.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "ECR.1"), ("FSBP", "ECR.2"), ("Checkov", "CKV_AWS_51"), ("Checkov", "CKV_AWS_136"),
                ("Checkov", "CKV_AWS_163")],
    resource_types=[ECR_REPOSITORY],
    remediation="On aws.ecr.Repository set image_tag_mutability='IMMUTABLE', "
                "image_scanning_configuration={'scan_on_push': True} and "
                "encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': key.arn}].",
    check=_check_ecr,
)


# ------------------------------------------------------------------------------------------------
# ob-lb
# ------------------------------------------------------------------------------------------------

_LB_TLS_POLICY = re.compile(
    r"^ELBSecurityPolicy-(TLS13-1-[23]-(Res-)?(PQ-)?\d{4}-\d{2}|FS-1-2-Res-\d{4}-\d{2})$")


def _is_https_redirect(action: Any) -> bool:
    if get(action, "type") != "redirect":
        return False
    return get(action, "redirect", "protocol") == "HTTPS"


def _check_listener(props: Any, report: ReportViolation) -> None:
    protocol = get(props, "protocol")
    if is_unknown(protocol):
        return
    protocol = protocol or "HTTP"
    if protocol in ("HTTPS", "TLS"):
        policy = get(props, "sslPolicy")
        if not is_unknown(policy) and not (isinstance(policy, str) and _LB_TLS_POLICY.match(policy)):
            shown = PLAIN.show(policy, "ELBSecurityPolicy-2016-08")
            report(f"sslPolicy is {shown}; it must be 'ELBSecurityPolicy-TLS13-1-2-2021-06' or "
                   "'ELBSecurityPolicy-FS-1-2-Res-2020-10'.", None)
    elif protocol == "HTTP":
        actions = items(get(props, "defaultActions"))
        if any(is_unknown(a) for a in actions):
            return
        if not actions or not all(_is_https_redirect(a) for a in actions):
            types = [get(a, "type") for a in actions]
            report(f"protocol is 'HTTP' with defaultActions types {PLAIN.show(types)}; plain HTTP listeners may "
                   "only redirect to HTTPS.", None)


def _check_load_balancer(props: Any, report: ReportViolation) -> None:
    lb_type = get(props, "loadBalancerType") or "application"
    if lb_type == "application":
        PLAIN.require_true(report, props, "dropInvalidHeaderFields")
    PLAIN.require_true(report, props, "enableDeletionProtection")
    logs = get(props, "accessLogs")
    if is_unknown(logs):
        return
    if logs is None:
        report("accessLogs is absent; access logs must be delivered to S3 (enabled=True, bucket set).", None)
        return
    PLAIN.require_true(report, props, "accessLogs", "enabled", why=" (the AWS default is false)")
    PLAIN.require_set(report, props, "accessLogs", "bucket")


def _check_lb(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == LB_LISTENER:
        _check_listener(args.props, report)
    else:
        _check_load_balancer(args.props, report)


lb = resource_policy(
    name="ob-lb",
    description="Load balancers must use modern TLS policies, redirect HTTP to HTTPS, drop invalid headers, "
                "enable deletion protection and write access logs.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "ELB.1"), ("FSBP", "ELB.4"), ("FSBP", "ELB.5"), ("FSBP", "ELB.6"),
                ("Checkov", "CKV_AWS_103"), ("Checkov", "CKV_AWS_131"), ("Checkov", "CKV_AWS_150"),
                ("AWSGuard", "elb-tls")],
    resource_types=[LB_LISTENER, LOAD_BALANCER],
    remediation="On aws.lb.Listener (HTTPS) set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06'; HTTP "
                "listeners use default_actions=[{'type': 'redirect', 'redirect': {'protocol': 'HTTPS', "
                "'port': '443', 'status_code': 'HTTP_301'}}]; on aws.lb.LoadBalancer set "
                "drop_invalid_header_fields=True, enable_deletion_protection=True and "
                "access_logs={'bucket': logs.bucket, 'enabled': True}.",
    check=_check_lb,
)


# ------------------------------------------------------------------------------------------------
# ob-ecs-cluster
# ------------------------------------------------------------------------------------------------


def _check_ecs_cluster(args: ResourceValidationArgs, report: ReportViolation) -> None:
    settings = get(args.props, "settings")
    if is_unknown(settings):
        return
    insights = None
    for s in items(settings):
        if is_unknown(s):
            return
        if get(s, "name") == "containerInsights":
            insights = get(s, "value")
    if is_unknown(insights):
        return
    if insights not in ("enabled", "enhanced"):
        shown = PLAIN.show(insights, "disabled")
        report(f"settings containerInsights is {shown}; it must be 'enabled' or 'enhanced'.", None)


ecs_cluster = resource_policy(
    name="ob-ecs-cluster",
    description="ECS clusters must have Container Insights enabled.",
    severity=Severity.LOW,
    frameworks=[("FSBP", "ECS.12"), ("Checkov", "CKV_AWS_65")],
    resource_types=[ECS_CLUSTER],
    remediation="On aws.ecs.Cluster set settings=[{'name': 'containerInsights', 'value': 'enhanced'}].",
    check=_check_ecs_cluster,
)


# ------------------------------------------------------------------------------------------------
# ob-ebs-encryption
# ------------------------------------------------------------------------------------------------


def _check_block_device(report: ReportViolation, device: Any, where: str) -> None:
    """One EBS block device (instance root/ebs device, launch-template mapping's ebs block, or a volume)."""
    if is_unknown(device):
        return
    encrypted = get(device, "encrypted")
    if not is_unknown(encrypted) and not is_true(encrypted):
        report(f"{where}encrypted is {PLAIN.show(encrypted, 'AWS default: false')}; EBS volumes must be "
               "encrypted.", None)
    key = get(device, "kmsKeyId")
    if is_aws_managed_key(key):
        report(f"{where}kmsKeyId is {key!r}, an AWS-managed key; use the account's customer managed key.", None)


def _check_ebs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    t = args.resource_type
    if t == EBS_VOLUME:
        if get(props, "snapshotId") is not None and get(props, "encrypted") is None:
            return  # a volume restored from a snapshot inherits the snapshot's encryption
        _check_block_device(report, props, "")
    elif t == EC2_INSTANCE:
        root = get(props, "rootBlockDevice")
        if root is None and get(props, "launchTemplate") is None:
            report("rootBlockDevice is absent, so the root volume is encrypted only if the AMI's snapshot is; set "
                   "root_block_device={'encrypted': True}.", None)
        elif root is not None:
            _check_block_device(report, root, "rootBlockDevice.")
        for i, device in enumerate(items(get(props, "ebsBlockDevices"))):
            _check_block_device(report, device, f"ebsBlockDevices[{i}].")
    else:
        for i, mapping in enumerate(items(get(props, "blockDeviceMappings"))):
            ebs = get(mapping, "ebs")
            if ebs is not None:
                _check_block_device(report, ebs, f"blockDeviceMappings[{i}].ebs.")


ebs_encryption = resource_policy(
    name="ob-ebs-encryption",
    description="EBS volumes, instance block devices and launch-template block device mappings are encrypted.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "EC2.3"), ("Checkov", "CKV_AWS_3"), ("Checkov", "CKV_AWS_8"),
                ("Checkov", "CKV_AWS_189"), ("FSI Lens", "FSISEC09")],
    resource_types=[EBS_VOLUME, EC2_INSTANCE, LAUNCH_TEMPLATE],
    remediation="Set encrypted=True (and kms_key_id=key.arn, never alias/aws/ebs) on aws.ebs.Volume, "
                "root_block_device={'encrypted': True} and every ebs_block_devices entry's encrypted=True on "
                "aws.ec2.Instance, and block_device_mappings=[{'device_name': ..., 'ebs': {'encrypted': 'true', "
                "'kms_key_id': key.arn}}] on aws.ec2.LaunchTemplate.",
    check=_check_ebs,
)


POLICIES: list = [
    ecs_task,
    ecs_service,
    lambda_hardening,
    ecr,
    lb,
    ecs_cluster,
    ebs_encryption,
]
