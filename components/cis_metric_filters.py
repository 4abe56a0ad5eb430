"""The CIS AWS Foundations Benchmark monitoring controls (section 4 of v1.4 / v3.0) as metric filters.

Each entry is a CloudWatch Logs filter pattern over CloudTrail events; the organization trail's log
group gets one metric filter and one alarm per entry. Key: metric name; value: (CIS control, pattern).
"""

from __future__ import annotations


def _any_event(*names: str) -> str:
    return " || ".join(f"($.eventName = {name})" for name in names)


CIS_METRIC_FILTERS: dict[str, tuple[str, str]] = {
    "UnauthorizedApiCalls": (
        "4.1",
        '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
        '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
    ),
    "ConsoleSignInWithoutMfa": (
        "4.2",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    ),
    "RootAccountUsage": (
        "4.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    ),
    "IamPolicyChanges": (
        "4.4",
        "{ ($.eventSource = iam.amazonaws.com) && (" + _any_event(
            "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
            "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
            "SetDefaultPolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
            "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy") + ") }",
    ),
    "CloudTrailConfigChanges": (
        "4.5",
        "{ " + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging") + " }",
    ),
    "ConsoleAuthenticationFailures": (
        "4.6",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    ),
    "CmkDisableOrScheduledDeletion": (
        "4.7",
        "{ ($.eventSource = kms.amazonaws.com) && (" + _any_event("DisableKey", "ScheduleKeyDeletion") + ") }",
    ),
    "S3BucketPolicyChanges": (
        "4.8",
        "{ ($.eventSource = s3.amazonaws.com) && (" + _any_event(
            "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
            "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication") + ") }",
    ),
    "ConfigChanges": (
        "4.9",
        "{ ($.eventSource = config.amazonaws.com) && (" + _any_event(
            "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
            "PutConfigurationRecorder") + ") }",
    ),
    "SecurityGroupChanges": (
        "4.10",
        "{ " + _any_event("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                          "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
                          "DeleteSecurityGroup") + " }",
    ),
    "NetworkAclChanges": (
        "4.11",
        "{ " + _any_event("CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
                          "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation") + " }",
    ),
    "NetworkGatewayChanges": (
        "4.12",
        "{ " + _any_event("CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                          "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway") + " }",
    ),
    "RouteTableChanges": (
        "4.13",
        "{ ($.eventSource = ec2.amazonaws.com) && (" + _any_event(
            "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
            "DeleteRoute", "DisassociateRouteTable") + ") }",
    ),
    "VpcChanges": (
        "4.14",
        "{ " + _any_event("CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                          "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
                          "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink",
                          "EnableVpcClassicLink") + " }",
    ),
    "OrganizationsChanges": (
        "4.15",
        "{ ($.eventSource = organizations.amazonaws.com) && (" + _any_event(
            '"AcceptHandshake"', '"AttachPolicy"', '"CreateAccount"', '"CreateOrganizationalUnit"', '"CreatePolicy"',
            '"DeclineHandshake"', '"DeleteOrganization"', '"DeleteOrganizationalUnit"', '"DeletePolicy"',
            '"DetachPolicy"', '"DisablePolicyType"', '"EnablePolicyType"', '"InviteAccountToOrganization"',
            '"LeaveOrganization"', '"MoveAccount"', '"RemoveAccountFromOrganization"', '"UpdatePolicy"',
            '"UpdateOrganizationalUnit"') + ") }",
    ),
}
