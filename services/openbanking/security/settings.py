"""Settings of the credential checks (environment, prefix `OB_`, like the services' settings): the IdP, the
truststore, the revocation-check bounds and where the certificate comes from. The Lambda authorizer and `local` auth
mode read the same names."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbanking.claims import TPP_ID_CLAIM
from openbanking.common.settings import Deployed

from .client_certificate import ClientCertSource
from .revocation import MAX_CACHE_SECONDS


class SecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_", extra="ignore", frozen=True)

    token_issuer: Annotated[str, Deployed()] = Field(default="http://127.0.0.1:8000/sandbox",
                                                     description="the IdP's issuer (`iss`)")
    jwks_url: Annotated[str | None, Deployed()] = Field(default=None, description="the IdP's JWKS URL")
    token_audience: str | None = Field(default=None, description="required `aud` of access tokens, if any")
    token_leeway_seconds: int = Field(default=30, ge=0, le=120, description="clock skew allowed on exp/nbf/iat")
    tpp_id_claim: str = Field(default=TPP_ID_CLAIM, description="access-token claim naming the TPP's organisation")
    jwks_max_age_seconds: int = Field(default=3600, ge=60, le=86400)
    jwks_min_refresh_seconds: int = Field(default=30, ge=1, le=3600,
                                          description="least time between JWKS fetches for unknown kids")
    truststore: Annotated[str | None, Deployed()] = Field(
        default=None, description="CA bundle (PEM): a file path or s3://bucket/key (the API Gateway truststore)")
    revocation_cache_seconds: int = Field(default=MAX_CACHE_SECONDS, ge=0, le=MAX_CACHE_SECONDS)
    revocation_timeout_seconds: float = Field(default=3.0, gt=0, le=10,
                                              description="per OCSP/CRL request; the authorizer has ~10 s in all")
    ocsp_require_nonce: bool = Field(default=False, description="refuse OCSP responses that do not echo the nonce")
    client_cert_source: Annotated[ClientCertSource, Deployed()] = Field(
        default=ClientCertSource.MTLS,
        description="where the authorizer reads the client certificate, by perimeter: `mtls` (API Gateway's mutual "
                    "TLS, `regional`) or `cloudfront` (the CloudFront-Viewer-Cert-Pem header, `cloudfront`); never both")
    aws_region: Annotated[str, Deployed()] = Field(default="eu-west-2", description="the region of the S3 client")
