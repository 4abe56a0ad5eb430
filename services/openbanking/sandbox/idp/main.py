"""Container entry point of the deployed sandbox IdP: `uvicorn --factory openbanking.sandbox.idp.main:create`.

It signs tokens with its key (ECS `secrets`: the EC P-256 PEM from Secrets Manager in `OB_SANDBOX_IDP_KEY`) as
`OB_TOKEN_ISSUER`, authenticates TPPs by the certificate the sandbox entry passes in `x-amzn-mtls-clientcert`
(URL-encoded PEM) against the sandbox CA (`OB_SANDBOX_CA_CERTIFICATE`) and the directory table, reads the consents
and payments tables and the ledger (a PSU's accounts), publishes the ASPSP's signing key (KMS `GetPublicKey`), and
calls the AIS and PIS services' internal endpoints (`OB_SANDBOX_AIS_URL`, `OB_SANDBOX_PIS_URL`; the services run
in `gateway` auth mode, so it sends the `x-ob-*` headers API Gateway's authorizer would). It also runs the
settlement simulator (`OB_SANDBOX_SETTLEMENT_SECONDS`).
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import FastAPI
from joserfc.jwk import ECKey
from pydantic import Field

from openbanking.common.dynamo import table_name
from openbanking.common.dynamo_items import dynamodb_client
from openbanking.common.jws import load_signer
from openbanking.common.settings import Deployed
from openbanking.ledger.db import engine_from_settings
from openbanking.security.certificates import Truststore

from ..deployed_settings import SandboxServiceSettings
from ..directory import DynamoDirectory
from ..material import read_material
from ..settlement import SettlementSimulator, settling_payments
from .service import InternalApi, SandboxIdp, consent_lookup, gateway_credentials, ledger_accounts, payment_lookup


class IdpSettings(SandboxServiceSettings):
    """What the sandbox IdP reads on top of the services' settings."""

    token_issuer: Annotated[str, Deployed()] = Field(
        default="http://127.0.0.1:8000/sandbox", description="the issuer of its tokens: its public https base URL "
                                                            "(the services' and the authorizer's OB_TOKEN_ISSUER)")
    sandbox_idp_key: Annotated[str, Deployed(secret=True)] = Field(
        default="", description="the IdP's token-signing key (PEM, EC P-256; through ECS secrets), or a file or "
                                "Secrets Manager ARN holding it")
    sandbox_ais_url: Annotated[str, Deployed()] = Field(
        default="http://127.0.0.1:8000", description="the AIS service's internal base URL (its load balancer)")
    sandbox_pis_url: Annotated[str, Deployed()] = Field(
        default="http://127.0.0.1:8000", description="the PIS service's internal base URL (its load balancer)")
    sandbox_settlement_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="seconds between a payment's settlement steps (0: off)")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (IdpSettings,)


def create() -> FastAPI:
    settings = IdpSettings()
    region = settings.aws_region
    token_key = ECKey.import_key(read_material(settings.sandbox_idp_key, region=region, setting="OB_SANDBOX_IDP_KEY"),
                                 parameters={"use": "sig", "alg": "ES256"})
    token_key.ensure_kid()
    ca_certificate = settings.ca_certificate()
    client = dynamodb_client(settings)
    internal = InternalApi(ais=httpx.AsyncClient(base_url=settings.sandbox_ais_url, timeout=10.0),
                           pis=httpx.AsyncClient(base_url=settings.sandbox_pis_url, timeout=10.0),
                           credentials=gateway_credentials)
    idp = SandboxIdp(issuer=settings.token_issuer.rstrip("/"), token_key=token_key,
                     truststore=Truststore((ca_certificate,)),
                     directory=DynamoDirectory(client, table_name(settings, "sandbox_directory")),
                     consents=consent_lookup(client, table_name(settings, "consents")),
                     payments=payment_lookup(client, table_name(settings, "payments")),
                     accounts_of=ledger_accounts(engine_from_settings(settings)), internal=internal,
                     aspsp_jwks=load_signer(settings).public_jwks)
    if settings.sandbox_settlement_seconds > 0:
        idp.settlement = SettlementSimulator(settling_payments(client, table_name(settings, "payments")),
                                             idp.settled, step_seconds=settings.sandbox_settlement_seconds)
    return idp.app(on_close=internal.aclose,
                   request_metrics=(settings.environment, "sandbox_idp") if settings.request_metrics else None)
