"""Container entry point of the deployed sandbox CA: `uvicorn --factory openbanking.sandbox.ca.main:create`.

Its key arrives through ECS `secrets` (the PEM from Secrets Manager in `OB_SANDBOX_CA_KEY`); its certificate is the
sandbox entry's mTLS truststore (`OB_SANDBOX_CA_CERTIFICATE`, e.g. the truststore's `s3://` object). The OCSP and
CRL URLs it writes into every certificate must be reachable over HTTPS without a client certificate (the API
authorizer asks them), like the registration and issuing endpoints (a TPP has no certificate yet).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI
from pydantic import Field

from openbanking.common.dynamo import table_name
from openbanking.common.dynamo_items import dynamodb_client
from openbanking.common.settings import Deployed

from ..deployed_settings import SandboxServiceSettings
from ..directory import DynamoDirectory
from ..material import load_private_key, read_material
from ..pki import CertificateAuthority
from ..web import sandbox_app
from .service import SandboxCa


class CaSettings(SandboxServiceSettings):
    """What the sandbox CA reads on top of the services' settings."""

    sandbox_ca_key: Annotated[str, Deployed(secret=True)] = Field(
        default="", description="the sandbox CA's private key (PEM, EC or RSA; through ECS secrets), or a file or "
                                "Secrets Manager ARN holding it")
    sandbox_ocsp_url: Annotated[str, Deployed()] = Field(
        default="http://127.0.0.1:8000/sandbox/ocsp",
        description="the OCSP responder's public https URL, written into every certificate (AIA)")
    sandbox_crl_url: Annotated[str, Deployed()] = Field(
        default="http://127.0.0.1:8000/sandbox/crl",
        description="the CRL's public https URL, written into every certificate (CRL distribution point)")
    sandbox_certificate_days: int = Field(default=365, ge=1, le=825, description="how long a client certificate lasts")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (CaSettings,)


def create() -> FastAPI:
    settings = CaSettings()
    region = settings.aws_region
    key = load_private_key(read_material(settings.sandbox_ca_key, region=region, setting="OB_SANDBOX_CA_KEY"),
                           "OB_SANDBOX_CA_KEY")
    ca = CertificateAuthority(key, settings.ca_certificate(), ocsp_url=settings.sandbox_ocsp_url,
                              crl_url=settings.sandbox_crl_url)
    directory = DynamoDirectory(dynamodb_client(settings), table_name(settings, "sandbox_directory"))
    service = SandboxCa(ca, directory, certificate_days=settings.sandbox_certificate_days)
    return sandbox_app("Open Banking sandbox CA", [service.router()],
                       request_metrics=(settings.environment, "sandbox_ca") if settings.request_metrics else None)
