"""Where the Lambda authorizer finds the TPP's client certificate: exactly one source, chosen by the api account's
perimeter, never a fallback from one to the other.

- `mtls` (perimeter `regional`): API Gateway's custom domain ends the TPP's mutual TLS and passes the certificate
  in `requestContext.identity.clientCert.clientCertPem`. Headers are the client's to write, so any
  `CloudFront-Viewer-Cert-*` header is ignored.
- `cloudfront` (perimeter `cloudfront`): CloudFront's viewer mutual TLS ends the TPP's TLS and forwards the verified
  leaf as `CloudFront-Viewer-Cert-Pem` (URL-encoded PEM) with `CloudFront-Viewer-Cert-Present: 1`. API Gateway then
  sees CloudFront, not the TPP, so `requestContext.identity.clientCert` (empty, or CloudFront's own origin
  certificate) is ignored. Trusting these headers is safe only because the origin accepts requests from CloudFront
  alone (the api account's origin lock): CloudFront writes them, a TPP cannot reach API Gateway to forge them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

#: The headers CloudFront's viewer mutual TLS forwards to the origin (lower case: header names are compared so).
CLOUDFRONT_CERT_PEM = "cloudfront-viewer-cert-pem"
CLOUDFRONT_CERT_PRESENT = "cloudfront-viewer-cert-present"


class ClientCertSource(StrEnum):
    """Where the client certificate comes from (`OB_CLIENT_CERT_SOURCE`): see the module's docstring."""

    MTLS = "mtls"
    CLOUDFRONT = "cloudfront"


class AmbiguousCertificate(Exception):
    """The request carries the certificate in a form the authorizer must not pick from (e.g. two PEM headers): the
    request is denied. The message says why."""


def presented_certificate(event: Mapping[str, Any], source: ClientCertSource) -> str | None:
    """The PEM of the certificate the TPP presented, read from `source` only; None when that source has none.
    `event` is the raw API Gateway REQUEST authorizer event (format 1.0)."""
    if source is ClientCertSource.MTLS:
        return _from_api_gateway(event)
    return _from_cloudfront(event)


def _from_api_gateway(event: Mapping[str, Any]) -> str | None:
    identity = (event.get("requestContext") or {}).get("identity") or {}
    client_cert = identity.get("clientCert") or {}
    pem = client_cert.get("clientCertPem")
    return pem if isinstance(pem, str) and pem.strip() else None


def _from_cloudfront(event: Mapping[str, Any]) -> str | None:
    pems, present = _header_values(event, CLOUDFRONT_CERT_PEM), _header_values(event, CLOUDFRONT_CERT_PRESENT)
    for name, values in (("CloudFront-Viewer-Cert-Pem", pems), ("CloudFront-Viewer-Cert-Present", present)):
        if len(values) > 1:
            raise AmbiguousCertificate(f"the request carries {len(values)} {name} headers; CloudFront sends one")
    if present != ["1"] or not pems or not pems[0].strip():
        return None
    # `unquote`, not `unquote_plus`: a '+' of the base64 body is a '+' (CloudFront encodes spaces as %20)
    return unquote(pems[0])


def _header_values(event: Mapping[str, Any], name: str) -> list[str]:
    """Every value of header `name` (any case) the request carried: `multiValueHeaders` keeps repeated headers that
    `headers` collapses to the last one."""
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        return [str(value) for key, values in multi.items() if key.lower() == name for value in (values or [])]
    single = event.get("headers") or {}
    return [str(value) for key, value in single.items() if key.lower() == name and value is not None]
