"""`make bench`, services part: latency and throughput of the OBIE endpoints over loopback HTTP.

Each service runs as it does in its container (uvicorn, one worker, its real dependencies: PostgreSQL,
Redis, DynamoDB through a moto server) in a process of its own; the client is a separate process too.
Every figure is reported next to a bare endpoint of the same stack (same app, same middleware, a fixed
body), so the ratio says what the endpoint's own work costs, whatever the machine.

- `GET /accounts/{AccountId}/transactions`, warm cache (Redis hit) and cold cache (invalidated before
  each request, so PostgreSQL answers);
- `POST /domestic-payments`, with a fresh authorised consent, idempotency key and JWS per request.

OBIE's benchmark is 750 ms mean time to last byte; the target here is p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI
from joserfc.jwk import RSAKey
from psycopg import sql
from redis import Redis
from rich.console import Console
from rich.table import Table

from openbanking.common.dynamo import create_tables
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.cache import LedgerCache, cache_prefix
from openbanking.ledger.db import create_ledger_engine
from openbanking.ledger.migrate import upgrade
from openbanking.ledger.seed import seed

SERVICES = Path(__file__).resolve().parent
AIS, PIS = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp"
TPP, PSU, ACCOUNT = "bench-tpp", "psu-0001", "acc-0001-01"
IDP = {"x-ob-tpp-id": "aspsp-idp", "x-ob-client-id": "idp", "x-ob-scopes": "openbanking:consent-authorisation"}
TARGET_P99_MS = 50.0
LATENCY_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
THROUGHPUT_SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
THREADS = 4
FIXED_BODY = {"Data": {"Status": "fixed"}, "Links": {"Self": "http://127.0.0.1/bench/fixed"}, "Meta": {}}


# --- server side: uvicorn --factory benchmark:ais_app / benchmark:pis_app -------------------------------------

def _with_bare_endpoint(app: FastAPI) -> FastAPI:
    """The floor: a route of the same app (same middleware, error handling) returning a fixed body."""

    def fixed() -> dict[str, Any]:
        return FIXED_BODY

    app.add_api_route("/bench/fixed", fixed, methods=["GET"])
    return app


def ais_app() -> FastAPI:
    from openbanking.ais.app import build_app

    return _with_bare_endpoint(build_app(ServiceSettings()))


def pis_app() -> FastAPI:
    from openbanking.pis.app import build_app

    tpp_key = RSAKey.import_key(json.loads(Path(os.environ["BENCH_TPP_JWK"]).read_text()))
    return _with_bare_endpoint(build_app(ServiceSettings(), key_resolver=StaticKeyResolver({TPP: [tpp_key]})))


# --- client side ---------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _database() -> Iterator[str]:
    name = f"ob_bench_{os.getpid()}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def _moto() -> Iterator[str]:
    """DynamoDB as a moto server in its own process, so it competes with neither client nor service."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(process, f"{url}/moto-api/data.json", "moto server")
        yield url
    finally:
        _stop(process)


def _wait(process: subprocess.Popen[bytes], url: str, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within 30 s")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def _server(factory: str, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", f"benchmark:{factory}", "--app-dir", str(SERVICES),
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env=os.environ | env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(process, f"{base}/health", factory)
        yield base
    finally:
        _stop(process)


def _gateway(scopes: str, consent_id: str | None = None) -> dict[str, str]:
    headers = {"x-ob-tpp-id": TPP, "x-ob-client-id": f"{TPP}-client", "x-ob-scopes": scopes}
    return headers | ({"x-ob-consent-id": consent_id} if consent_id else {})


def _check(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}")
    return response


def _latency(request: Callable[[], object], before: Callable[[], None] | None = None,
             count: int = LATENCY_REQUESTS) -> list[float]:
    """Milliseconds to the last byte of `count` sequential requests, after a short warm-up."""
    for _ in range(min(20, count)):
        if before:
            before()
        request()
    samples = []
    for _ in range(count):
        if before:
            before()
        start = time.perf_counter()
        response = request()
        if isinstance(response, httpx.Response):
            response.read()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _throughput(make_request: Callable[[httpx.Client], httpx.Response], base: str) -> float:
    """Requests per second with THREADS keep-alive clients for THROUGHPUT_SECONDS."""
    done = [0] * THREADS
    stop = time.perf_counter() + THROUGHPUT_SECONDS

    def worker(index: int) -> None:
        with httpx.Client(base_url=base) as client:
            while time.perf_counter() < stop:
                make_request(client)
                done[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - start)


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, list[float], float | None, list[float], float | None]] = []
        self.endpoints: list[str] = []

    def add(self, name: str, samples: list[float], rps: float | None, floor: list[float], floor_rps: float | None,
            *, endpoint: bool = True) -> None:
        """`endpoint=False` for reference rows (bare endpoints, the emulator's own cost), which the verdict ignores."""
        self.rows.append((name, samples, rps, floor, floor_rps))
        if endpoint:
            self.endpoints.append(name)

    def table(self) -> Table:
        table = Table(title=f"services over loopback: {LATENCY_REQUESTS} sequential requests; throughput with "
                            f"{THREADS} clients for {THROUGHPUT_SECONDS:g} s; ratios = how many times slower than the bare "
                            "endpoint",
                      title_justify="left")
        for column in ("endpoint", "p50 ms", "p99 ms", "p50 ratio", "p99 ratio", "req/s", "req/s ratio"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for name, samples, rps, floor, floor_rps in self.rows:
            table.add_row(name, f"{_p(samples, 50):.2f}", f"{_p(samples, 99):.2f}",
                          f"{_p(samples, 50) / _p(floor, 50):.2f}", f"{_p(samples, 99) / _p(floor, 99):.2f}",
                          f"{rps:.0f}" if rps else "-", f"{floor_rps / rps:.2f}" if rps and floor_rps else "-")
        return table

    def worst_p99(self) -> tuple[str, float]:
        return max(((name, _p(samples, 99)) for name, samples, *_ in self.rows if name in self.endpoints),
                   key=lambda row: row[1])


def _bench_ais(base: str, redis: Redis, environment: str, results: Results) -> None:
    with httpx.Client(base_url=base) as client:
        consent = _check(client.post(f"{AIS}/account-access-consents", headers=_gateway("accounts"), json={
            "Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail",
                                     "ReadTransactionsCredits", "ReadTransactionsDebits"]},
            "Risk": {}}), 201).json()["Data"]["ConsentId"]
        _check(client.post(f"/internal/aisp/account-access-consents/{consent}/authorisation", headers=IDP,
                           json={"Status": "Authorised", "PsuId": PSU, "AccountIds": [ACCOUNT]}), 204)
        headers = _gateway("accounts", consent)
        path = f"{AIS}/accounts/{ACCOUNT}/transactions"
        cache = LedgerCache(redis, prefix=cache_prefix(environment), ttl_seconds=60)

        def transactions(c: httpx.Client = client) -> httpx.Response:
            return _check(c.get(path, headers=headers), 200)

        def bare(c: httpx.Client = client) -> httpx.Response:
            return _check(c.get("/bench/fixed", headers=headers), 200)

        floor = _latency(bare)
        floor_rps = _throughput(bare, base)
        results.add("AIS bare endpoint", floor, floor_rps, floor, floor_rps, endpoint=False)
        results.add("GET transactions, warm cache", _latency(transactions), _throughput(transactions, base),
                    floor, floor_rps)
        results.add("GET transactions, cold cache", _latency(transactions, before=lambda: cache.invalidate(ACCOUNT)),
                    None, floor, floor_rps)


def _signed(tpp_key: RSAKey, document: dict[str, Any], scopes: str, consent_id: str | None = None) -> dict[str, Any]:
    body = json.dumps(document).encode()
    signer = DetachedJwsSigner(tpp_key, str(tpp_key.kid), f"{TPP}/{TPP}-client")
    return {"content": body, "headers": _gateway(scopes, consent_id) | {
        "content-type": "application/json", "x-jws-signature": signer.sign(body),
        "x-idempotency-key": str(uuid.uuid4())}}


def _bench_pis(base: str, tpp_key: RSAKey, results: Results) -> None:
    initiation = {"InstructionIdentification": "BENCH-1", "EndToEndIdentification": "BENCH-E2E-1",
                  "InstructedAmount": {"Amount": "10.00", "Currency": "GBP"},
                  "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber",
                                      "Identification": "08080021325698", "Name": "ACME Inc"},
                  "RemittanceInformation": {"Reference": "BENCH"}}
    risk: dict[str, Any] = {"PaymentContextCode": "PartyToParty"}
    with httpx.Client(base_url=base) as client:
        def authorised_payment_request() -> dict[str, Any]:
            consent = _check(client.post(f"{PIS}/domestic-payment-consents", **_signed(
                tpp_key, {"Data": {"Initiation": initiation}, "Risk": risk}, "payments")), 201).json()
            consent_id = consent["Data"]["ConsentId"]
            _check(client.post(f"/internal/pisp/domestic-payment-consents/{consent_id}/authorisation", headers=IDP,
                               json={"Status": "Authorised", "PsuId": PSU, "AccountId": ACCOUNT}), 204)
            return _signed(tpp_key, {"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": risk},
                           "payments", consent_id)

        count = LATENCY_REQUESTS // 2
        prepared = [authorised_payment_request() for _ in range(count + 20)]
        headers = _gateway("payments")

        def bare(c: httpx.Client = client) -> httpx.Response:
            return _check(c.get("/bench/fixed", headers=headers), 200)

        def payment() -> httpx.Response:
            return _check(client.post(f"{PIS}/domestic-payments", **prepared.pop()), 201)

        floor = _latency(bare)
        floor_rps = _throughput(bare, base)
        results.add("PIS bare endpoint (signed response)", floor, floor_rps, floor, floor_rps, endpoint=False)
        results.add("POST domestic-payments", _latency(payment, count=count), None, floor, floor_rps)


def _bench_dynamodb(settings: ServiceSettings, results: Results) -> None:
    """One DynamoDB read against the moto server: what each of a request's table calls costs here (real
    DynamoDB in-region answers in single-digit milliseconds too, but moto is a Python process on this host)."""
    import boto3

    client = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    table = f"{settings.table_prefix}consents"
    client.put_item(TableName=table, Item={"ConsentId": {"S": "bench"}, "TppId": {"S": TPP},
                                           "CreationDateTime": {"S": "2026-01-01T00:00:00+00:00"}})
    samples = _latency(lambda: client.get_item(TableName=table, Key={"ConsentId": {"S": "bench"}}))
    results.add("moto DynamoDB GetItem (one table call)", samples, None, samples, None, endpoint=False)


def _bench_moto_transaction(settings: ServiceSettings, results: Results) -> None:
    """One TransactWriteItems against the tables as the payments left them: moto deep-copies every table
    in a transaction, so this grows with the table and dominates the payment's p99 here (real DynamoDB
    does not); the service's own work per payment is a few milliseconds."""
    import boto3

    client = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    consents, payments = f"{settings.table_prefix}consents", f"{settings.table_prefix}payments"

    def transaction() -> object:
        return client.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": consents, "Key": {"ConsentId": {"S": "bench"}},
                                "ConditionExpression": "attribute_exists(ConsentId)"}},
            {"Put": {"TableName": payments, "Item": {"PaymentId": {"S": f"bench-{uuid.uuid4()}"},
                                                     "ConsentId": {"S": "bench"}},
                     "ConditionExpression": "attribute_not_exists(PaymentId)"}}])

    samples = _latency(transaction, count=LATENCY_REQUESTS // 2)
    results.add("moto TransactWriteItems (tables as left)", samples, None, samples, None, endpoint=False)


def main() -> None:
    # No options: `--help` explains rather than starting the run, and anything else is refused.
    argparse.ArgumentParser(prog="python services/benchmark.py", description=(__doc__ or "").split("\n\n")[0],
                            epilog="Needs the PostgreSQL and Redis of services/README.md.").parse_args()
    console = Console(width=140)
    results = Results()
    environment = f"bench{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp, _database() as database_url, _moto() as dynamodb_url:
        engine = create_ledger_engine(database_url)
        upgrade(engine)
        seed(engine, customers=3, months=12, seed=7, until=datetime(2026, 6, 30, tzinfo=UTC))
        engine.dispose()
        tpp_key = RSAKey.generate_key(2048, {"kid": "bench-tpp-sig", "use": "sig"}, private=True)
        aspsp_key = RSAKey.generate_key(2048, {"kid": "bench-aspsp-sig", "use": "sig"}, private=True)
        (Path(tmp) / "tpp.jwk").write_text(json.dumps(tpp_key.as_dict(private=False)))
        (Path(tmp) / "aspsp.pem").write_bytes(aspsp_key.as_pem(private=True))
        env = {"OB_ENVIRONMENT": environment, "OB_DATABASE_URL": database_url, "OB_DYNAMODB_ENDPOINT_URL": dynamodb_url,
               "OB_TABLE_PREFIX": f"{environment}-", "OB_SIGNING_KEY_PATH": str(Path(tmp) / "aspsp.pem"),
               "OB_SIGNING_KEY_ID": "bench-aspsp-sig", "BENCH_TPP_JWK": str(Path(tmp) / "tpp.jwk"),
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-west-2"}
        settings = ServiceSettings(table_prefix=f"{environment}-", dynamodb_endpoint_url=dynamodb_url,
                                   aws_region="eu-west-2")
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        create_tables(settings)
        _bench_dynamodb(settings, results)
        redis = Redis.from_url(settings.redis_url)
        try:
            with _server("ais_app", env) as base:
                _bench_ais(base, redis, environment, results)
            with _server("pis_app", env) as base:
                _bench_pis(base, tpp_key, results)
            _bench_moto_transaction(settings, results)
        finally:
            for key in redis.scan_iter(f"{cache_prefix(environment)}*"):
                redis.delete(key)
    console.print(results.table())
    name, worst = results.worst_p99()
    verdict = "[green]within target[/]" if worst <= TARGET_P99_MS else "[red]above target[/]"
    console.print(f"worst p99: {name}, {worst:.1f} ms (target < {TARGET_P99_MS:.0f} ms; OBIE benchmark 750 ms mean "
                  f"TTLB): {verdict}")
    console.print("The moto rows are the emulator's own cost per call, to read the endpoint rows by: every table call "
                  "of an endpoint pays one, and moto's TransactWriteItems copies whole tables, which real DynamoDB "
                  "does not (single-digit milliseconds in-region).")


if __name__ == "__main__":
    main()
