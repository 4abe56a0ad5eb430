"""The IdP's public TLS certificate and the secret its servers read it from.

Keycloak terminates its third parties' TLS itself (RFC 8705 token binding needs the client certificate of its own
TLS session, so no load balancer may end the session first), and so needs the private key of `auth.<domain>`'s
certificate. The certificate is a public ACM certificate issued as *exportable* (RSA, since FAPI's TLS 1.2 suites
are ECDHE-RSA), validated by DNS and renewed by ACM; nobody types or copies a key:

- :attr:`IdpCertificate.validation_record_name` and `validation_record_value` are the CNAME ACM asks for: the
  public zone lives in the api account, so the environment writes it there (``components/identity_entry.py``); the
  validation here waits for it;
- the secret (customer key) is filled and kept current by the `idp_certificate` rotation function
  (`services/openbanking/lambdas/idp_certificate.py`): it exports the certificate from ACM, checks key, validity and
  host, and redeploys the Keycloak service when the certificate changed. The rotation is weekly, and runs once
  as soon as ACM has issued the certificate;
- only the Keycloak tasks' execution role and the rotation function may read the secret (:func:`only_readers`: its
  resource policy refuses everyone else in the account too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .lambda_function import LambdaFunction, LambdaFunctionArgs, LambdaNetwork

#: Days between rotations: a renewal ACM made reaches the servers within a week (ACM renews weeks before expiry).
ROTATION_DAYS = 7
#: The secret's JSON keys the servers read: the certificate with its chain, and the unencrypted PKCS#8 key.
CERTIFICATE_KEY, PRIVATE_KEY_KEY = "certificate", "privateKey"


@dataclass(frozen=True)
class IdpCertificateArgs:
    """The IdP's public host and what rotates its certificate into the secret."""

    #: The IdP's public host, e.g. "auth.prod.openbanking.example-bank.co.uk".
    hostname: str
    #: Name of the secret, e.g. "prod-identity/keycloak-tls".
    secret_name: str
    #: The account key: the secret and the function's environment and logs are encrypted with it.
    kms_key_arn: pulumi.Input[str]
    #: The account (the invoke permission's and the secret policy's condition).
    account_id: str
    #: The region of the clients the function makes.
    region: str
    #: The rotation function's archive (`make lambdas`: services/dist/idp_certificate.zip) and handler.
    archive_path: str
    #: Its handler string.
    handler: str
    #: Physical name of the rotation function.
    function_name: str
    #: Where the function runs (private subnets; its security group reaches the VPC's AWS API endpoints).
    network: LambdaNetwork
    #: The ECS cluster and service the function redeploys when the certificate changes (names, known up front).
    ecs_cluster_name: str
    #: The Keycloak service's name in that cluster.
    ecs_service_name: str
    #: Days the function's logs are kept.
    log_retention_days: int


class IdpCertificate(pulumi.ComponentResource):
    """Exportable ACM certificate, its validation, the secret, the rotation function and its rotation."""

    certificate: aws.acm.Certificate
    secret: aws.secretsmanager.Secret
    rotation: aws.secretsmanager.SecretRotation

    def __init__(self, name: str, args: IdpCertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:identity:IdpCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.certificate = aws.acm.Certificate(
            name, domain_name=args.hostname, validation_method="DNS", key_algorithm="RSA_2048",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED",
                                                   export="ENABLED"),
            opts=child)
        # The CNAME ACM asks for (the environment writes it in the public zone, in the api account).
        option = self.certificate.domain_validation_options.apply(
            lambda options: next(o for o in options if o.domain_name == args.hostname))
        #: Its name and value.
        self.validation_record_name: pulumi.Output[str] = option.apply(lambda o: str(o.resource_record_name))
        self.validation_record_value: pulumi.Output[str] = option.apply(lambda o: str(o.resource_record_value))
        validation = aws.acm.CertificateValidation(f"{name}-validation", certificate_arn=self.certificate.arn,
                                                   opts=child)

        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret", name=args.secret_name, kms_key_id=args.kms_key_arn, recovery_window_in_days=7,
            description=f"TLS certificate and key of {args.hostname} (from ACM, written by the rotation function)",
            tags={"lz:credential": "true"}, opts=child)
        self.function = LambdaFunction(f"{name}-rotation", LambdaFunctionArgs(
            function_name=args.function_name,
            description=f"exports the ACM certificate of {args.hostname} into its secret; redeploys Keycloak",
            handler=args.handler, archive_path=args.archive_path, account_id=args.account_id, region=args.region,
            memory_mb=256, timeout_seconds=60, kms_key_arn=args.kms_key_arn,
            log_retention_days=args.log_retention_days, network=args.network,
            environment={"OB_AWS_REGION": args.region, "OB_CERTIFICATE_ARN": self.certificate.arn,
                         "OB_TLS_HOSTNAME": args.hostname, "OB_ECS_CLUSTER": args.ecs_cluster_name,
                         "OB_ECS_SERVICE": args.ecs_service_name,
                         "POWERTOOLS_SERVICE_NAME": "ob-idp-certificate"},
            policy_statements=[
                {"Sid": "RotateTheSecret", "Effect": "Allow", "Resource": self.secret.arn,
                 "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                            "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]},
                {"Sid": "SecretKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                 "Resource": args.kms_key_arn,
                 "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{args.region}.amazonaws.com"}}},
                {"Sid": "ExportTheCertificate", "Effect": "Allow", "Action": "acm:ExportCertificate",
                 "Resource": self.certificate.arn},
                {"Sid": "RedeployKeycloak", "Effect": "Allow", "Action": "ecs:UpdateService",
                 "Resource": f"arn:aws:ecs:{args.region}:{args.account_id}:service/{args.ecs_cluster_name}/"
                             f"{args.ecs_service_name}"},
            ]), opts=child)
        invoke = aws.lambda_.Permission(
            f"{name}-rotation-invoke", action="lambda:InvokeFunction", function=self.function.name,
            principal="secretsmanager.amazonaws.com", source_arn=self.secret.arn, source_account=args.account_id,
            opts=pulumi.ResourceOptions(parent=self.function))
        # The first rotation runs when this is created: after ACM has issued the certificate.
        self.rotation = aws.secretsmanager.SecretRotation(
            f"{name}-secret-rotation", secret_id=self.secret.id, rotation_lambda_arn=self.function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(automatically_after_days=ROTATION_DAYS),
            rotate_immediately=True,
            opts=pulumi.ResourceOptions(parent=self.secret, depends_on=[validation, invoke]))

        self.certificate_arn = self.certificate.arn
        self.secret_arn = self.secret.arn
        #: The rotation function's role: with the servers' execution role, the only reader of the key.
        self.rotation_role_arn = self.function.role_arn
        self.register_outputs({"certificateArn": self.certificate_arn, "secretArn": self.secret_arn})


def only_readers(name: str, secret_arn: pulumi.Input[str], role_arns: Sequence[pulumi.Input[str]],
                 parent: pulumi.Resource) -> aws.secretsmanager.SecretPolicy:
    """The secret's resource policy: nobody but `role_arns` reads its value, not even an administrator of the account
    who does not assume one of them (made once the servers' role exists: they read the secret the rotation fills)."""
    readers = pulumi.Output.all(*role_arns).apply(lambda roles: sorted(set(roles)))
    return aws.secretsmanager.SecretPolicy(
        name, secret_arn=secret_arn, block_public_policy=True,
        policy=readers.apply(lambda roles: json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "OnlyItsServersAndItsRotationReadTheKey", "Effect": "Deny", "Principal": "*",
            "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": roles}}}]})),
        opts=pulumi.ResourceOptions(parent=parent))
