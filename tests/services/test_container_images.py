"""The service images, checked without a Docker daemon: each Dockerfile (build context services/) is parsed and held to
what matters on Fargate — a slim base pinned to a patch release, a non-root numeric USER, a HEALTHCHECK, COPY sources
that exist and survive .dockerignore, the pinned services/requirements.txt, and a CMD whose entry point imports and
builds a service that answers /health. The AIS command is then run from a copy of the build context as the image
lays it out, with a read-only root file system simulated, and must write nothing."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from moto import mock_aws
from moto.server import ThreadedMotoServer

from openbanking.deployables import DEPLOYABLES
from openbanking.sandbox.server import free_port
from tests.services.ledger.support import REDIS_URL, ledger_database, redis_namespace

SERVICES = Path(__file__).resolve().parents[2] / "services"
#: The registry's containers (services and tasks), by deployable name.
IMAGES = tuple(d.name for d in DEPLOYABLES.values() if d.dockerfile)
SERVICE_IMAGES = tuple(d.name for d in DEPLOYABLES.values() if d.dockerfile and d.kind == "service")
FASTAPI_IMAGES = ("ais", "pis", "events")
BASE_IMAGE = re.compile(r"^python:(?P<minor>3\.\d+)\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?$")
UVICORN_FACTORY = re.compile(r"^exec uvicorn --factory (?P<module>[\w.]+):(?P<function>\w+) (?P<options>.*)$")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str]:
        """The JSON (exec) form's argv; shell form is refused: signals must reach the process, not `/bin/sh`."""
        argv = json.loads(self.arguments)
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), f"line {self.line}: {self.arguments}"
        return argv


def parse_dockerfile(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped (Dockerfile syntax, default escape `\\`)."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    assert not pending, f"{path}: the last instruction ends in a line continuation"
    return instructions


def dockerfile(service: str) -> list[Instruction]:
    """The instructions of a deployable's Dockerfile."""
    return parse_dockerfile(SERVICES / str(DEPLOYABLES[service].dockerfile))


def package_of(service: str) -> str:
    """The package of the directory that holds a deployable's Dockerfile (its entry module lives in it)."""
    return ".".join(Path(str(DEPLOYABLES[service].dockerfile)).parent.parts)


def only(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected exactly one {keyword}, found {len(found)}"
    return found[0]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, equals, value = pair.partition("=")
                assert equals, f"line {instruction.line}: use ENV NAME=value, not the legacy form"
                values[name] = value
    return values


def copies(instructions: list[Instruction]) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context."""
    result = []
    for instruction in instructions:
        if instruction.keyword in ("COPY", "ADD"):
            assert instruction.keyword == "COPY", f"line {instruction.line}: ADD fetches and unpacks; use COPY"
            parts = shlex.split(instruction.arguments)
            assert not any(p.startswith("--from") for p in parts), "single-stage images copy from the context only"
            parts = [p for p in parts if not p.startswith("--")]
            result.append((parts[:-1], parts[-1]))
    return result


# --- .dockerignore, with the semantics of moby's patternmatcher -----------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                parts.append("(.*/)?")
            else:
                parts.append(".*")
            continue
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            end = pattern.index("]", i)
            parts.append(pattern[i:end + 1])
            i = end + 1
            continue
        elif char == "\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(parts) + "$")


def dockerignore() -> Callable[[str], bool]:
    """`ignored(relative path)`: the last matching pattern decides; a pattern matching a parent directory excludes
    everything below it; `!pattern` re-includes."""
    rules: list[tuple[re.Pattern[str], bool]] = []
    for raw in (SERVICES / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((_pattern_regex(pattern), include))

    def ignored(path: str) -> bool:
        parts = Path(path).parts
        candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        verdict = False
        for regex, include in rules:
            if any(regex.match(candidate) for candidate in candidates):
                verdict = not include
        return verdict

    return ignored


# --- the Dockerfiles ------------------------------------------------------------------------------------------------


def test_every_image_uses_one_slim_base_pinned_to_a_patch_release() -> None:
    bases = {service: only(dockerfile(service), "FROM").arguments for service in IMAGES}
    for service, base in bases.items():
        match = BASE_IMAGE.match(base)
        assert match, f"{service}: FROM {base} is not a slim python image pinned to a patch release and Debian suite"
        assert match["minor"] == f"{sys.version_info.major}.{sys.version_info.minor}", \
            f"{service}: the image's Python must be the one the services are tested on (and the Lambda runtime)"
    assert len(set(bases.values())) == 1, f"all services must run on the same base: {bases}"


@pytest.mark.parametrize("service", IMAGES)
def test_runs_as_a_non_root_numeric_user_created_in_the_image(service: str) -> None:
    instructions = dockerfile(service)
    user = only(instructions, "USER")
    cmd = only(instructions, "CMD")
    uid, _, gid = user.arguments.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {user.arguments}: Fargate's runAsNonRoot check needs a numeric uid"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    assert user.line < cmd.line, "USER must precede CMD"
    assert not [i for i in instructions if i.keyword == "RUN" and i.line > user.line], "nothing runs as root after"
    creates = [i for i in instructions if i.keyword == "RUN" and re.search(rf"useradd .*--uid {uid}\b", i.arguments)]
    assert creates, f"uid {uid} must be created in the image (useradd --uid {uid})"


@pytest.mark.parametrize("service", SERVICE_IMAGES)
def test_healthcheck_probes_the_service_own_health_endpoint(service: str) -> None:
    instructions = dockerfile(service)
    check = only(instructions, "HEALTHCHECK")
    options, _, command = check.arguments.partition(" CMD ")
    assert command, f"HEALTHCHECK must run a command, not {check.arguments!r}"
    for option in ("--interval=", "--timeout=", "--start-period=", "--retries="):
        assert option in options, f"HEALTHCHECK {option[:-1]} must be set explicitly"
    argv = json.loads(command)
    assert argv[0] == "python" and "/health" in argv[-1], argv
    port_variable = "OB_HEALTH_PORT" if service == "ingestion" else "PORT"
    assert port_variable in argv[-1] and port_variable in env_of(instructions), \
        f"the probe must ask the port the service listens on (${port_variable}, set by ENV)"


@pytest.mark.parametrize("service", IMAGES)
def test_copy_sources_exist_in_the_build_context_and_survive_dockerignore(service: str) -> None:
    ignored = dockerignore()
    found = copies(dockerfile(service))
    assert found, "the image must copy its code"
    for sources, destination in found:
        assert destination.startswith("/"), f"COPY destination {destination} must be absolute"
        for source in sources:
            assert (SERVICES / source).exists(), f"COPY {source}: not in the build context services/"
            assert not ignored(source), f"COPY {source}: excluded by services/.dockerignore"


@pytest.mark.parametrize("service", IMAGES)
def test_installs_exactly_the_pinned_services_requirements(service: str) -> None:
    instructions = dockerfile(service)
    destinations = [dest for sources, dest in copies(instructions) if sources == ["requirements.txt"]]
    assert len(destinations) == 1, "the image must copy services/requirements.txt"
    installs = [i for i in instructions if i.keyword == "RUN" and "pip install" in i.arguments]
    assert len(installs) == 1 and f"-r {destinations[0]}" in installs[0].arguments, \
        "pip must install the copied services/requirements.txt and nothing else"
    assert "--no-compile" in installs[0].arguments, "no bytecode in the image (and none written at run time)"
    lines = [line.split("#")[0].strip() for line in (SERVICES / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line]
    assert requirements and all(re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[\w,]+\])?==[\w.]+", r) for r in requirements), \
        f"every requirement must be pinned with ==: {requirements}"
    if service in FASTAPI_IMAGES:
        assert any(r.startswith("uvicorn==") for r in requirements), "the CMD runs uvicorn"


@pytest.mark.parametrize("service", IMAGES)
def test_image_layout_matches_pythonpath_and_writes_no_bytecode(service: str) -> None:
    instructions = dockerfile(service)
    env = env_of(instructions)
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1" and env.get("PYTHONUNBUFFERED") == "1"
    assert env.get("PIP_NO_CACHE_DIR") == "1"
    code = [dest for sources, dest in copies(instructions) if sources == ["openbanking"]]
    assert code == [f"{env['PYTHONPATH']}/openbanking"], "the openbanking package must sit on PYTHONPATH"


def entry_point(service: str) -> tuple[str, str | None]:
    """(module, factory function) of the CMD: `uvicorn --factory m:f` or `python -m m`."""
    argv = only(dockerfile(service), "CMD").exec_form()
    if argv[:2] == ["sh", "-c"]:
        match = UVICORN_FACTORY.match(argv[2])
        assert match, f"{service}: CMD {argv[2]!r} must exec uvicorn --factory (exec: uvicorn gets SIGTERM)"
        assert "--port ${PORT}" in match["options"] and "--host 0.0.0.0" in match["options"]
        return match["module"], match["function"]
    assert argv[:2] == ["python", "-m"] and len(argv) == 3, f"{service}: unexpected CMD {argv}"
    return argv[2], None


@pytest.mark.parametrize("service", IMAGES)
def test_command_entry_point_is_importable(service: str) -> None:
    module, function = entry_point(service)
    assert module.startswith(f"{package_of(service)}.") or module == package_of(service)
    if function is None:
        assert importlib.util.find_spec(f"{module}.__main__") is not None, f"python -m {module} needs __main__"
        assert callable(getattr(importlib.import_module(f"{module}.__main__"), "main", None))
    else:
        assert callable(getattr(importlib.import_module(module), function, None)), f"{module}:{function}"


@pytest.fixture(scope="module")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """OB_* settings as a task definition would give them (not the `local` environment): a database of our own, a
    Redis namespace of our own, a mounted signing key, the TPP directory JWKS template."""
    key_file = tmp_path_factory.mktemp("secrets") / "aspsp-signing.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    with ledger_database("img") as engine, redis_namespace() as (_, environment):
        yield {"OB_ENVIRONMENT": environment, "OB_TABLE_PREFIX": f"{environment}-", "OB_AWS_REGION": "eu-west-2",
               "OB_DATABASE_URL": engine.url.render_as_string(hide_password=False), "OB_REDIS_URL": REDIS_URL,
               "OB_BASE_URL": "https://api.bank.example", "OB_SIGNING_KEY_PATH": str(key_file),
               "OB_SIGNING_KEY_ID": "aspsp-2025", "OB_TPP_JWKS_URL_TEMPLATE": "https://keystore.example/{tpp_id}.jwks",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.parametrize("service", FASTAPI_IMAGES)
def test_factory_builds_an_app_whose_health_answers(service: str, service_env: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("OB_")]:
        monkeypatch.delenv(name)
    for name, value in service_env.items():
        monkeypatch.setenv(name, value)
    module, function = entry_point(service)
    assert function is not None
    with mock_aws():
        app = getattr(importlib.import_module(module), function)()
        assert isinstance(app, FastAPI)
        with TestClient(app) as client:
            answer = client.get("/health")
    assert answer.status_code == 200, answer.text


# --- the build context ------------------------------------------------------------------------------------------------


def test_dockerignore_keeps_state_bytecode_archives_and_caches_out_of_the_context() -> None:
    ignored = dockerignore()
    for path in ("openbanking/__pycache__", "openbanking/ais/__pycache__/app.cpython-311.pyc", "openbanking/x.pyc",
                 "build_lambdas.pyo", ".sandbox", ".sandbox/ca.key", "openbanking/.sandbox/idp-signing.pem",
                 "dist", "dist/authorizer.zip", ".pytest_cache/v/cache/nodeids", "openbanking/.pytest_cache",
                 ".ruff_cache/0.1/x", ".mypy_cache", ".hypothesis/examples", ".venv/bin/python", ".env"):
        assert ignored(path), f"{path} must not be sent to the Docker daemon"
    kept = [p.relative_to(SERVICES).as_posix() for p in (SERVICES / "openbanking").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    assert "openbanking/ledger/alembic.ini" in kept and any("/migrations/" in p for p in kept)
    excluded = [p for p in [*kept, "requirements.txt"] if ignored(p)]
    assert not excluded, f"the image needs these, .dockerignore drops them: {excluded}"


# --- a read-only root file system -------------------------------------------------------------------------------------


def _build_context_copy(root: Path, instructions: list[Instruction]) -> None:
    """Lay out what the image's COPY instructions put in place, from the context as .dockerignore filters it."""
    ignored = dockerignore()

    def skip(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(SERVICES)
        return {n for n in names if ignored((relative / n).as_posix())}

    for sources, destination in copies(instructions):
        for source in sources:
            target = root / destination.lstrip("/")
            if (SERVICES / source).is_dir():
                shutil.copytree(SERVICES / source, target, ignore=skip)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(SERVICES / source, target)


def _snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory below the roots with its size and modification time."""
    found: dict[str, tuple[int, int]] = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            info = path.lstat()
            found[str(path)] = (info.st_size if path.is_file() else 0, info.st_mtime_ns)
    return found


def _read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        path.chmod(stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(stat.S_IMODE(path.lstat().st_mode) | stat.S_IWUSR)


def test_ais_image_command_serves_health_on_a_read_only_root_file_system(tmp_path: Path,
                                                                         service_env: dict[str, str]) -> None:
    instructions = dockerfile("ais")
    image_env = env_of(instructions)
    workdir = only(instructions, "WORKDIR").arguments
    image, scratch = tmp_path / "rootfs", tmp_path / "home"
    _build_context_copy(image, instructions)
    assert not list(image.rglob("__pycache__")) and not list(image.rglob("*.pyc")), "the context carries no bytecode"
    scratch.mkdir()
    _read_only(image)
    scratch.chmod(0o555)
    before = _snapshot(image, scratch)

    port, moto_port = free_port(), free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    command = only(instructions, "CMD").exec_form()
    # the container listens on all interfaces; on a shared test machine, loopback is enough
    command = [part.replace("--host 0.0.0.0", "--host 127.0.0.1") for part in command]
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}", "LANG": "C.UTF-8",
           **image_env, **service_env, "PYTHONPATH": str(image / image_env["PYTHONPATH"].lstrip("/")),
           "PORT": str(port), "HOME": str(scratch), "TMPDIR": str(scratch),
           "OB_DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}"}
    process = subprocess.Popen(command, cwd=image / workdir.lstrip("/"), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    probe: subprocess.CompletedProcess[str] | None = None
    try:
        deadline, healthy = time.monotonic() + 20, False
        while time.monotonic() < deadline and process.poll() is None and not healthy:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        if healthy:
            argv = json.loads(only(instructions, "HEALTHCHECK").arguments.partition(" CMD ")[2])
            argv[0] = sys.executable  # the image's `python`
            probe = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10, check=False)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            output = process.communicate(timeout=10)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output = process.communicate()[0].decode(errors="replace")
        moto.stop()
        after = _snapshot(image, scratch)
        _writable(image)
        scratch.chmod(0o755)
    assert probe is not None, f"the AIS command did not serve /health (exit {process.returncode}):\n{output}"
    assert probe.returncode == 0, f"the HEALTHCHECK command fails against a healthy service: {probe.stderr}"
    written = sorted(set(after) ^ set(before) | {p for p in before if p in after and before[p] != after[p]})
    assert not written, f"the service wrote to its file system: {written}\n{output}"
    assert "Application startup complete" in output, output
