"""The sandbox CA as a web service: how a TPP gets sandbox credentials, and how anyone checks them.

Public (no credentials; in the deployed sandbox on a host without mutual TLS, since the first certificate comes
from here and the API authorizer asks OCSP and the CRL without one):

- `GET /sandbox/ca.pem`: the CA certificate (the sandbox entry's mTLS truststore);
- `POST /sandbox/ocsp` (`application/ocsp-request`): the OCSP responder named in every certificate (AIA);
- `GET /sandbox/crl`: the CRL named in every certificate (CRL distribution point);
- `GET /sandbox/tpps/{TppId}/jwks`: a TPP's public request-signing keys (the Open Banking Directory's JWKS; the
  services' `OB_TPP_JWKS_URL_TEMPLATE`);
- `POST /sandbox/tpps` `{"TppId"}`: registers a TPP id, first come, and answers its `RegistrationSecret` once.

With `Authorization: Bearer <RegistrationSecret>`:

- `POST /sandbox/tpps/{TppId}/certificates` `{"Csr", "ClientId"?}`: a transport certificate (OU = TPP id,
  CN = client id, default `<TppId>-client`) for the CSR's key; the private key never leaves the TPP;
- `POST /sandbox/tpps/{TppId}/keys` (a public RSA JWK with `kid`): adds a request-signing key to the TPP's JWKS;
- `POST /sandbox/tpps/{TppId}/revocations` `{"SerialNumber"}` (hex): revokes one of the TPP's certificates.

Errors are OBIE error bodies.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, Header, Path, Response
from fastapi.responses import JSONResponse
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import BaseModel, ConfigDict, Field

from openbanking.common.bodies import parse_json, raw_body, validate_model
from openbanking.common.errors import ErrorCode, OBIEError, bad_request

from ..directory import TPP_ID_PATTERN, IssuedCertificate, SandboxDirectory, TppTaken
from ..pki import CertificateAuthority, CsrRefused, cert_pem, client_public_key

TppIdPath = Annotated[str, Path(alias="TppId", pattern=TPP_ID_PATTERN)]
#: A request's body, exactly as received (FastAPI resolves these annotations at module level).
Body = Annotated[bytes, Depends(raw_body)]
Authorization = Annotated[str | None, Header()]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    TppId: str = Field(pattern=TPP_ID_PATTERN, description="the TPP's organisation id (certificates' OU)")


class CertificateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Csr: str = Field(min_length=1, max_length=16_384, description="a PEM certificate signing request")
    ClientId: str | None = Field(default=None, pattern=TPP_ID_PATTERN,
                                 description="the OAuth client id (certificate CN); default <TppId>-client")


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    SerialNumber: str = Field(pattern=r"^[0-9a-fA-F]{1,40}$", description="the certificate's serial number, hex")


class SandboxCa:
    """The CA's routes over a CA (key, certificate, OCSP and CRL URLs) and the directory."""

    def __init__(self, ca: CertificateAuthority, directory: SandboxDirectory, *, certificate_days: int = 365) -> None:
        self.ca = ca
        self.directory = directory
        self.certificate_days = certificate_days

    def _registered(self, tpp_id: str, authorization: str | None) -> None:
        scheme, _, secret = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise OBIEError.of(401, ErrorCode.HEADER_MISSING, "Authorization: Bearer <RegistrationSecret> is required",
                               "Authorization")
        if not self.directory.holds_secret(tpp_id, secret.strip()):
            raise OBIEError.of(403, ErrorCode.HEADER_INVALID,
                               f"this is not the registration secret of TPP {tpp_id}", "Authorization")

    def register(self, raw: bytes) -> JSONResponse:
        registration = validate_model(Registration, parse_json(raw))
        try:
            secret = self.directory.register(registration.TppId)
        except TppTaken:
            raise OBIEError.of(409, ErrorCode.FIELD_UNEXPECTED,
                               f"TPP {registration.TppId} is registered already; choose another id, or use the "
                               "RegistrationSecret it was given", "TppId") from None
        return JSONResponse({"TppId": registration.TppId, "RegistrationSecret": secret}, status_code=201,
                            headers={"cache-control": "no-store"})

    def certificate(self, tpp_id: str, raw: bytes, authorization: str | None) -> JSONResponse:
        self._registered(tpp_id, authorization)
        wanted = validate_model(CertificateRequest, parse_json(raw))
        try:
            csr = x509.load_pem_x509_csr(wanted.Csr.encode())
            public_key = client_public_key(csr)
        except CsrRefused as exc:
            raise bad_request(ErrorCode.FIELD_INVALID, str(exc), "Csr") from None
        except ValueError:
            raise bad_request(ErrorCode.FIELD_INVALID, "Csr must be a PEM certificate signing request", "Csr") from None
        client_id = wanted.ClientId or f"{tpp_id}-client"
        certificate = self.ca.certify(public_key, tpp_id, client_id, days=self.certificate_days)
        self.directory.record_certificate(IssuedCertificate(certificate.serial_number, tpp_id, client_id,
                                                            certificate.not_valid_after_utc))
        return JSONResponse({"TppId": tpp_id, "ClientId": client_id, "SerialNumber": f"{certificate.serial_number:x}",
                             "NotAfter": certificate.not_valid_after_utc.isoformat(),
                             "Certificate": cert_pem(certificate).decode(),
                             "CaCertificate": cert_pem(self.ca.certificate).decode()}, status_code=201)

    def add_key(self, tpp_id: str, raw: bytes, authorization: str | None) -> JSONResponse:
        self._registered(tpp_id, authorization)
        document = parse_json(raw)
        try:
            key = RSAKey.import_key(document)
        except (JoseError, ValueError, TypeError, KeyError):
            raise bad_request(ErrorCode.FIELD_INVALID, "the body must be a public RSA JWK", "body") from None
        if key.is_private or not key.kid or key.get("use", "sig") != "sig" or key.get("alg", "PS256") != "PS256":
            raise bad_request(ErrorCode.FIELD_INVALID, "the key must be public, have a kid, and be for PS256 signatures "
                              "(use sig)", "body")
        if key.raw_value.key_size < 2048:  # type: ignore[union-attr]
            raise bad_request(ErrorCode.FIELD_INVALID, "the key must be RSA of at least 2048 bits", "body")
        jwk: dict[str, Any] = {**key.as_dict(private=False), "use": "sig", "alg": "PS256"}
        self.directory.add_signing_key(tpp_id, jwk)
        return JSONResponse({"TppId": tpp_id, "kid": key.kid}, status_code=201)

    def revoke(self, tpp_id: str, raw: bytes, authorization: str | None) -> JSONResponse:
        self._registered(tpp_id, authorization)
        revocation = validate_model(Revocation, parse_json(raw))
        serial = int(revocation.SerialNumber, 16)
        known = self.directory.certificate(serial)
        if known is None or not hmac.compare_digest(known.tpp_id, tpp_id):
            raise bad_request(ErrorCode.RESOURCE_NOT_FOUND, f"TPP {tpp_id} has no certificate with serial number "
                              f"{revocation.SerialNumber}", "SerialNumber")
        revoked = self.directory.revoke(serial, datetime.now(UTC))
        assert revoked is not None and revoked.revoked_at is not None
        return JSONResponse({"SerialNumber": f"{serial:x}", "RevokedAt": revoked.revoked_at.isoformat()})

    def jwks(self, tpp_id: str) -> JSONResponse:
        document = self.directory.jwks(tpp_id)
        if document is None:
            raise OBIEError.of(404, ErrorCode.RESOURCE_NOT_FOUND, f"TPP {tpp_id} is not registered", "TppId")
        return JSONResponse(document, headers={"cache-control": "max-age=60"})

    def ocsp(self, request_der: bytes) -> Response:
        return Response(self.ca.ocsp_response(request_der, revoked=self.directory.revoked()),
                        media_type="application/ocsp-response", headers={"cache-control": "no-store"})

    def crl(self) -> Response:
        crl = self.ca.crl(revoked=self.directory.revoked())
        return Response(crl.public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl")

    def ca_certificate(self) -> Response:
        return Response(cert_pem(self.ca.certificate), media_type="application/x-pem-file")

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/sandbox/ca.pem")
        def ca_pem() -> Response:
            return self.ca_certificate()

        @router.post("/sandbox/ocsp")
        def ocsp(body: Body) -> Response:
            return self.ocsp(body)

        @router.get("/sandbox/crl")
        def crl() -> Response:
            return self.crl()

        @router.post("/sandbox/tpps", status_code=201)
        def register(body: Body) -> JSONResponse:
            return self.register(body)

        @router.get("/sandbox/tpps/{TppId}/jwks")
        def jwks(tpp_id: TppIdPath) -> JSONResponse:
            return self.jwks(tpp_id)

        @router.post("/sandbox/tpps/{TppId}/certificates", status_code=201)
        def certificate(tpp_id: TppIdPath, body: Body, authorization: Authorization = None) -> JSONResponse:
            return self.certificate(tpp_id, body, authorization)

        @router.post("/sandbox/tpps/{TppId}/keys", status_code=201)
        def add_key(tpp_id: TppIdPath, body: Body, authorization: Authorization = None) -> JSONResponse:
            return self.add_key(tpp_id, body, authorization)

        @router.post("/sandbox/tpps/{TppId}/revocations")
        def revoke(tpp_id: TppIdPath, body: Body, authorization: Authorization = None) -> JSONResponse:
            return self.revoke(tpp_id, body, authorization)

        return router
