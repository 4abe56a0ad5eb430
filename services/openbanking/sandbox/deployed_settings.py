"""What the deployed sandbox's CA and IdP both read on top of the services' settings: the sandbox CA's certificate
(the CA signs with it; the IdP trusts the client certificates it issued)."""

from __future__ import annotations

from typing import Annotated

from cryptography import x509
from pydantic import Field

from openbanking.common.settings import Deployed, ServiceSettings

from .material import load_certificate, read_material


class SandboxServiceSettings(ServiceSettings):
    sandbox_ca_certificate: Annotated[str, Deployed()] = Field(
        default="", description="the sandbox CA's certificate (PEM): s3://bucket/key (the mTLS truststore), a Secrets "
                                "Manager ARN, a file, or the PEM itself")

    def ca_certificate(self) -> x509.Certificate:
        return load_certificate(read_material(self.sandbox_ca_certificate, region=self.aws_region,
                                              setting="OB_SANDBOX_CA_CERTIFICATE"), "OB_SANDBOX_CA_CERTIFICATE")
