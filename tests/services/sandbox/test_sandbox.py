"""The sandbox CA, IdP and command line over real HTTP (uvicorn on 127.0.0.1), with stand-ins for the AIS and PIS
services that record the internal calls the IdP makes; the services' local verifier against them; the dispatcher's
answers. The full sandbox (real services, PostgreSQL, Redis) is tests/services/sandbox/test_end_to_end.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from fastapi import APIRouter, Request, Response
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from openbanking.common.app import create_app
from openbanking.common.context import CallerDep
from openbanking.common.jws import DetachedJwsSigner, DetachedJwsVerifier
from openbanking.sandbox.__main__ import main as sandbox_cli
from openbanking.sandbox.ca.service import SandboxCa
from openbanking.sandbox.directory import DirectoryKeyResolver
from openbanking.sandbox.idp.service import InternalApi, SandboxIdp
from openbanking.sandbox.server import (
    CA_PREFIXES,
    Dispatcher,
    OwnCredentials,
    free_port,
    local_verifier,
    route_checking_resolver,
)
from openbanking.sandbox.state import SandboxState
from openbanking.sandbox.web import sandbox_app
from openbanking.security.certificates import Truststore, load_certificate, thumbprint_s256
from tests.services.pis.support import new_rsa_key, verify_detached
from tests.services.sandbox.support import Credentials, Server

AIS = "/open-banking/v3.1/aisp"
AAC = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"
PDC = "pdc-5c7f3d2f-2e3c-4d6f-8a1b-2c3d4e5f6071"


@dataclass
class World:
    base: str
    state: SandboxState
    http: httpx.Client
    signer: DetachedJwsSigner
    consents: dict[str, tuple[str, str]]
    payments: dict[str, str]
    internal_calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    def cli(self, *args: str) -> int:
        return sandbox_cli(["--url", self.base, *args])

    def issue(self, directory: Path, tpp_id: str) -> Credentials:
        assert self.cli("credentials", "--tpp-id", tpp_id, "--out", str(directory)) == 0
        return Credentials(tpp_id, directory)

    def token(self, credentials: Credentials, scope: str = "accounts") -> httpx.Response:
        return httpx.post(f"{self.base}/sandbox/token", data={"grant_type": "client_credentials", "scope": scope},
                          headers=credentials.mtls)


def _stand_in(world: World, resolver: Any) -> Any:
    """AIS and PIS as far as the IdP sees them: their internal endpoints, recording what they were told (a refusal
    for the PSU `psu-refused`), and one AIS resource route."""
    router = APIRouter()

    @router.get(f"{AIS}/accounts")
    def accounts(caller: CallerDep) -> dict[str, object]:
        return {"tpp": caller.tpp_id, "consent": caller.consent_id}

    @router.post(f"{AIS}/account-access-consents")
    def create(caller: CallerDep) -> dict[str, object]:
        return {"tpp": caller.tpp_id}

    async def record(request: Request, caller: CallerDep) -> Response:
        body = await request.json()
        world.internal_calls.append((request.url.path, body, " ".join(sorted(caller.scopes))))
        if body.get("PsuId") == "psu-refused":
            return Response(json.dumps({"Code": "400 Bad Request", "Message": "no", "Errors": [
                {"ErrorCode": "UK.OBIE.Field.Invalid", "Message": "no", "Path": "PsuId"}]}), 400,
                media_type="application/json")
        return Response(status_code=204)

    for path in ("/internal/aisp/account-access-consents/{ConsentId}/authorisation",
                 "/internal/aisp/account-access-consents/{ConsentId}/revocation",
                 "/internal/pisp/domestic-payment-consents/{ConsentId}/authorisation",
                 "/internal/pisp/domestic-payments/{DomesticPaymentId}/status"):
        router.add_api_route(path, record, methods=["POST"])
    return create_app("stand-in AIS and PIS", [("", router)], caller_resolver=resolver)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    state = SandboxState.open(tmp_path_factory.mktemp("state"), base)
    signer = DetachedJwsSigner(new_rsa_key("aspsp-sandbox"), "aspsp-sandbox", "0015800001041RHAAY")
    with httpx.Client(timeout=5.0) as http:
        world = World(base, state, http, signer, consents={}, payments={})
        stand_in = _stand_in(world, route_checking_resolver(local_verifier(state, http)))
        credentials = OwnCredentials(state)
        internal = InternalApi(ais=httpx.AsyncClient(transport=httpx.ASGITransport(app=stand_in), base_url="http://in"),
                               pis=httpx.AsyncClient(transport=httpx.ASGITransport(app=stand_in), base_url="http://in"),
                               credentials=credentials)
        idp = SandboxIdp(issuer=state.issuer, token_key=state.idp_key, truststore=Truststore((state.ca.certificate,)),
                         directory=state.tpp_directory, consents=world.consents.get, payments=world.payments.get,
                         accounts_of=lambda psu: ["acc-0001-01", "acc-0001-02"], internal=internal,
                         aspsp_jwks=signer.public_jwks)
        credentials.idp = idp
        idp_app = idp.app(on_close=internal.aclose)
        ca_app = sandbox_app("CA", [SandboxCa(state.ca, state.tpp_directory).router()])
        dispatcher = Dispatcher(routes=[(AIS, stand_in), ("/sandbox", idp_app), *((p, ca_app) for p in CA_PREFIXES)],
                                lifespans=[stand_in, idp_app, ca_app])
        server = Server(dispatcher, port)
        try:
            yield world
        finally:
            server.stop()


@pytest.fixture(scope="module")
def tpp(world: World, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return world.issue(tmp_path_factory.mktemp("tpp") / "tpp-one", "tpp-one")


# --- credentials: the CA over HTTP, through the command line ---------------------------------------------------------


def test_credentials_are_a_certified_key_pair_and_a_registered_signing_key(world: World, tpp: Credentials) -> None:
    certificate = load_certificate((tpp.directory / "client.pem").read_bytes())
    assert certificate.issuer == world.state.ca.certificate.subject
    subject = {a.oid: a.value for a in certificate.subject}
    assert (subject[NameOID.ORGANIZATIONAL_UNIT_NAME], subject[NameOID.COMMON_NAME]) == ("tpp-one", "tpp-one-client")
    key = serialization.load_pem_private_key((tpp.directory / "client.key").read_bytes(), password=None)
    assert key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
        == certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    for private in ("client.key", "signing.key", "registration.json"):
        assert (tpp.directory / private).stat().st_mode & 0o077 == 0, f"{private} is readable by others"
    assert (tpp.directory / ".gitignore").read_text() == "*\n", "private keys are never committed"
    assert (tpp.directory / "ca.pem").read_bytes() == world.http.get(f"{world.base}/sandbox/ca.pem").content
    kid = (tpp.directory / "signing.kid").read_text().strip()
    published = world.http.get(f"{world.base}/sandbox/tpps/tpp-one/jwks").json()
    assert [k["kid"] for k in published["keys"]] == [kid] and "d" not in published["keys"][0]
    issued = world.state.tpp_directory.certificate(certificate.serial_number)
    assert issued is not None and (issued.tpp_id, issued.client_id) == ("tpp-one", "tpp-one-client")


def test_the_same_directory_gets_more_credentials_of_its_tpp(world: World, tmp_path: Path) -> None:
    first = world.issue(tmp_path / "again", "tpp-again")
    serial = load_certificate((first.directory / "client.pem").read_bytes()).serial_number
    second = world.issue(tmp_path / "again", "tpp-again")
    assert load_certificate((second.directory / "client.pem").read_bytes()).serial_number != serial
    assert len(world.http.get(f"{world.base}/sandbox/tpps/tpp-again/jwks").json()["keys"]) == 2


def test_a_registered_tpp_id_is_not_anyone_s(world: World, tpp: Credentials, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert world.cli("credentials", "--tpp-id", "tpp-one", "--out", str(tmp_path / "impostor")) == 1
    assert "TPP tpp-one is registered already" in capsys.readouterr().err
    csr = _csr(ec.generate_private_key(ec.SECP256R1()))
    anonymous = world.http.post(f"{world.base}/sandbox/tpps/tpp-one/certificates", json={"Csr": csr})
    assert anonymous.status_code == 401 and anonymous.json()["Errors"][0]["Path"] == "Authorization"
    guessed = world.http.post(f"{world.base}/sandbox/tpps/tpp-one/certificates", json={"Csr": csr},
                              headers={"authorization": "Bearer not-the-secret"})
    assert guessed.status_code == 403 and anonymous.headers["x-fapi-interaction-id"]


def _csr(key: Any) -> str:
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "x")])).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(("document", "path", "fragment"), [
    ({"Csr": "not a csr"}, "Csr", "PEM certificate signing request"),
    ({"Csr": "__weak__"}, "Csr", "at least 2048 bits"),
    ({"Csr": "__ok__", "ClientId": "../../etc"}, "ClientId", "String should match pattern"),
    ({"Csr": "__ok__", "Extra": 1}, "Extra", "Extra inputs"),
])
def test_certificate_requests_are_checked(world: World, tpp: Credentials, document: dict[str, Any], path: str,
                                          fragment: str) -> None:
    if document["Csr"] == "__weak__":
        document = {**document, "Csr": _csr(rsa.generate_private_key(public_exponent=65537, key_size=1024))}
    elif document["Csr"] == "__ok__":
        document = {**document, "Csr": _csr(ec.generate_private_key(ec.SECP256R1()))}
    answer = world.http.post(f"{world.base}/sandbox/tpps/tpp-one/certificates", json=document,
                             headers={"authorization": f"Bearer {tpp.registration['RegistrationSecret']}"})
    assert answer.status_code == 400, answer.text
    error = answer.json()["Errors"][0]
    assert error["Path"] == path and fragment in error["Message"]


def test_signing_keys_must_be_public_rsa_for_ps256(world: World, tpp: Credentials) -> None:
    secret = {"authorization": f"Bearer {tpp.registration['RegistrationSecret']}"}
    private = new_rsa_key("leaked").as_dict(private=True)
    for document, fragment in ((private, "public"), ({"kty": "oct", "k": "AAAA", "kid": "x"}, "RSA JWK"),
                               ({**new_rsa_key("rs").as_dict(private=False), "alg": "RS256"}, "PS256")):
        answer = world.http.post(f"{world.base}/sandbox/tpps/tpp-one/keys", json=document, headers=secret)
        assert answer.status_code == 400 and fragment in answer.json()["Errors"][0]["Message"], answer.text
    unknown = world.http.get(f"{world.base}/sandbox/tpps/nobody/jwks")
    assert unknown.status_code == 404 and unknown.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"


def test_sign_makes_the_signature_the_services_verify(world: World, tpp: Credentials, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "consent.json"
    body.write_bytes(b'{"Data":{"Initiation":{}},"Risk":{}}')
    assert sandbox_cli(["sign", "--credentials", str(tpp.directory), str(body)]) == 0
    signature = capsys.readouterr().out.strip()
    verifier = DetachedJwsVerifier(DirectoryKeyResolver(world.state.tpp_directory))
    header = verifier.verify(signature, body.read_bytes(), "tpp-one")
    assert header["http://openbanking.org.uk/iss"] == "tpp-one/tpp-one-client"
    with pytest.raises(Exception, match="does not verify"):
        verifier.verify(signature, body.read_bytes() + b" ", "tpp-one")


# --- tokens and the services' verification ----------------------------------------------------------------------------


def test_token_is_bound_to_the_client_certificate(world: World, tpp: Credentials) -> None:
    answer = world.token(tpp)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    caller = local_verifier(world.state, world.http)(answer.json()["access_token"],
                                                     (tpp.directory / "client.pem").read_text())
    assert (caller.tpp_id, caller.client_id, caller.scopes) == ("tpp-one", "tpp-one-client", frozenset({"accounts"}))
    assert world.http.get(f"{world.base}/sandbox/jwks").json()["keys"][0]["kid"] == world.state.idp_key.kid


@pytest.mark.parametrize(("data", "with_certificate", "status", "error"), [
    ({"grant_type": "client_credentials", "scope": "accounts"}, False, 401, "invalid_client"),
    ({"grant_type": "client_credentials", "scope": "admin"}, True, 400, "invalid_scope"),
    ({"grant_type": "password", "scope": "accounts"}, True, 400, "unsupported_grant_type"),
])
def test_token_endpoint_refusals(world: World, tpp: Credentials, data: dict[str, str], with_certificate: bool,
                                 status: int, error: str) -> None:
    answer = httpx.post(f"{world.base}/sandbox/token", data=data, headers=tpp.mtls if with_certificate else {})
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_requests_without_valid_credentials_get_obie_errors(world: World, tpp: Credentials) -> None:
    bare = httpx.get(f"{world.base}{AIS}/accounts")
    assert bare.status_code == 401 and bare.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Header.Invalid"
    assert bare.headers["x-fapi-interaction-id"]
    access = world.token(tpp).json()["access_token"]
    no_cert = httpx.get(f"{world.base}{AIS}/accounts", headers={"authorization": f"Bearer {access}"})
    assert no_cert.status_code == 401 and "client certificate" in no_cert.json()["Message"]
    no_consent = httpx.get(f"{world.base}{AIS}/accounts", headers={"authorization": f"Bearer {access}", **tpp.mtls})
    assert no_consent.status_code == 403
    wrong_scope = world.token(tpp, "payments").json()["access_token"]
    refused = httpx.post(f"{world.base}{AIS}/account-access-consents", json={},
                         headers={"authorization": f"Bearer {wrong_scope}", **tpp.mtls})
    assert refused.status_code == 403 and "needs the scope accounts" in refused.json()["Message"]


def test_revocation_through_the_cli_is_served_by_ocsp_and_the_crl(world: World, tmp_path: Path) -> None:
    revoked = world.issue(tmp_path / "revoked", "tpp-two")
    access = world.token(revoked).json()["access_token"]
    pem = (revoked.directory / "client.pem").read_text()
    certificate = load_certificate(pem)
    assert world.cli("revoke", "--credentials", str(revoked.directory)) == 0
    with pytest.raises(Exception, match="revoked"):  # a fresh verifier (no cached verdict) asks OCSP
        local_verifier(world.state, world.http)(access, pem)
    refused = world.token(revoked)
    assert refused.status_code == 401 and "revoked" in refused.json()["error_description"]
    crl = x509.load_der_x509_crl(world.http.get(f"{world.base}/sandbox/crl").content)
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, world.state.ca.certificate, hashes.SHA1()).build()
    answer = ocsp.load_der_ocsp_response(world.http.post(
        f"{world.base}/sandbox/ocsp", content=request.public_bytes(serialization.Encoding.DER),
        headers={"content-type": "application/ocsp-request"}).content)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_a_tpp_revokes_only_its_own_certificates(world: World, tpp: Credentials, tmp_path: Path) -> None:
    other = world.issue(tmp_path / "other", "tpp-three")
    serial = load_certificate((tpp.directory / "client.pem").read_bytes()).serial_number
    answer = world.http.post(f"{world.base}/sandbox/tpps/tpp-three/revocations", json={"SerialNumber": f"{serial:x}"},
                             headers={"authorization": f"Bearer {other.registration['RegistrationSecret']}"})
    assert answer.status_code == 400 and world.token(tpp).status_code == 200


# --- the PSU and core banking, on behalf of the TPP --------------------------------------------------------------------


def test_authorize_calls_the_owning_service_and_binds_the_consent(world: World, tpp: Credentials) -> None:
    world.consents[AAC] = ("tpp-one", "AwaitingAuthorisation")
    world.internal_calls.clear()
    answer = world.http.post(f"{world.base}/sandbox/authorize", headers=tpp.mtls,
                             json={"ConsentId": AAC, "PsuId": "psu-0001"})
    assert answer.status_code == 200, answer.text
    assert world.internal_calls == [
        (f"/internal/aisp/account-access-consents/{AAC}/authorisation",
         {"Status": "Authorised", "PsuId": "psu-0001", "AccountIds": ["acc-0001-01", "acc-0001-02"]},
         "openbanking:consent-authorisation")]
    claims = jwt.decode(answer.json()["access_token"], world.state.idp_key).claims
    certificate = load_certificate((tpp.directory / "client.pem").read_bytes())
    assert claims["openbanking_intent_id"] == AAC and claims["scope"] == "accounts"
    assert claims["cnf"] == {"x5t#S256": thumbprint_s256(certificate)} and claims["org_id"] == "tpp-one"
    world.consents[PDC] = ("tpp-one", "AwaitingAuthorisation")
    paid = world.http.post(f"{world.base}/sandbox/authorize", headers=tpp.mtls,
                           json={"ConsentId": PDC, "PsuId": "psu-0001", "AccountId": "acc-0001-01"})
    assert paid.status_code == 200 and paid.json()["scope"] == "payments"
    assert world.internal_calls[-1][:2] == (f"/internal/pisp/domestic-payment-consents/{PDC}/authorisation",
                                            {"Status": "Authorised", "PsuId": "psu-0001", "AccountId": "acc-0001-01"})


@pytest.mark.parametrize(("body", "status", "path"), [
    ({"ConsentId": "aac-00000000-0000-0000-0000-000000000000", "PsuId": "psu-0001"}, 400, "ConsentId"),
    ({"ConsentId": "not-a-consent", "PsuId": "psu-0001"}, 400, "ConsentId"),
    ({"ConsentId": AAC}, 400, "PsuId"),
    ({"ConsentId": AAC, "PsuId": "psu-0001", "Decision": "Maybe"}, 400, "Decision"),
    ({"ConsentId": AAC, "PsuId": "psu-refused"}, 400, "PsuId"),  # the service's refusal, passed on
])
def test_authorize_refusals_are_obie_errors(world: World, tpp: Credentials, body: dict[str, Any], status: int,
                                            path: str) -> None:
    world.consents[AAC] = ("tpp-one", "AwaitingAuthorisation")
    answer = world.http.post(f"{world.base}/sandbox/authorize", headers=tpp.mtls, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["Errors"][0]["Path"] == path


def test_authorize_and_friends_need_a_certificate_and_the_tpp_s_own_resources(world: World, tpp: Credentials,
                                                                            tmp_path: Path) -> None:
    world.consents[AAC] = ("tpp-one", "Authorised")
    world.payments["pdp-1"] = "tpp-one"
    other = world.issue(tmp_path / "other", "tpp-four")
    for path, body in (("/sandbox/authorize", {"ConsentId": AAC, "PsuId": "psu-0001"}),
                       ("/sandbox/consent-revocations", {"ConsentId": AAC, "PsuId": "psu-0001"}),
                       ("/sandbox/domestic-payments/pdp-1/status", {"Status": "Rejected"})):
        anonymous = world.http.post(f"{world.base}{path}", json=body)
        assert anonymous.status_code == 401 and anonymous.json()["Errors"][0]["Path"] == "x-amzn-mtls-clientcert"
        theirs = world.http.post(f"{world.base}{path}", json=body, headers=other.mtls)
        assert theirs.status_code == 400 and theirs.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"


def test_the_psu_s_revocation_and_core_banking_s_reports_reach_the_services(world: World, tpp: Credentials) -> None:
    world.consents[AAC] = ("tpp-one", "Authorised")
    world.payments["pdp-2"] = "tpp-one"
    world.internal_calls.clear()
    revoked = world.http.post(f"{world.base}/sandbox/consent-revocations", headers=tpp.mtls,
                              json={"ConsentId": AAC, "PsuId": "psu-0001"})
    assert revoked.status_code == 200 and revoked.json() == {"ConsentId": AAC, "Status": "Revoked"}
    reported = world.http.post(f"{world.base}/sandbox/domestic-payments/pdp-2/status", headers=tpp.mtls,
                               json={"Status": "AcceptedSettlementInProcess"})
    assert reported.status_code == 200, reported.text
    assert world.internal_calls == [
        (f"/internal/aisp/account-access-consents/{AAC}/revocation", {"PsuId": "psu-0001"},
         "openbanking:consent-authorisation"),
        ("/internal/pisp/domestic-payments/pdp-2/status", {"Status": "AcceptedSettlementInProcess"},
         "openbanking:payment-status")]
    unknown = world.http.post(f"{world.base}/sandbox/domestic-payments/pdp-2/status", headers=tpp.mtls,
                              json={"Status": "Settled"})
    assert unknown.status_code == 400 and unknown.json()["Errors"][0]["Path"] == "Status"


def test_the_aspsp_signing_key_is_published(world: World) -> None:
    published = world.http.get(f"{world.base}/sandbox/aspsp/jwks").json()
    assert published == world.signer.public_jwks()
    body = b'{"Data":{}}'
    key = KeySet.import_key_set(published).get_by_kid("aspsp-sandbox")
    assert isinstance(key, RSAKey) and not key.is_private
    verify_detached(world.signer.sign(body), body, key)


# --- the dispatcher ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/internal/aisp/account-access-consents/aac-1/authorisation", "/internal",
                                  "/nowhere", "/open-banking/v3.1/cards/accounts", "/sandboxes"])
def test_unknown_and_internal_paths_are_obie_404s_with_an_interaction_id(world: World, path: str) -> None:
    interaction = str(uuid.uuid4())
    answer = httpx.post(f"{world.base}{path}", json={}, headers={"x-fapi-interaction-id": interaction})
    assert answer.status_code == 404 and answer.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"
    assert answer.headers["x-fapi-interaction-id"] == interaction == answer.json()["Id"]
    generated = httpx.get(f"{world.base}{path}")
    assert uuid.UUID(generated.headers["x-fapi-interaction-id"])
    health = httpx.get(f"{world.base}/health")
    assert health.json() == {"status": "ok"} and uuid.UUID(health.headers["x-fapi-interaction-id"])


@pytest.mark.parametrize("path", ["/sandbox/authorize", "/sandbox/consent-revocations", "/sandbox/tpps",
                                  "/sandbox/tpps/tpp-one/certificates", "/sandbox/tpps/tpp-one/keys",
                                  "/sandbox/domestic-payments/pdp-1/status"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_on_the_sandbox_s_own_endpoints_is_a_400(world: World, tpp: Credentials, path: str,
                                                           depth: int) -> None:
    answer = httpx.post(f"{world.base}{path}", content=b"[" * depth + b"]" * depth,
                        headers={"content-type": "application/json", **tpp.mtls})
    assert answer.status_code == 400 and answer.json()["Errors"][0]["Path"] == "body", answer.text
    assert answer.headers["x-fapi-interaction-id"] == answer.json()["Id"]


def test_state_is_created_once_and_kept_out_of_git(tmp_path: Path) -> None:
    first = SandboxState.open(tmp_path, "http://127.0.0.1:8000")
    second = SandboxState.open(tmp_path, "http://127.0.0.1:8000")
    assert first.ca.certificate == second.ca.certificate and first.idp_key.kid == second.idp_key.kid
    assert (tmp_path / ".gitignore").read_text() == "*\n"


def test_the_ca_certificate_is_the_one_the_state_keeps(world: World) -> None:
    assert world.http.get(f"{world.base}/sandbox/ca.pem").content == (world.state.directory / "ca.pem").read_bytes()


@pytest.mark.parametrize("settlement_seconds", [5.0, 0.0])
def test_the_printed_steps_are_bash_with_absolute_paths_in_either_settlement_mode(settlement_seconds: float,
                                                                                  tmp_path: Path) -> None:
    """The steps run as printed in tests/services/sandbox/test_end_to_end.py (automatic settlement); both variants
    are valid bash and name everything by absolute path."""
    import subprocess
    import sys

    from openbanking.sandbox.instructions import instructions, script_of

    script = script_of(instructions(base_url="http://127.0.0.1:8123", python=sys.executable,
                                    state_dir=tmp_path / "state", settlement_seconds=settlement_seconds))
    checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert f"{sys.executable} -m openbanking.sandbox --url http://127.0.0.1:8123" in script
    assert f"TPP={tmp_path / 'state' / 'tpps' / 'my-tpp'}" in script and "cd " not in script
    assert ("for STATUS in" in script) is (settlement_seconds == 0), "without settlement the steps report the statuses"


def test_the_deployed_steps_use_the_certificate_in_the_handshake_and_the_open_entry_for_the_ca(tmp_path: Path) -> None:
    """The deployed sandbox's variant (the developer portal publishes it): valid bash, the client certificate given to
    curl for the mutual-TLS entry, the CA's command line pointed at the entry without certificates, and every TPP
    naming itself (registration is first come)."""
    import subprocess

    from openbanking.sandbox.instructions import BEGIN, END, DeployedEntries, instructions, script_of, steps

    entries = DeployedEntries(api_url="https://api.sandbox.bank.example", directory_url="https://directory.sandbox.bank.example")
    printed = instructions(base_url="http://unused.invalid", python="python3", state_dir=tmp_path, settlement_seconds=30,
                           deployed=entries)
    script = script_of(printed)
    checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert 'curl -sS --fail-with-body --cert "$TPP/client.pem" --key "$TPP/client.key"' in script
    assert "mtls-header" not in script and "unused.invalid" not in printed and str(tmp_path) not in printed
    assert "python3 -m openbanking.sandbox --url https://directory.sandbox.bank.example" in script
    assert "https://api.sandbox.bank.example/sandbox/token" in script
    assert 'ob_sandbox credentials --tpp-id "$TPP_ID"' in script
    unset = subprocess.run(["bash", "-c", script.split("\n# 1.")[0]], capture_output=True, text=True, check=False,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert unset.returncode != 0 and "export TPP_ID=" in unset.stderr
    # the steps, split for the portal, are the script in order, nothing left out
    found = steps(printed)
    assert [s.number for s in found] == list(range(7))
    assert [s.title for s in found][:5] == ["Helpers", "Credentials", "Events", "Account information",
                                            "A domestic payment"]
    assert "".join(s.text for s in found).split() == script.replace(BEGIN, "").replace(END, "").split()


def test_the_operator_makes_the_deployed_ca_and_idp_key_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`deployment-keys`: a CA certificate the stack's config accepts as its truststore bundle, the CA's key (the one
    the certificate certifies) and the IdP's EC P-256 key, owner-only and git-ignored; never overwritten."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from environments.config import truststore_certificates
    from openbanking.sandbox.__main__ import main

    out = tmp_path / "keys"
    assert main(["deployment-keys", "--out", str(out), "--common-name", "Example Bank Sandbox CA"]) == 0
    assert "edge.truststoreBundle" in capsys.readouterr().out
    [ca] = truststore_certificates(str(out / "ca.pem"))  # the config's own check of a truststore bundle
    assert ca.subject == ca.issuer and "Example Bank Sandbox CA" in ca.subject.rfc4514_string()
    ca_key = load_pem_private_key((out / "ca.key").read_bytes(), None)
    assert ca_key.public_key() == ca.public_key()
    idp_key = load_pem_private_key((out / "idp.key").read_bytes(), None)
    assert isinstance(idp_key, ec.EllipticCurvePrivateKey) and idp_key.curve.name == "secp256r1"
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir() if p.suffix == ".key"} == {"ca.key": 0o600,
                                                                                              "idp.key": 0o600}
    assert (out / ".gitignore").read_text() == "*\n"
    before = (out / "ca.key").read_bytes()
    assert main(["deployment-keys", "--out", str(out)]) == 1
    assert "exist already" in capsys.readouterr().err and (out / "ca.key").read_bytes() == before
