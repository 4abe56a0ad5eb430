"""Organization-wide detective controls, run from the delegated administrator (security) account.

GuardDuty (S3, RDS login, runtime monitoring, EBS malware protection) and Macie auto-enabled for every
member; Security Hub with the FSBP and CIS standards and one cross-region finding aggregator; an AWS
Config organization aggregator and conformance pack (the recorders come from each account's
baseline); an organization-wide IAM Access Analyzer. The caller passes the management account's
delegated-administrator registrations through `opts.depends_on`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import yaml

#: GuardDuty protection plans, each enabled on the detector and auto-enabled for every member.
GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING", "EBS_MALWARE_PROTECTION",
                      "LAMBDA_NETWORK_LOGS")
#: Runtime monitoring agents GuardDuty manages itself (Fargate tasks and EC2 instances).
RUNTIME_AGENTS = ("ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT")

#: AWS Config managed rules every account is evaluated against (the organization conformance pack).
CONFORMANCE_RULES: dict[str, str] = {
    "S3BucketSslRequestsOnly": "S3_BUCKET_SSL_REQUESTS_ONLY",
    "S3BucketPublicReadProhibited": "S3_BUCKET_PUBLIC_READ_PROHIBITED",
    "S3BucketPublicWriteProhibited": "S3_BUCKET_PUBLIC_WRITE_PROHIBITED",
    "S3DefaultEncryptionKms": "S3_DEFAULT_ENCRYPTION_KMS",
    "EncryptedVolumes": "ENCRYPTED_VOLUMES",
    "Ec2Imdsv2Check": "EC2_IMDSV2_CHECK",
    "RdsStorageEncrypted": "RDS_STORAGE_ENCRYPTED",
    "DynamodbPitrEnabled": "DYNAMODB_PITR_ENABLED",
    "VpcFlowLogsEnabled": "VPC_FLOW_LOGS_ENABLED",
    "VpcDefaultSecurityGroupClosed": "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
    "IamRootAccessKeyCheck": "IAM_ROOT_ACCESS_KEY_CHECK",
    "MfaEnabledForIamConsoleAccess": "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS",
    "KmsCmkNotScheduledForDeletion": "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
    "CmkBackingKeyRotationEnabled": "CMK_BACKING_KEY_ROTATION_ENABLED",
    "ApiGwSslEnabled": "API_GW_SSL_ENABLED",
    "OpensearchEncryptedAtRest": "OPENSEARCH_ENCRYPTED_AT_REST",
}


def standards_arns(region: str) -> dict[str, str]:
    return {
        "fsbp": f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
        "cis": f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
    }


def conformance_pack_template() -> str:
    resources = {name: {"Type": "AWS::Config::ConfigRule", "Properties": {
        "ConfigRuleName": f"lz-{name[0].lower()}{name[1:]}",
        "Source": {"Owner": "AWS", "SourceIdentifier": identifier}}}
        for name, identifier in CONFORMANCE_RULES.items()}
    return yaml.safe_dump({"Resources": resources}, sort_keys=True)


@dataclass(frozen=True)
class SecurityServicesArgs:
    """The delegated administrator account the organization's detective controls run from."""

    #: Prefix of physical names: the analyzer and the Config aggregator (`<prefix>-organization`)
    #: and the aggregator's role (`<prefix>-config-aggregator`).
    name_prefix: str
    #: The security account's id: the aggregator role trusts AWS Config on its behalf only.
    account_id: str
    #: The region, for the Security Hub standards' ARNs.
    region: str
    #: Enable Macie here and auto-enable it for every member; False: no Macie.
    macie: bool = True
    #: Enable GuardDuty EBS malware protection on the detector and every member; False:
    #: the other protection plans only.
    malware_protection: bool = True


class SecurityServices(pulumi.ComponentResource):
    """GuardDuty, Security Hub, Config aggregator and conformance pack, Macie, organization analyzer."""

    detector_id: pulumi.Output[str]

    def __init__(self, name: str, args: SecurityServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:security:SecurityServices", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._guardduty(name, args, child)
        self._security_hub(name, args, child)
        self._config(name, args, child)
        if args.macie:
            macie = aws.macie2.Account(f"{name}-macie", status="ENABLED",
                                       finding_publishing_frequency="FIFTEEN_MINUTES", opts=child)
            aws.macie2.OrganizationConfiguration(
                f"{name}-macie-organization", auto_enable=True,
                opts=pulumi.ResourceOptions(parent=macie, depends_on=[macie]))
        aws.accessanalyzer.Analyzer(
            f"{name}-organization-analyzer",
            analyzer_name=f"{args.name_prefix}-organization",
            type="ORGANIZATION",
            opts=child,
        )
        self.register_outputs({"detectorId": self.detector_id})

    def _guardduty(self, name: str, args: SecurityServicesArgs, child: pulumi.ResourceOptions) -> None:
        detector = aws.guardduty.Detector(f"{name}-guardduty", enable=True,
                                          finding_publishing_frequency="FIFTEEN_MINUTES", opts=child)
        self.detector_id = detector.id
        on_detector = pulumi.ResourceOptions(parent=detector)
        organization = aws.guardduty.OrganizationConfiguration(
            f"{name}-guardduty-organization", detector_id=detector.id, auto_enable_organization_members="ALL",
            opts=on_detector)
        features = [f for f in GUARDDUTY_FEATURES if args.malware_protection or f != "EBS_MALWARE_PROTECTION"]
        for feature in features:
            runtime = feature == "RUNTIME_MONITORING"
            aws.guardduty.DetectorFeature(
                f"{name}-guardduty-{feature.lower().replace('_', '-')}",
                detector_id=detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=[aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                    name=agent, status="ENABLED") for agent in RUNTIME_AGENTS] if runtime else None,
                opts=on_detector,
            )
            aws.guardduty.OrganizationConfigurationFeature(
                f"{name}-guardduty-organization-{feature.lower().replace('_', '-')}",
                detector_id=detector.id,
                name=feature,
                auto_enable="ALL",
                additional_configurations=[aws.guardduty.OrganizationConfigurationFeatureAdditionalConfigurationArgs(
                    name=agent, auto_enable="ALL") for agent in RUNTIME_AGENTS] if runtime else None,
                opts=pulumi.ResourceOptions(parent=detector, depends_on=[organization]),
            )

    def _security_hub(self, name: str, args: SecurityServicesArgs, child: pulumi.ResourceOptions) -> None:
        hub = aws.securityhub.Account(
            f"{name}-securityhub", enable_default_standards=False, auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL", opts=child)
        on_hub = pulumi.ResourceOptions(parent=hub, depends_on=[hub])
        for key, arn in standards_arns(args.region).items():
            aws.securityhub.StandardsSubscription(f"{name}-securityhub-{key}", standards_arn=arn, opts=on_hub)
        aggregator = aws.securityhub.FindingAggregator(
            f"{name}-securityhub-aggregator", linking_mode="ALL_REGIONS", opts=on_hub)
        aws.securityhub.OrganizationConfiguration(
            f"{name}-securityhub-organization",
            auto_enable=True,
            auto_enable_standards="DEFAULT",
            organization_configuration=aws.securityhub.OrganizationConfigurationOrganizationConfigurationArgs(
                configuration_type="LOCAL"),
            opts=pulumi.ResourceOptions(parent=hub, depends_on=[hub, aggregator]),
        )

    def _config(self, name: str, args: SecurityServicesArgs, child: pulumi.ResourceOptions) -> None:
        role = aws.iam.Role(
            f"{name}-config-aggregator",
            name=f"{args.name_prefix}-config-aggregator",
            description="AWS Config reads the organization's accounts for the aggregator",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}}}]}),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-config-aggregator",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations",
            opts=pulumi.ResourceOptions(parent=role),
        )
        aws.cfg.ConfigurationAggregator(
            f"{name}-config-aggregator",
            name=f"{args.name_prefix}-organization",
            organization_aggregation_source=aws.cfg.ConfigurationAggregatorOrganizationAggregationSourceArgs(
                role_arn=role.arn, all_regions=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        aws.cfg.OrganizationConformancePack(
            f"{name}-conformance-pack",
            name="lz-open-banking-baseline",
            template_body=conformance_pack_template(),
            opts=child,
        )
