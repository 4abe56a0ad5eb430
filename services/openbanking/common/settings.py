"""Service settings from environment variables (prefix `OB_`), validated once at start-up.

The workload accounts' task definitions and Lambda functions set these; the local sandbox and the tests set them
too. Nothing reads `os.environ` anywhere else.

Defaults suit the local sandbox. A field whose default is *only* good locally (a database on 127.0.0.1, the sample
issuer, no signing key, ...) carries :class:`Deployed` in its metadata: a deployed account must set it for every
deployable that uses what it configures. :func:`openbanking.settings_contract.required_variables` derives the
variables each deployable needs from exactly these markers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Deployed:
    """Field metadata: the default only suits local development, a deployed account sets this variable.

    `when` names a :class:`~openbanking.deployables.Deployable` attribute (e.g. `uses_ledger`): the variable is
    required for the deployables where it is true, or for every deployable that reads the settings class when
    None. `feed` limits it to one core-banking feed (`msk` or `rabbitmq`). `secret` says the value must come from
    Secrets Manager (ECS `secrets`), never from a plain environment value.
    """

    when: str | None = None
    feed: Literal["msk", "rabbitmq"] | None = None
    secret: bool = False


class AuthMode(StrEnum):
    """Where the caller's identity comes from.

    - `gateway`: API Gateway's Lambda authorizer has verified the certificate and token and passes
      its verdict in `x-ob-*` integration headers; the service is reachable only through PrivateLink
      from the API account, and the integration overwrites any client-sent header of the same name.
    - `local`: the service verifies the bearer token and the client certificate itself (the developer
      sandbox, where no API Gateway stands in front).
    """

    GATEWAY = "gateway"
    LOCAL = "local"


class EventPublishing(StrEnum):
    """How a service raises OBIE events.

    - `outbox`: it does not publish; its status changes are the events. The consents and payments tables' streams
      feed the `outbox_relay` Lambda, which puts them on the event bus for the `event_router` (deployed accounts).
    - `direct`: an in-process `EventPublisher` stores and queues the event after the write, best effort (the local
      sandbox, which passes its publisher to the apps).
    """

    OUTBOX = "outbox"
    DIRECT = "direct"


SslMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]

#: Where the service images keep the Amazon RDS certificate authorities (see services/README.md).
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_", extra="ignore", frozen=True)

    environment: Annotated[str, Deployed()] = Field(
        default="local", description="environment name (cache namespace, logs); only `local` may sign with an "
                                     "ephemeral key or accept http callbacks")
    aws_region: Annotated[str, Deployed()] = Field(default="eu-west-2", description="the region of every AWS client")
    request_metrics: Annotated[bool, Deployed("serves_http")] = Field(
        default=False, description="write each request's count, 5xx and latency as a CloudWatch embedded-metric line "
                                   "(the workload accounts' alarms watch them)")
    dynamodb_endpoint_url: str | None = Field(default=None, description="a local DynamoDB (moto) endpoint")
    sqs_endpoint_url: str | None = Field(default=None, description="a local SQS (moto) endpoint")
    table_prefix: Annotated[str, Deployed("uses_tables")] = Field(
        default="ob-", description="prefix of the DynamoDB table names (`<prefix><TABLES suffix>`)")

    # --- the ledger database -------------------------------------------------------------------------------------
    database_url: str = Field(default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                              description="a local ledger database (SQLAlchemy URL); ignored when "
                                          "OB_DATABASE_HOST is set")
    database_host: Annotated[str | None, Deployed("uses_ledger")] = Field(
        default=None, description="the Aurora cluster's writer endpoint; when set, the ledger is reached through "
                                  "host, port, name and user instead of OB_DATABASE_URL")
    database_port: int = Field(default=5432, ge=1, le=65535, description="the cluster's port")
    database_name: Annotated[str, Deployed("uses_ledger")] = Field(
        default="ledger", description="the ledger database on the cluster")
    database_user: Annotated[str | None, Deployed("logs_in_to_ledger")] = Field(
        default=None, description="the login role (IAM database user): `LEDGER_ROLES` of the deployable's access")
    database_iam_auth: Annotated[bool, Deployed("logs_in_to_ledger")] = Field(
        default=False, description="log in with a fresh IAM authentication token per connection (rds-db:connect)")
    database_ssl_mode: SslMode = Field(
        default="verify-full", description="libpq sslmode with OB_DATABASE_HOST (verify-full: TLS, server verified)")
    database_ssl_root_cert: str = Field(
        default=RDS_CA_BUNDLE, description="the CA bundle the server certificate is verified against")

    # --- the ledger cache ----------------------------------------------------------------------------------------
    redis_url: Annotated[str, Deployed("uses_cache")] = Field(
        default="redis://127.0.0.1:6379/0", description="the cache: rediss://<primary endpoint>:6379/0 on ElastiCache")
    redis_user: Annotated[str | None, Deployed("uses_cache")] = Field(
        default=None, description="the ElastiCache RBAC user (its user name, which IAM authentication signs for)")
    redis_iam_auth: Annotated[bool, Deployed("uses_cache")] = Field(
        default=False, description="authenticate with a SigV4 IAM token (elasticache:Connect), renewed before "
                                   "its 15-minute expiry")
    redis_cache_name: Annotated[str | None, Deployed("uses_cache")] = Field(
        default=None, description="the replication group id (or serverless cache name) the IAM token is for")
    redis_serverless: bool = Field(default=False, description="the cache is ElastiCache Serverless")
    cache_ttl_seconds: int = Field(default=60, ge=1, le=3600, description="how long a cached ledger read lives")

    # --- the public API ------------------------------------------------------------------------------------------
    base_url: Annotated[str, Deployed("builds_public_links")] = Field(
        default="http://127.0.0.1:8000", description="public base URL of the APIs: absolute Links, event `iss`")
    page_size: int = Field(default=100, ge=25, le=1000, description="records per page (OBIE: 25-1000)")
    auth_mode: AuthMode = Field(default=AuthMode.GATEWAY, description="who verifies callers (see AuthMode)")
    token_issuer: str = Field(default="http://127.0.0.1:8000/sandbox",
                              description="the IdP's issuer URL, for `local` auth mode")
    jwks_url: str | None = Field(default=None, description="the IdP's JWKS, for `local` auth mode")

    # --- signatures ----------------------------------------------------------------------------------------------
    financial_id: Annotated[str, Deployed("uses_signing_key")] = Field(
        default="0015800001041RHAAY", description="the ASPSP's OB organisation id (`iss` of response signatures, "
                                                  "x-fapi-financial-id)")
    signing_kms_key_arn: Annotated[str | None, Deployed("uses_signing_key")] = Field(
        default=None, description="the asymmetric KMS key (RSA, RSASSA_PSS_SHA_256) that signs responses and "
                                  "event SETs; takes precedence over OB_SIGNING_KEY_PATH")
    signing_key_path: str | None = Field(
        default=None, description="a PEM private key for signatures, or a Secrets Manager ARN holding one "
                                  "(the sandbox); only `local` may run with neither (ephemeral key)")
    signing_key_id: Annotated[str, Deployed("uses_signing_key")] = Field(
        default="ob-aspsp-signing", description="`kid` of the signing key, as registered in the directory")
    callback_domains: Annotated[list[str] | None, Deployed("vets_callbacks")] = Field(
        default=None, description="the TPP callback domains event notifications may go to, a JSON list as the egress "
                                  "proxy reads it (`.example.com` covers its subdomains; `[]`: none); unset: any "
                                  "public host (a machine without the bank's egress)")
    tpp_jwks_url_template: Annotated[str | None, Deployed("uses_tpp_directory")] = Field(
        default=None, description="a TPP's signing JWKS (request x-jws-signature), '{tpp_id}' is substituted")

    # --- events --------------------------------------------------------------------------------------------------
    event_publishing: EventPublishing = Field(default=EventPublishing.OUTBOX,
                                              description="how AIS and PIS raise events (see EventPublishing)")
    event_bus: Annotated[str | None, Deployed("uses_event_bus")] = Field(
        default=None, description="the EventBridge bus of the outbox: a name, or the full ARN when the events "
                                  "service runs in another account")
    event_queue_url: Annotated[str | None, Deployed("uses_event_queue")] = Field(
        default=None, description="the SQS queue of the event-delivery Lambda")


def settings_errors(exc: Exception, prefix: str = "OB_") -> str:
    """A settings validation error as `<VARIABLE>: <value> <rule>` lines (what an operator can act on)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lines = []
    for error in exc.errors(include_url=False):
        name = f"{prefix}{'_'.join(str(p) for p in error.get('loc', ()))}".upper()
        lines.append(f"{name}: {error.get('input')!r} {error.get('msg', 'is invalid')}")
    return "; ".join(lines)
