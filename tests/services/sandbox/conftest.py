"""The real sandbox for the end-to-end tests: `python -m openbanking.sandbox serve` in a subprocess, as `make sandbox`
runs it, with a database of its own (which it creates), its own Redis namespace and state directory, a free port,
and automatic settlement every second. One per test session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from redis import Redis

from openbanking.sandbox.server import free_port
from tests.services.ledger.support import PG_ADMIN_URL, PG_URL_TEMPLATE, REDIS_URL, unique_name

STARTUP_SECONDS = 30.0
#: The sandbox's automatic settlement step in these tests (seconds).
SETTLEMENT_SECONDS = 1


@dataclass
class RunningSandbox:
    base_url: str
    state_dir: Path
    env: dict[str, str]
    output: Path
    database_url: str
    environment: str
    http: httpx.Client

    def cli(self, *args: str, cwd: Path | str = "/") -> subprocess.CompletedProcess[str]:
        """`python -m openbanking.sandbox ...` with the sandbox's own environment, from another directory."""
        return subprocess.run([sys.executable, "-m", "openbanking.sandbox", *args], cwd=cwd, env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)


def clean_env() -> dict[str, str]:
    """The caller's environment without any setting that could point the sandbox at shared state."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OB_") and k not in ("PORT", "PYTHONPATH")}


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the sandbox's process group (uvicorn and moto's threads), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, output: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sandbox exited with {process.returncode} before answering /health:\n{output.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the sandbox did not answer /health within {STARTUP_SECONDS:.0f} s:\n{output.read_text()}")


@pytest.fixture(scope="session")
def running_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    database = unique_name("sandbox")  # the sandbox creates it (its own database, as by default)
    environment = f"e2e{uuid.uuid4().hex[:12]}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    work = tmp_path_factory.mktemp("sandbox")
    state_dir, output = work / "state", work / "serve.log"
    database_url = PG_URL_TEMPLATE.format(db=database)
    env = {**clean_env(), "PORT": str(port), "OB_SANDBOX_DIR": str(state_dir),
           "OB_SANDBOX_DATABASE_URL": database_url, "OB_SANDBOX_REDIS_URL": REDIS_URL, "OB_ENVIRONMENT": environment,
           "OB_SANDBOX_SETTLEMENT_SECONDS": str(SETTLEMENT_SECONDS), "PYTHONDONTWRITEBYTECODE": "1"}
    process: subprocess.Popen[bytes] | None = None
    try:
        with output.open("wb") as sink:  # from a directory that is not services/: the sandbox must not care
            process = subprocess.Popen([sys.executable, "-m", "openbanking.sandbox", "serve"], cwd=work, env=env,
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_healthy(process, base_url, output)
        with httpx.Client(base_url=base_url, timeout=10.0) as http:
            yield RunningSandbox(base_url, state_dir, env, output, database_url, environment, http)
    finally:
        if process is not None:
            _stop(process)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"ob:{environment}:*", count=500))
        if keys:
            redis.delete(*keys)
        redis.close()
