"""The deployables registry (`openbanking/deployables.py`) is what the infrastructure builds from, so every fact in
it is tied to the code: container user, port and health check to the Dockerfile, the entry module to the CMD,
handlers and archives to `make lambdas`, tables and streams to `TABLES`. The two modules the infrastructure
imports stay plain data, and the `openbanking` package has no import cycle."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import build_lambdas
import pytest

from openbanking.common.settings import RDS_CA_BUNDLE
from openbanking.common.tables import TABLES
from openbanking.deployables import (
    DEPLOYABLES,
    LEDGER_ROLES,
    OUTBOX_DETAIL_TYPES,
    OUTBOX_EVENT_SOURCE,
    SANDBOX_DEPLOYABLES,
    Deployable,
)
from openbanking.lambdas.event_delivery import DeliverySettings
from tests.services.test_container_images import SERVICES, UVICORN_FACTORY, env_of, only, parse_dockerfile

CONTAINERS = [d for d in DEPLOYABLES.values() if d.kind in ("service", "task")]
LAMBDAS = [d for d in DEPLOYABLES.values() if d.kind == "lambda"]


def test_the_registry_covers_what_the_workload_accounts_run() -> None:
    assert {n: d.kind for n, d in DEPLOYABLES.items()} == {
        "ais": "service", "pis": "service", "events": "service", "ingestion": "service", "ledger_migrate": "task",
        "authorizer": "lambda", "consent_expiry": "lambda", "event_delivery": "lambda", "outbox_relay": "lambda",
        "event_router": "lambda", "idp_certificate": "lambda", "sandbox_idp": "service", "sandbox_ca": "service",
        "sandbox_seed": "task"}
    assert set(SANDBOX_DEPLOYABLES) <= set(DEPLOYABLES)
    assert all(name == d.name for name, d in DEPLOYABLES.items())


@pytest.mark.parametrize("deployable", CONTAINERS, ids=lambda d: d.name)
def test_container_facts_are_the_dockerfile_s(deployable: Deployable) -> None:
    assert deployable.dockerfile and not deployable.handler and not deployable.archive
    instructions = parse_dockerfile(SERVICES / deployable.dockerfile)
    assert only(instructions, "USER").arguments == deployable.user
    exposed = [i.arguments for i in instructions if i.keyword == "EXPOSE"]
    assert exposed == ([str(deployable.port)] if deployable.port else [])
    checks = [i for i in instructions if i.keyword == "HEALTHCHECK"]
    if deployable.health_check is None:
        assert deployable.kind == "task" and not checks, "a one-off task has no health check"
    else:
        options, _, command = only(instructions, "HEALTHCHECK").arguments.partition(" CMD ")
        assert tuple(json.loads(command)) == deployable.health_check.command
        flags = dict(option.lstrip("-").split("=") for option in options.split())
        assert flags == {"interval": f"{deployable.health_check.interval_seconds}s",
                         "timeout": f"{deployable.health_check.timeout_seconds}s",
                         "start-period": f"{deployable.health_check.start_period_seconds}s",
                         "retries": str(deployable.health_check.retries)}
        if deployable.health_check.path:
            assert deployable.health_check.path in command and "PORT" in env_of(instructions)
    argv = only(instructions, "CMD").exec_form()
    if argv[:2] == ["sh", "-c"]:
        match = UVICORN_FACTORY.match(argv[2])
        assert match and match["module"] == deployable.module
    else:
        assert argv[:2] == ["python", "-m"] and f"{argv[2]}.__main__" == deployable.module


@pytest.mark.parametrize("deployable", [d for d in CONTAINERS if d.uses_ledger], ids=lambda d: d.name)
def test_images_that_reach_the_ledger_carry_the_rds_ca_bundle(deployable: Deployable) -> None:
    instructions = parse_dockerfile(SERVICES / str(deployable.dockerfile))
    assert any(i.keyword == "ARG" and i.arguments == "RDS_CA_BUNDLE_SHA256" for i in instructions)
    assert any(i.keyword == "RUN" and i.arguments.startswith("python /tmp/install_rds_ca_bundle.py")
               for i in instructions)
    script = SERVICES / "images" / "install_rds_ca_bundle.py"
    assert f'DEFAULT_DESTINATION = "{RDS_CA_BUNDLE}"' in script.read_text(), "where OB_DATABASE_SSL_ROOT_CERT points"


def test_the_ca_bundle_step_installs_only_the_bundle_it_was_given(tmp_path: Path) -> None:
    import hashlib

    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    script = str(SERVICES / "images" / "install_rds_ca_bundle.py")
    destination = tmp_path / "etc" / "rds.pem"

    def run(sha: str) -> subprocess.CompletedProcess[str]:
        env = {"RDS_CA_BUNDLE_SHA256": sha, "RDS_CA_BUNDLE_URL": bundle.as_uri(),
               "RDS_CA_BUNDLE_DESTINATION": str(destination), "PATH": "/usr/bin:/bin"}
        return subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, check=False)

    refused = run("0" * 64)
    assert refused.returncode == 1 and "RDS_CA_BUNDLE_SHA256:" in refused.stderr and not destination.exists()
    assert run("").returncode == 1
    accepted = run(hashlib.sha256(bundle.read_bytes()).hexdigest())
    assert accepted.returncode == 0, accepted.stderr
    assert destination.read_bytes() == bundle.read_bytes()


@pytest.mark.parametrize("deployable", LAMBDAS, ids=lambda d: d.name)
def test_lambda_facts_are_the_archive_s(deployable: Deployable) -> None:
    assert deployable.handler == f"{deployable.module}.handler" and deployable.archive == f"{deployable.name}.zip"
    module = importlib.import_module(deployable.module)
    assert callable(module.handler)
    spec = build_lambdas.LAMBDAS[deployable.name]
    assert spec.module == deployable.module and spec.requirements.is_file()
    assert deployable.memory_mb and deployable.timeout_seconds and not deployable.dockerfile
    trigger = deployable.trigger
    assert (deployable.batch_size is not None) == (trigger in ("sqs", "dynamodb-stream"))
    assert deployable.reports_batch_item_failures == (trigger in ("sqs", "dynamodb-stream"))
    assert (deployable.schedule is not None) == (trigger == "schedule")
    assert (deployable.event_pattern is not None) == (trigger == "eventbridge-rule")
    assert bool(deployable.consumes_streams) == (trigger == "dynamodb-stream")


def test_build_lambdas_builds_exactly_the_registry_s_lambdas() -> None:
    assert sorted(build_lambdas.LAMBDAS) == sorted(d.name for d in LAMBDAS)


def test_event_delivery_outlasts_its_batch() -> None:
    delivery = DEPLOYABLES["event_delivery"]
    assert delivery.batch_size and delivery.timeout_seconds
    assert delivery.timeout_seconds >= delivery.batch_size * DeliverySettings().budget_seconds


def test_the_router_rule_matches_what_the_relay_puts() -> None:
    pattern = json.loads(str(DEPLOYABLES["event_router"].event_pattern))
    assert pattern == {"source": [OUTBOX_EVENT_SOURCE], "detail-type": list(OUTBOX_DETAIL_TYPES)}


def test_tables_and_streams_are_the_tables_module_s() -> None:
    used = set()
    for deployable in DEPLOYABLES.values():
        assert set(deployable.tables) | set(deployable.consumes_streams) <= set(TABLES), deployable.name
        assert not set(deployable.reads_tables) & set(deployable.writes_tables), deployable.name
        assert all(TABLES[t].stream for t in deployable.consumes_streams), deployable.name
        used |= set(deployable.tables)
    assert used == set(TABLES), "every table is used by a deployable (or it should not exist)"
    assert {t for d in DEPLOYABLES.values() for t in d.consumes_streams} == {n for n, s in TABLES.items() if s.stream}


def test_ledger_roles_are_one_per_login_access() -> None:
    assert {d.name: d.ledger_role for d in DEPLOYABLES.values() if d.uses_ledger} == {
        "ais": LEDGER_ROLES["read"], "pis": LEDGER_ROLES["read"], "ingestion": LEDGER_ROLES["write"],
        "ledger_migrate": None, "sandbox_idp": LEDGER_ROLES["read"], "sandbox_seed": None}
    # the workload accounts run the one task that owns the ledger; the sandbox's seeding task is not it
    assert [d.name for d in DEPLOYABLES.values() if d.kind == "task" and d.owns_ledger] == ["ledger_migrate"]
    # both one-off tasks connect with the master credentials; nothing else does
    assert [d.name for d in DEPLOYABLES.values() if d.uses_master_credentials] == ["ledger_migrate", "sandbox_seed"]


def test_the_modules_the_infrastructure_imports_load_nothing_but_the_standard_library() -> None:
    probe = ("import sys; before = set(sys.modules); "
             "import openbanking.deployables, openbanking.common.tables, openbanking.operations, "
             "openbanking.sandbox.instructions; "
             "new = sorted(m for m in set(sys.modules) - before if not m.startswith('openbanking')); "
             "third = [m for m in new if m.split('.')[0] not in sys.stdlib_module_names]; print(third)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=SERVICES, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    for package in ("openbanking/__init__.py", "openbanking/common/__init__.py"):
        local, external = build_lambdas._imports(SERVICES / package, package.replace("/__init__.py", "")
                                                 .replace("/", "."))
        assert not local and not external, f"{package} must stay import-free"


def _all_imports(path: Path, module: str) -> set[str]:
    """Every `openbanking` module a file imports, at module level or inside a function (a deferred import that
    only breaks a cycle is still a cycle)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            found |= {target, *(f"{target}.{alias.name}" for alias in node.names)}
    return {name for name in found if name.split(".")[0] == "openbanking"}


def test_the_openbanking_package_has_no_import_cycle() -> None:
    modules = {".".join(p.relative_to(SERVICES).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (SERVICES / "openbanking").rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {target for target in (m if m in modules else m.rpartition(".")[0]
                                             for m in _all_imports(path, name))
                       if target in modules and target != name and not name.startswith(f"{target}.")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
