"""Service settings from environment variables (prefix `OB_`), validated once at start-up.

The workload accounts' task definitions and Lambda functions set these; the local sandbox and the
tests set them too. Nothing reads `os.environ` anywhere else.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_", extra="ignore", frozen=True)

    environment: str = Field(default="local", description="environment name, used in table names and logs")
    aws_region: str = "eu-west-2"
    dynamodb_endpoint_url: str | None = Field(default=None, description="a local DynamoDB (moto) endpoint")
    table_prefix: str = Field(default="ob-", description="prefix of the DynamoDB table names")
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    redis_url: str = "redis://127.0.0.1:6379/0"
    cache_ttl_seconds: int = Field(default=60, ge=1, le=3600)
    base_url: str = Field(default="http://127.0.0.1:8000", description="public base URL, for absolute Links")
    financial_id: str = Field(default="0015800001041RHAAY", description="the ASPSP's OB organisation id")
    auth_mode: AuthMode = AuthMode.GATEWAY
    token_issuer: str = Field(default="http://127.0.0.1:8000/sandbox", description="the IdP's issuer URL")
    jwks_url: str | None = Field(default=None, description="the IdP's JWKS, for `local` auth mode")
    signing_key_path: str | None = Field(default=None, description="PEM private key for response JWS")
    signing_key_id: str = Field(default="ob-aspsp-signing", description="`kid` of the response signing key")
    page_size: int = Field(default=100, ge=25, le=1000, description="records per page (OBIE: 25-1000)")
    tpp_jwks_url_template: str | None = Field(
        default=None, description="a TPP's signing JWKS (request x-jws-signature), '{tpp_id}' is substituted")
    event_queue_url: str | None = Field(default=None, description="SQS queue of the event-delivery Lambda")
    sqs_endpoint_url: str | None = Field(default=None, description="a local SQS (moto) endpoint")
