"""Event callbacks go to the public internet only: refused at subscription time when the host is or resolves to a
private, loopback, link-local, CGNAT, multicast or reserved address (IPv4 and IPv6), and again at delivery, after
the delivery Lambda's own resolution, which it connects to directly: a name that is re-pointed after subscribing
reaches nothing. Deployed, the host must also be on the bank's TPP callback domains, and delivery asks the egress
proxy for the name it checked (the proxy's allow-list judges names). Names are resolved by resolvers the tests
control."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from openbanking.common.jws import StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.events.app import build_app
from openbanking.events.callbacks import (
    CallbackRefused,
    PinnedNetworkBackend,
    PinnedTransport,
    address_problem,
    domain_allowed,
    vet_host,
)
from openbanking.events.models import ResourceUpdate
from openbanking.events.tokens import SetSigner, event_claims
from openbanking.lambdas.event_delivery import Deliverer, DeliveryFailed, DeliverySettings
from tests.services.pis.support import BASE_URL, FINANCIAL_ID, FakeResolver, Tpp, aspsp_signer, new_rsa_key

RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"
PUBLIC = "93.184.215.14"

NOT_PUBLIC = ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.8.8", "169.254.169.254", "100.64.0.1",
              "100.127.255.254", "0.0.0.0", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
              "192.0.2.10", "198.18.0.1", "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1",
              "2001:db8::1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_named_as_such(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None
    with pytest.raises(CallbackRefused, match="public addresses only"):
        vet_host(address, FakeResolver({}))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4009:81f::200e"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
    assert [str(a) for a in vet_host(address, FakeResolver({}))] == [address]


def test_every_address_of_a_name_must_be_public() -> None:
    names = FakeResolver({"mixed.example": [PUBLIC, "10.1.2.3"], "good.example": [PUBLIC, "2606:4700:4700::1111"]})
    with pytest.raises(CallbackRefused, match=r"mixed\.example resolves to 10\.1\.2\.3, which is a private address"):
        vet_host("mixed.example", names)
    assert len(vet_host("good.example", names)) == 2
    assert [str(a) for a in vet_host("localhost.example", FakeResolver({"localhost.example": ["127.0.0.1"]}),
                                     allow_loopback=True)] == ["127.0.0.1"]


# --- at subscription time -------------------------------------------------------------------------------------------


@pytest.fixture
def names() -> FakeResolver:
    return FakeResolver({"tpp.example": [PUBLIC], "internal.tpp.example": ["10.20.30.40"],
                         "metadata.tpp.example": ["169.254.169.254"], "v6.tpp.example": ["fd12:3456::1"],
                         "cgnat.tpp.example": ["100.64.12.34"]})


@pytest.fixture
def deployed_events(dynamodb: Any, settings: ServiceSettings, tpp: Tpp, names: FakeResolver) -> TestClient:
    """The events service as deployed (not `local`: no loopback callbacks), resolving names with `names`."""
    deployed = settings.model_copy(update={"environment": "test"})
    return TestClient(build_app(deployed, dynamodb=dynamodb, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                                signer=aspsp_signer(), long_poll_seconds=0.1, name_resolver=names))


def _subscription(tpp: Tpp, callback: str, subscription_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"CallbackUrl": callback, "Version": "3.1"}
    if subscription_id:
        data["EventSubscriptionId"] = subscription_id
    return tpp.signed_post({"Data": data}, scopes="accounts")


@pytest.mark.parametrize(("callback", "reason"), [
    ("https://10.0.0.1/cb", "10.0.0.1 is a private address"),
    ("https://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
    ("https://127.0.0.1/cb", "127.0.0.1 is a loopback address"),
    ("https://100.64.0.7/cb", "shared (CGNAT)"),
    ("https://[::1]/cb", "::1 is a loopback address"),
    ("https://[fd00:ec2::254]/latest", "private address"),
    ("https://[::ffff:169.254.169.254]/latest", "link-local (IPv4 169.254.169.254 inside IPv6)"),
    ("https://internal.tpp.example/cb", "internal.tpp.example resolves to 10.20.30.40"),
    ("https://metadata.tpp.example/cb", "resolves to 169.254.169.254, which is a link-local address"),
    ("https://v6.tpp.example/cb", "resolves to fd12:3456::1, which is a private address"),
    ("https://cgnat.tpp.example/cb", "shared (CGNAT)"),
    ("https://unknown.tpp.example/cb", "could not be resolved"),
])
def test_a_non_public_callback_is_refused_at_subscription(deployed_events: TestClient, tpp: Tpp, callback: str,
                                                          reason: str) -> None:
    answer = deployed_events.post("/open-banking/v3.1/event-subscriptions", **_subscription(tpp, callback))
    assert answer.status_code == 400, answer.text
    error = answer.json()["Errors"][0]
    assert error["ErrorCode"] == "UK.OBIE.Field.Invalid" and error["Path"] == "Data.CallbackUrl"
    assert reason in error["Message"], error["Message"]


def test_put_is_held_to_the_same_rule(deployed_events: TestClient, tpp: Tpp, names: FakeResolver) -> None:
    created = deployed_events.post("/open-banking/v3.1/event-subscriptions",
                                   **_subscription(tpp, "https://tpp.example/cb"))
    assert created.status_code == 201, created.text
    assert names.lookups == ["tpp.example"]
    sub_id = created.json()["Data"]["EventSubscriptionId"]
    changed = deployed_events.put(f"/open-banking/v3.1/event-subscriptions/{sub_id}",
                                  **_subscription(tpp, "https://metadata.tpp.example/latest", sub_id))
    assert changed.status_code == 400 and changed.json()["Errors"][0]["Path"] == "Data.CallbackUrl"
    listed = deployed_events.get("/open-banking/v3.1/event-subscriptions", headers=tpp.caller_headers("accounts"))
    assert listed.json()["Data"]["EventSubscription"][0]["CallbackUrl"] == "https://tpp.example/cb", "unchanged"


# --- at delivery time -----------------------------------------------------------------------------------------------


class SpyBackend(httpcore.NetworkBackend):
    """The real socket backend, recording every TCP connection it is asked to open."""

    def __init__(self) -> None:
        self.inner = httpcore.SyncBackend()
        self.connections: list[tuple[str, int]] = []

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        self.connections.append((host, port))
        return self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class Receiver:
    """A TPP's callback server on 127.0.0.1 (plain http, or TLS with `context`), recording each request."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


def message(callback: str) -> str:
    update = ResourceUpdate.of("pdp-1", "domestic-payment", f"{BASE_URL}/open-banking/v3.1/pisp/domestic-payments/pdp-1")
    claims = event_claims(issuer=BASE_URL, audience="tpp-1", event_type=RESOURCE_UPDATE, subject=update, txn="t",
                          jti=str(uuid.uuid4()))
    return json.dumps({"TppId": "tpp-1", "CallbackUrl": callback, "Claims": claims})


class Parked(list[str]):
    """Stands in for the dead-letter queue's SQS client."""

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: dict[str, Any]) -> None:
        self.append(MessageAttributes["reason"]["StringValue"])


def delivery(backend: PinnedNetworkBackend, parked: Parked | None = None, *, local: bool = False,
             verify: ssl.SSLContext | bool = True) -> Deliverer:
    settings = DeliverySettings(attempts=2, base_delay_seconds=0.01, budget_seconds=5, timeout_seconds=2,
                                dead_letter_queue_url="https://sqs.eu-west-2.amazonaws.com/1/dlq" if parked is not None
                                else None)
    client = httpx.Client(transport=PinnedTransport(backend, verify=verify), follow_redirects=False)
    return Deliverer(SetSigner(new_rsa_key("set"), "set"), FINANCIAL_ID, client, settings, sqs=parked,
                     sleep=lambda s: None, allow_http=local)


def test_a_name_re_pointed_after_subscribing_is_refused_at_delivery(
        dynamodb: Any, settings: ServiceSettings, tpp: Tpp) -> None:
    """DNS rebinding: public when the events service checked, the metadata endpoint when the Lambda delivers."""
    rebinding = FakeResolver({"rebind.tpp.example": [[PUBLIC], ["169.254.169.254"]]})
    events = TestClient(build_app(settings.model_copy(update={"environment": "test"}), dynamodb=dynamodb,
                                  key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}), signer=aspsp_signer(),
                                  name_resolver=rebinding))
    created = events.post("/open-banking/v3.1/event-subscriptions",
                          **_subscription(tpp, "https://rebind.tpp.example/cb"))
    assert created.status_code == 201, created.text
    spy, parked = SpyBackend(), Parked()
    delivery(PinnedNetworkBackend(rebinding, backend=spy), parked).deliver(message("https://rebind.tpp.example/cb"))
    assert spy.connections == [], "nothing was connected to"
    assert len(parked) == 1 and "169.254.169.254, which is a link-local address" in parked[0]
    assert rebinding.lookups == ["rebind.tpp.example", "rebind.tpp.example"]


@pytest.mark.parametrize("callback", ["https://10.0.0.1/cb", "https://[fd00:ec2::254]/latest",
                                      "https://internal.tpp.example/cb", "http://tpp.example/cb"])
def test_non_public_or_plain_http_callbacks_are_parked_unsent(callback: str) -> None:
    spy, parked = SpyBackend(), Parked()
    names = FakeResolver({"internal.tpp.example": ["10.9.8.7"], "tpp.example": [PUBLIC]})
    delivery(PinnedNetworkBackend(names, backend=spy), parked).deliver(message(callback))
    assert spy.connections == [] and len(parked) == 1, parked


def test_the_connection_goes_to_the_address_that_was_checked(receiver: Receiver) -> None:
    """One lookup per connection, and the socket is opened to its answer (a second answer is never used); the
    request still names the host (Host header). Loopback is allowed here as in the `local` environment."""
    names = FakeResolver({"tpp.example": [["127.0.0.1"], ["10.0.0.1"]]})
    spy = SpyBackend()
    delivery(PinnedNetworkBackend(names, backend=spy, allow_loopback=True), local=True).deliver(
        message(f"http://tpp.example:{receiver.port}/cb"))
    assert spy.connections == [("127.0.0.1", receiver.port)] and names.lookups == ["tpp.example"]
    [(path, headers)] = receiver.requests
    assert path == "/cb/event-notifications" and headers["host"] == f"tpp.example:{receiver.port}"


def test_an_unresolvable_name_is_retried_not_parked() -> None:
    parked = Parked()
    with pytest.raises(DeliveryFailed, match="could not be resolved"):
        delivery(PinnedNetworkBackend(FakeResolver({})), parked).deliver(message("https://gone.tpp.example/cb"))
    assert parked == []


class ConnectProxy:
    """A forward proxy that records CONNECT targets and tunnels to them, resolving names with its own table (as
    the egress proxy resolves with its own DNS)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.targets: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += client.recv(4096)
        target = request.split(b"\r\n", 1)[0].split()[1].decode()
        self.targets.append(target)
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((self.names.get(host, host.strip("[]")), int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                sink.close()

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self) -> None:
        self.listener.close()


def test_through_the_egress_proxy_the_tunnel_is_asked_for_the_checked_name(receiver: Receiver) -> None:
    """The egress proxy allow-lists names (Squid `dstdomain`), so it is asked for the name, once the Lambda has
    checked the name's addresses itself; the proxy resolves it and refuses internal addresses on its own."""
    proxy = ConnectProxy({"tpp.example": "127.0.0.1"})
    try:
        names = FakeResolver({"tpp.example": ["127.0.0.1"]})
        backend = PinnedNetworkBackend(names, proxy=f"http://127.0.0.1:{proxy.port}", allow_loopback=True)
        delivery(backend, local=True).deliver(message(f"http://tpp.example:{receiver.port}/cb"))
    finally:
        proxy.close()
    assert proxy.targets == [f"tpp.example:{receiver.port}"] and names.lookups == ["tpp.example"]
    assert len(receiver.requests) == 1


def test_through_the_egress_proxy_a_name_resolving_inside_never_reaches_the_proxy() -> None:
    proxy = ConnectProxy({})
    parked = Parked()
    try:
        names = FakeResolver({"internal.tpp.example": ["10.9.8.7"]})
        backend = PinnedNetworkBackend(names, proxy=f"http://127.0.0.1:{proxy.port}")
        delivery(backend, parked).deliver(message("https://internal.tpp.example/cb"))
    finally:
        proxy.close()
    assert proxy.targets == [] and len(parked) == 1 and "10.9.8.7, which is a private address" in parked[0]


# --- the bank's TPP callback domains ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "allowed"), [
    ("hooks.tpp-one.example", True), ("TPP-ONE.example", True), ("tpp-one.example.", False), ("tpp-one.example", True),
    ("a.b.tpp-one.example", True), ("eviltpp-one.example", False), ("tpp-one.example.attacker.example", False),
    ("hooks.tpp-two.example", True), ("x.hooks.tpp-two.example", False), ("tpp-two.example", False),
    (PUBLIC, False), ("::1", False),
])
def test_callback_domains_read_as_the_proxy_reads_them(host: str, allowed: bool) -> None:
    assert domain_allowed(host, [".tpp-one.example", "hooks.tpp-two.example"]) is allowed
    assert domain_allowed(host, []) is False


@pytest.fixture
def listed_events(dynamodb: Any, settings: ServiceSettings, tpp: Tpp, names: FakeResolver) -> TestClient:
    """The events service as deployed, with the bank's callback domains (`OB_CALLBACK_DOMAINS`)."""
    deployed = settings.model_copy(update={"environment": "test", "callback_domains": ["hooks.tpp.example"]})
    return TestClient(build_app(deployed, dynamodb=dynamodb, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                                signer=aspsp_signer(), long_poll_seconds=0.1, name_resolver=names))


def test_a_callback_off_the_banks_callback_domains_is_refused_before_any_lookup(
        listed_events: TestClient, tpp: Tpp, names: FakeResolver) -> None:
    names.answers["hooks.tpp.example"] = [[PUBLIC]]
    refused = listed_events.post("/open-banking/v3.1/event-subscriptions",
                                 **_subscription(tpp, "https://tpp.example/cb"))
    assert refused.status_code == 400, refused.text
    error = refused.json()["Errors"][0]
    assert error["ErrorCode"] == "UK.OBIE.Field.Invalid" and error["Path"] == "Data.CallbackUrl"
    assert "tpp.example is not one of the bank's TPP callback domains (hooks.tpp.example)" in error["Message"]
    assert names.lookups == []
    on_8443 = listed_events.post("/open-banking/v3.1/event-subscriptions",
                                 **_subscription(tpp, "https://hooks.tpp.example:8443/cb"))
    assert on_8443.status_code == 400 and "port 8443: the bank's network lets event notifications out on 443 only" \
        in on_8443.json()["Errors"][0]["Message"]
    created = listed_events.post("/open-banking/v3.1/event-subscriptions",
                                 **_subscription(tpp, "https://hooks.tpp.example:443/cb"))
    assert created.status_code == 201, created.text


def test_an_empty_list_refuses_every_callback_and_says_so(dynamodb: Any, settings: ServiceSettings, tpp: Tpp,
                                                          names: FakeResolver) -> None:
    deployed = settings.model_copy(update={"environment": "test", "callback_domains": []})
    events = TestClient(build_app(deployed, dynamodb=dynamodb, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                                  signer=aspsp_signer(), long_poll_seconds=0.1, name_resolver=names))
    refused = events.post("/open-banking/v3.1/event-subscriptions", **_subscription(tpp, "https://tpp.example/cb"))
    assert refused.status_code == 400
    assert "callback domains (none)" in refused.json()["Errors"][0]["Message"]


def test_callback_domains_are_read_from_the_environment_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OB_CALLBACK_DOMAINS", '[".tpp-one.example", "hooks.tpp-two.example"]')
    assert ServiceSettings().callback_domains == [".tpp-one.example", "hooks.tpp-two.example"]
    monkeypatch.setenv("OB_CALLBACK_DOMAINS", "[]")
    assert ServiceSettings().callback_domains == []
    monkeypatch.delenv("OB_CALLBACK_DOMAINS")
    assert ServiceSettings().callback_domains is None


def test_delivery_parks_a_callback_off_the_list_without_a_lookup_or_a_connection() -> None:
    spy, parked = SpyBackend(), Parked()
    names = FakeResolver({"tpp.example": [PUBLIC]})
    deliverer = delivery(PinnedNetworkBackend(names, backend=spy), parked)
    deliverer.callback_domains = ("hooks.tpp.example",)
    deliverer.deliver(message("https://tpp.example/cb"))
    deliverer.deliver(message("https://hooks.tpp.example:8443/cb"))
    assert spy.connections == [] and names.lookups == []
    assert parked == ["the callback is not let out: tpp.example is not one of the bank's TPP callback domains "
                      "(hooks.tpp.example); the bank's network lets event notifications out to those only",
                      "the callback is not let out: port 8443: the bank's network lets event notifications out on "
                      "443 only"]


def _tls(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `name` from a fresh CA, and a client context trusting that CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(minutes=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    return server, ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))


def test_tls_is_verified_against_the_host_name_not_the_pinned_address(tmp_path: Path) -> None:
    server, client = _tls(tmp_path, "tpp.example")
    receiver = Receiver(server)
    try:
        names = FakeResolver({"tpp.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
        delivery(PinnedNetworkBackend(names, allow_loopback=True), verify=client).deliver(
            message(f"https://tpp.example:{receiver.port}/cb"))
        assert len(receiver.requests) == 1
        with pytest.raises(DeliveryFailed, match="ConnectError"):  # the certificate is not other.example's
            delivery(PinnedNetworkBackend(names, allow_loopback=True), verify=client).deliver(
                message(f"https://other.example:{receiver.port}/cb"))
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
