"""The sandbox IdP and PKI over real HTTP (uvicorn on 127.0.0.1), the services' local verifier against it, the
dispatcher, and the CLI's credential issuing and revocation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import APIRouter

from openbanking.common.app import create_app
from openbanking.common.context import Caller, CallerDep, local_caller
from openbanking.sandbox.__main__ import main as sandbox_cli
from openbanking.sandbox.idp import SandboxIdp
from openbanking.sandbox.pki import cert_pem
from openbanking.sandbox.server import Dispatcher, free_port, local_verifier, route_checking_resolver
from openbanking.sandbox.state import SandboxKeyResolver, SandboxState
from openbanking.security.certificates import load_certificate, thumbprint_s256
from openbanking.security.tokens import AccessTokenVerifier

AIS = "/open-banking/v3.1/aisp"


class Server:
    def __init__(self, app: object, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SandboxState, Path, httpx.Client]]:
    """The IdP and a stand-in AIS (create_app + the sandbox resolver) behind the dispatcher, on a real port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    state_dir = tmp_path_factory.mktemp("state")
    state = SandboxState.open(state_dir, base)
    tpp_dir = tmp_path_factory.mktemp("tpp")
    state.issue_credentials("tpp-one", tpp_dir)
    with httpx.Client(timeout=5.0) as http:
        resolver = route_checking_resolver(local_verifier(state, http))
        router = APIRouter()

        @router.get("/accounts")
        def accounts(caller: CallerDep) -> dict[str, object]:
            return {"tpp": caller.tpp_id, "consent": caller.consent_id}

        @router.post("/account-access-consents")
        def create(caller: CallerDep) -> dict[str, object]:
            return {"tpp": caller.tpp_id}

        ais = create_app("stand-in AIS", [(AIS, router)], caller_resolver=resolver)
        idp_app = SandboxIdp(state).app()
        dispatcher = Dispatcher(routes=[(AIS, ais), ("/sandbox", idp_app)], fallback=idp_app, lifespans=[ais, idp_app])
        server = Server(dispatcher, port)
        try:
            yield base, state, tpp_dir, http
        finally:
            server.stop()


def mtls(tpp_dir: Path) -> dict[str, str]:
    name, _, value = (tpp_dir / "mtls-header.txt").read_text().strip().partition(": ")
    return {name: value}


def token(base: str, tpp_dir: Path, scope: str = "accounts") -> httpx.Response:
    return httpx.post(f"{base}/sandbox/token", data={"grant_type": "client_credentials", "scope": scope},
                      headers=mtls(tpp_dir))


def test_credentials_files_chain_to_the_sandbox_ca(sandbox: tuple[str, SandboxState, Path, httpx.Client]) -> None:
    _, state, tpp_dir, _ = sandbox
    certificate = load_certificate((tpp_dir / "client.pem").read_bytes())
    assert certificate.issuer == state.ca.certificate.subject
    assert (tpp_dir / "client.key").stat().st_mode & 0o077 == 0, "the private key is not world-readable"
    assert (tpp_dir / "ca.pem").read_bytes() == cert_pem(state.ca.certificate)
    kid = (tpp_dir / "signing.kid").read_text().strip()
    assert SandboxKeyResolver(state).resolve("tpp-one", kid).kid == kid


def test_token_is_bound_to_the_client_certificate(sandbox: tuple[str, SandboxState, Path, httpx.Client]) -> None:
    base, state, tpp_dir, http = sandbox
    answer = token(base, tpp_dir)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    caller = local_verifier(state, http)(answer.json()["access_token"], (tpp_dir / "client.pem").read_text())
    assert (caller.tpp_id, caller.client_id, caller.scopes) == ("tpp-one", "tpp-one-client", frozenset({"accounts"}))
    assert httpx.get(f"{base}/sandbox/jwks").json()["keys"][0]["kid"] == state.idp_key.kid


@pytest.mark.parametrize(("data", "headers", "status", "error"), [
    ({"grant_type": "client_credentials", "scope": "accounts"}, {}, 401, "invalid_client"),
    ({"grant_type": "client_credentials", "scope": "admin"}, None, 400, "invalid_scope"),
    ({"grant_type": "password", "scope": "accounts"}, None, 400, "unsupported_grant_type"),
])
def test_token_endpoint_refusals(data: dict[str, str], headers: dict[str, str] | None, status: int, error: str,
                                 sandbox: tuple[str, SandboxState, Path, httpx.Client]) -> None:
    base, _, tpp_dir, _ = sandbox
    answer = httpx.post(f"{base}/sandbox/token", data=data, headers=mtls(tpp_dir) if headers is None else headers)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_requests_without_valid_credentials_get_obie_errors(sandbox: tuple[str, SandboxState, Path,
                                                                            httpx.Client]) -> None:
    base, _, tpp_dir, _ = sandbox
    bare = httpx.get(f"{base}{AIS}/accounts")
    assert bare.status_code == 401 and bare.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Header.Invalid"
    assert bare.headers["x-fapi-interaction-id"]
    access = token(base, tpp_dir).json()["access_token"]
    no_cert = httpx.get(f"{base}{AIS}/accounts", headers={"authorization": f"Bearer {access}"})
    assert no_cert.status_code == 401 and "client certificate" in no_cert.json()["Message"]
    no_consent = httpx.get(f"{base}{AIS}/accounts", headers={"authorization": f"Bearer {access}", **mtls(tpp_dir)})
    assert no_consent.status_code == 403
    assert no_consent.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.ConsentMismatch"
    wrong_scope = token(base, tpp_dir, "payments").json()["access_token"]
    refused = httpx.post(f"{base}{AIS}/account-access-consents", json={},
                         headers={"authorization": f"Bearer {wrong_scope}", **mtls(tpp_dir)})
    assert refused.status_code == 403 and "needs the scope accounts" in refused.json()["Message"]
    allowed = httpx.post(f"{base}{AIS}/account-access-consents", json={},
                         headers={"authorization": f"Bearer {access}", **mtls(tpp_dir)})
    assert allowed.status_code == 200 and allowed.json() == {"tpp": "tpp-one"}


def test_token_of_another_certificate_is_refused(sandbox: tuple[str, SandboxState, Path, httpx.Client],
                                                 tmp_path: Path) -> None:
    base, state, tpp_dir, _ = sandbox
    state.issue_credentials("tpp-one", tmp_path)
    access = token(base, tmp_path).json()["access_token"]
    answer = httpx.get(f"{base}{AIS}/accounts", headers={"authorization": f"Bearer {access}", **mtls(tpp_dir)})
    assert answer.status_code == 401 and "different client certificate" in answer.json()["Message"]


def test_internal_paths_are_not_exposed(sandbox: tuple[str, SandboxState, Path, httpx.Client]) -> None:
    base, _, _, _ = sandbox
    answer = httpx.post(f"{base}/internal/aisp/account-access-consents/aac-1/authorisation", json={})
    assert answer.status_code == 404 and answer.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"


def test_revocation_through_the_cli_is_served_by_ocsp(sandbox: tuple[str, SandboxState, Path, httpx.Client],
                                                      tmp_path: Path) -> None:
    base, state, _, http = sandbox
    port = base.rsplit(":", 1)[1]
    assert sandbox_cli(["--state-dir", str(state.directory), "--port", port, "credentials", "--tpp-id", "tpp-two",
                        "--out", str(tmp_path)]) == 0
    access = token(base, tmp_path).json()["access_token"]
    pem = (tmp_path / "client.pem").read_text()
    assert sandbox_cli(["--state-dir", str(state.directory), "--port", port, "revoke",
                        "--cert", str(tmp_path / "client.pem")]) == 0
    # a fresh verifier (no cached verdict) asks the sandbox's OCSP responder, which reads the revocation file
    with pytest.raises(Exception, match="revoked"):
        local_verifier(state, http)(access, pem)
    refused = token(base, tmp_path)
    assert refused.status_code == 401 and "revoked" in refused.json()["error_description"]
    crl = httpx.get(f"{base}/sandbox/crl")
    assert crl.status_code == 200 and crl.headers["content-type"] == "application/pkix-crl"


def test_authorize_requires_an_existing_consent_of_the_same_tpp(sandbox: tuple[str, SandboxState, Path,
                                                                                httpx.Client]) -> None:
    base, _, tpp_dir, _ = sandbox
    answer = httpx.post(f"{base}/sandbox/authorize", headers=mtls(tpp_dir),
                        json={"ConsentId": "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60", "PsuId": "psu-0001"})
    assert answer.status_code == 400 and "does not exist for TPP tpp-one" in answer.json()["error_description"]


def test_authorize_calls_the_owning_service_and_binds_the_consent(tmp_path: Path) -> None:
    """In-process: the internal endpoint receives the decision with the IdP's own credentials."""
    state = SandboxState.open(tmp_path / "state", "http://127.0.0.1:9")
    state.issue_credentials("tpp-one", tmp_path / "tpp")
    seen: list[tuple[dict[str, object], str]] = []
    internal = APIRouter()

    @internal.post("/internal/aisp/account-access-consents/{consent_id}/authorisation", status_code=204)
    def decide(consent_id: str, body: dict[str, object], caller: CallerDep) -> None:
        seen.append((body, " ".join(sorted(caller.scopes))))

    tokens = AccessTokenVerifier(state.issuer, lambda kid: state.idp_key)

    def idp_token(token: str, client_cert_pem: str | None) -> Caller:  # signature, issuer, certificate binding
        assert client_cert_pem is not None
        return tokens.verify(token, load_certificate(client_cert_pem)).caller()

    service = create_app("internal", [("", internal)], caller_resolver=local_caller(idp_token))
    consent_id = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"
    idp = SandboxIdp(state, consents=lambda cid: ("tpp-one", "AwaitingAuthorisation") if cid == consent_id else None,
                     services={"aac": service}, accounts_of=lambda psu: ["acc-0001-01", "acc-0001-02"])
    from fastapi.testclient import TestClient

    with TestClient(idp.app()) as client:
        header = (tmp_path / "tpp" / "mtls-header.txt").read_text().strip().partition(": ")
        answer = client.post("/sandbox/authorize", headers={header[0]: header[2]},
                             json={"ConsentId": consent_id, "PsuId": "psu-0001"})
    assert answer.status_code == 200, answer.text
    assert seen == [({"Status": "Authorised", "PsuId": "psu-0001", "AccountIds": ["acc-0001-01", "acc-0001-02"]},
                     "openbanking:consent-authorisation")]
    from joserfc import jwt

    claims = jwt.decode(answer.json()["access_token"], state.idp_key).claims
    certificate = load_certificate((tmp_path / "tpp" / "client.pem").read_bytes())
    assert claims["openbanking_intent_id"] == consent_id and claims["scope"] == "accounts"
    assert claims["cnf"] == {"x5t#S256": thumbprint_s256(certificate)} and claims["org_id"] == "tpp-one"


def test_state_is_created_once(tmp_path: Path) -> None:
    first = SandboxState.open(tmp_path, "http://127.0.0.1:8000")
    second = SandboxState.open(tmp_path, "http://127.0.0.1:8000")
    assert first.ca.certificate == second.ca.certificate and first.idp_key.kid == second.idp_key.kid
    assert (tmp_path / ".gitignore").read_text() == "*\n"
