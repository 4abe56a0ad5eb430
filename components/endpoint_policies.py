"""What may pass through a VPC endpoint: the organization's principals to the organization's resources, plus
the AWS-owned resources a VPC's workloads are known to need, each named.

Why: an endpoint without a policy gets AWS's default one, which lets any principal reach any resource of any
account. The S3 gateway route in particular bypasses the Network Firewall and the proxy allow-list, so with
the default policy a workload (or credentials from outside the organization used inside the VPC) could write
to any bucket in the world. The policy here is the data perimeter of AWS's data-perimeter examples:
`aws:PrincipalOrgID` for who calls, `aws:ResourceOrgID` for what they reach. AWS-owned resources belong to no
account of the organization, so each one a workload needs is allowed by name, in its own statement that says
why (docs/network.md, "VPC endpoint policies").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Account of the ECR repository GuardDuty publishes its Fargate runtime-monitoring agent in, per region (the
#: GuardDuty user guide, "ECR repository for GuardDuty agent on AWS Fargate (Amazon ECS only)").
GUARDDUTY_FARGATE_AGENT_ACCOUNTS: dict[str, str] = {
    "af-south-1": "197869348890", "ap-east-1": "258348409381", "ap-east-2": "259886477082",
    "ap-northeast-1": "533107202818", "ap-northeast-2": "914738172881", "ap-northeast-3": "273192626886",
    "ap-south-1": "251508486986", "ap-south-2": "950823858135", "ap-southeast-1": "174946120834",
    "ap-southeast-2": "005257825471", "ap-southeast-3": "510637619217", "ap-southeast-4": "251357961535",
    "ap-southeast-5": "156041399949", "ap-southeast-7": "054037130133", "ca-central-1": "354763396469",
    "ca-west-1": "339712888787", "eu-central-1": "323658145986", "eu-central-2": "529164026651",
    "eu-north-1": "591436053604", "eu-south-1": "266869475730", "eu-south-2": "919611009337",
    "eu-west-1": "694911143906", "eu-west-2": "892757235363", "eu-west-3": "665651866788",
    "il-central-1": "870907303882", "me-central-1": "000014521398", "me-south-1": "536382113932",
    "mx-central-1": "311141559934", "sa-east-1": "758426053663", "us-east-1": "593207742271",
    "us-east-2": "307168627858", "us-west-1": "684579721401", "us-west-2": "733349766148",
}


@dataclass(frozen=True)
class AwsOwnedAccess:
    """AWS-owned resources a VPC's workloads reach through the endpoints of some services, and why."""

    #: The statement's Sid, e.g. "EcrImageLayers".
    sid: str
    #: The endpoint services (the last part of `com.amazonaws.<region>.<service>`) whose policy allows it.
    services: tuple[str, ...]
    #: The actions allowed on these resources only.
    actions: tuple[str, ...]
    #: The resources' ARNs, with `{region}` for the region and `{guardduty_account}` for GuardDuty's agent
    #: repository account in that region (a template needing an account the region lacks is left out).
    resources: tuple[str, ...]
    #: True: the callers are the organization's principals, so the statement also requires
    #: `aws:PrincipalOrgID`. False: the request is anonymous or signed by AWS itself (a presigned URL), so
    #: only the named resources narrow it.
    organization_callers: bool
    #: Who needs it, and how they reach it (docs/network.md lists these).
    why: str

    def arns(self, region: str) -> list[str]:
        """The resource ARNs in `region`; empty when the service publishes nothing there."""
        account = GUARDDUTY_FARGATE_AGENT_ACCOUNTS.get(region)
        return [r.format(region=region, guardduty_account=account) for r in self.resources
                if account is not None or "{guardduty_account}" not in r]


#: ECR keeps image layers in an AWS bucket and hands them out by presigned URLs signed by ECR's own account.
ECR_IMAGE_LAYERS = AwsOwnedAccess(
    sid="EcrImageLayers", services=("s3",), actions=("s3:GetObject",),
    resources=("arn:aws:s3:::prod-{region}-starport-layer-bucket/*",), organization_callers=False,
    why="Fargate pulls every image's layers from ECR's layer bucket (presigned by ECR) through the S3 gateway")

#: GuardDuty Runtime Monitoring (ECS_FARGATE_AGENT_MANAGEMENT, security account) adds its agent as a sidecar
#: to every Fargate task; the task execution role pulls it from GuardDuty's repository.
GUARDDUTY_FARGATE_AGENT = AwsOwnedAccess(
    sid="GuardDutyFargateAgent", services=("ecr.api", "ecr.dkr"),
    actions=("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
    resources=("arn:aws:ecr:{region}:{guardduty_account}:repository/aws-guardduty-agent-fargate",),
    organization_callers=True,
    why="GuardDuty runtime monitoring's sidecar in every Fargate task, pulled by the task execution role")

#: dnf on Amazon Linux 2023 reads its repositories from this AWS bucket, unauthenticated.
AMAZON_LINUX_REPOSITORIES = AwsOwnedAccess(
    sid="AmazonLinuxRepositories", services=("s3",), actions=("s3:GetObject",),
    resources=("arn:aws:s3:::al2023-repos-{region}-de612dc2/*",), organization_callers=False,
    why="the Squid hosts install and update Squid with dnf from the Amazon Linux 2023 repositories")

#: The SSM Agent's own downloads (agent updates, Distributor packages such as GuardDuty's EC2 runtime agent,
#: document attachments), read unauthenticated from AWS buckets; the Windows and Patch Manager buckets are
#: left out (Linux hosts, replaced instead of patched).
SSM_AGENT_BUCKETS = AwsOwnedAccess(
    sid="SsmAgentBuckets", services=("s3",), actions=("s3:GetObject",),
    resources=("arn:aws:s3:::aws-ssm-{region}/*", "arn:aws:s3:::amazon-ssm-{region}/*",
               "arn:aws:s3:::amazon-ssm-packages-{region}/*", "arn:aws:s3:::{region}-birdwatcher-prod/*",
               "arn:aws:s3:::aws-ssm-distributor-file-{region}/*",
               "arn:aws:s3:::aws-ssm-document-attachments-{region}/*"),
    organization_callers=False,
    why="the SSM Agent on the Squid hosts updates itself and installs Distributor packages "
        "(GuardDuty's EC2 runtime agent) from AWS's SSM buckets")

#: AWS-owned SSM documents have no account, so aws:ResourceOrgID cannot admit them.
AWS_SSM_DOCUMENTS = AwsOwnedAccess(
    sid="AwsSsmDocuments", services=("ssm",), actions=("ssm:GetDocument", "ssm:DescribeDocument"),
    resources=("arn:aws:ssm:{region}::document/*",), organization_callers=True,
    why="the SSM Agent on the Squid hosts runs AWS-owned documents (Session Manager's shell, GuardDuty's "
        "runtime-agent association)")

#: What container workloads on Fargate (every spoke VPC) reach besides the organization.
CONTAINER_WORKLOADS: tuple[AwsOwnedAccess, ...] = (ECR_IMAGE_LAYERS, GUARDDUTY_FARGATE_AGENT)
#: What the Squid hosts of the egress VPC's services subnets reach besides the organization.
PROXY_HOSTS: tuple[AwsOwnedAccess, ...] = (AMAZON_LINUX_REPOSITORIES, SSM_AGENT_BUCKETS, AWS_SSM_DOCUMENTS)


def endpoint_policy(service: str, region: str, organization_id: str,
                    aws_owned: Sequence[AwsOwnedAccess] = ()) -> str:
    """The policy of the endpoint of `service` (e.g. "s3", "ecr.dkr"): principals of the organization to
    resources of the organization, then each AWS-owned access of `aws_owned` that passes through `service`."""
    org = {"aws:PrincipalOrgID": organization_id}
    statements: list[dict[str, Any]] = [{
        "Sid": "OrganizationPrincipalsToOrganizationResources",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {**org, "aws:ResourceOrgID": organization_id}},
    }]
    for access in aws_owned:
        arns = access.arns(region)
        if service not in access.services or not arns:
            continue
        statements.append({
            "Sid": access.sid,
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(access.actions),
            "Resource": arns,
            **({"Condition": {"StringEquals": org}} if access.organization_callers else {}),
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
