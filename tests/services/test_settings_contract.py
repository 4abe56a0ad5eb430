"""`required_variables`: the `OB_*` variables each deployable needs in a deployed account, derived from the settings
classes its module reads and their `Deployed` metadata. The expectations below are the contract the infrastructure
wires (and its own test asserts against every task definition and Lambda)."""

from __future__ import annotations

import os
from enum import Enum
from typing import Annotated

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbanking import settings_contract
from openbanking.common.settings import Deployed
from openbanking.deployables import DEPLOYABLES, Deployable
from openbanking.settings_contract import FEEDS, required_variables, secret_variables, settings_classes

CORE = {"OB_AWS_REGION", "OB_ENVIRONMENT"}
LEDGER = {"OB_DATABASE_HOST", "OB_DATABASE_NAME", "OB_DATABASE_USER", "OB_DATABASE_IAM_AUTH"}
CACHE = {"OB_REDIS_URL", "OB_REDIS_USER", "OB_REDIS_IAM_AUTH", "OB_REDIS_CACHE_NAME"}
SIGNING = {"OB_SIGNING_KMS_KEY_ARN", "OB_SIGNING_KEY_ID", "OB_FINANCIAL_ID"}

#: What an HTTP service behind a load balancer writes for its alarms.
HTTP = {"OB_REQUEST_METRICS"}

EXPECTED: dict[tuple[str, str | None], set[str]] = {
    ("ais", None): CORE | HTTP | LEDGER | CACHE | {"OB_TABLE_PREFIX", "OB_BASE_URL"},
    ("pis", None): CORE | HTTP | LEDGER | SIGNING | {"OB_TABLE_PREFIX", "OB_BASE_URL", "OB_TPP_JWKS_URL_TEMPLATE"},
    ("events", None): CORE | HTTP | SIGNING | {"OB_TABLE_PREFIX", "OB_BASE_URL", "OB_TPP_JWKS_URL_TEMPLATE",
                                               "OB_CALLBACK_DOMAINS"},
    ("ingestion", "msk"): CORE | LEDGER | CACHE | {"OB_TRANSPORT", "OB_KAFKA_BOOTSTRAP_SERVERS", "OB_KAFKA_IAM_AUTH"},
    ("ingestion", "rabbitmq"): CORE | LEDGER | CACHE | {"OB_AMQP_URL", "OB_AMQP_USERNAME", "OB_AMQP_PASSWORD"},
    ("ledger_migrate", None): CORE | {"OB_DATABASE_HOST", "OB_DATABASE_NAME", "OB_DATABASE_MASTER_USERNAME",
                                      "OB_DATABASE_MASTER_PASSWORD"},
    ("authorizer", None): {"OB_AWS_REGION", "OB_TOKEN_ISSUER", "OB_JWKS_URL", "OB_TRUSTSTORE", "OB_CLIENT_CERT_SOURCE"},
    ("consent_expiry", None): CORE | {"OB_TABLE_PREFIX"},
    ("event_delivery", None): CORE | SIGNING | {"OB_DELIVERY_DEAD_LETTER_QUEUE_URL", "OB_CALLBACK_DOMAINS"},
    ("outbox_relay", None): CORE | {"OB_BASE_URL", "OB_EVENT_BUS"},
    ("event_router", None): CORE | {"OB_TABLE_PREFIX", "OB_BASE_URL", "OB_EVENT_QUEUE_URL"},
    ("sandbox_idp", None): CORE | HTTP | LEDGER | SIGNING | {
        "OB_TABLE_PREFIX", "OB_TOKEN_ISSUER", "OB_SANDBOX_IDP_KEY", "OB_SANDBOX_CA_CERTIFICATE", "OB_SANDBOX_AIS_URL",
        "OB_SANDBOX_PIS_URL"},
    ("sandbox_ca", None): CORE | HTTP | {"OB_TABLE_PREFIX", "OB_SANDBOX_CA_KEY", "OB_SANDBOX_CA_CERTIFICATE",
                                         "OB_SANDBOX_OCSP_URL", "OB_SANDBOX_CRL_URL"},
    ("sandbox_seed", None): CORE | {"OB_DATABASE_HOST", "OB_DATABASE_NAME", "OB_DATABASE_MASTER_USERNAME",
                                    "OB_DATABASE_MASTER_PASSWORD"},
    ("idp_certificate", None): {"OB_AWS_REGION", "OB_CERTIFICATE_ARN", "OB_TLS_HOSTNAME", "OB_ECS_CLUSTER",
                                "OB_ECS_SERVICE"},
}
SECRETS: dict[tuple[str, str | None], set[str]] = {
    ("ingestion", "rabbitmq"): {"OB_AMQP_USERNAME", "OB_AMQP_PASSWORD"},
    ("ledger_migrate", None): {"OB_DATABASE_MASTER_USERNAME", "OB_DATABASE_MASTER_PASSWORD"},
    ("sandbox_idp", None): {"OB_SANDBOX_IDP_KEY"},
    ("sandbox_ca", None): {"OB_SANDBOX_CA_KEY"},
    ("sandbox_seed", None): {"OB_DATABASE_MASTER_USERNAME", "OB_DATABASE_MASTER_PASSWORD"},
}


def test_every_deployable_and_feed_is_covered() -> None:
    assert {name for name, _ in EXPECTED} == set(DEPLOYABLES)


@pytest.mark.parametrize(("deployable", "feed"), list(EXPECTED))
def test_required_variables(deployable: str, feed: str | None) -> None:
    assert required_variables(deployable, feed=feed) == EXPECTED[deployable, feed]
    assert secret_variables(deployable, feed=feed) == SECRETS.get((deployable, feed), set())


def test_every_marker_names_a_deployable_flag_and_a_known_feed() -> None:
    flags = {name for name in dir(Deployable) if not name.startswith("_")} | set(Deployable.__dataclass_fields__)
    for deployable in DEPLOYABLES.values():
        for settings in settings_classes(deployable):
            for name, info in settings.model_fields.items():
                for marker in (m for m in info.metadata if isinstance(m, Deployed)):
                    assert marker.when is None or marker.when in flags, (settings.__name__, name, marker.when)
                    assert marker.feed is None or marker.feed in FEEDS, (settings.__name__, name, marker.feed)


@pytest.mark.parametrize(("deployable", "feed"), list(EXPECTED))
def test_the_variables_reach_the_settings_the_deployable_reads(deployable: str, feed: str | None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Set every required variable to a deployed-looking value: each marked field that applies takes it."""
    for name in [n for n in os.environ if n.startswith("OB_")]:
        monkeypatch.delenv(name)
    wanted = settings_contract.variables(deployable, feed=feed)
    for variable in wanted:
        field = variable.name.removeprefix(str(variable.settings.model_config.get("env_prefix", ""))).lower()
        default = variable.settings.model_fields[field].default
        annotation = variable.settings.model_fields[field].annotation
        if isinstance(annotation, type) and issubclass(annotation, Enum):  # a deployed choice other than the default
            value = next(member.value for member in annotation if member != default)
        elif field == "callback_domains":  # a JSON list
            value = '["deployed.example"]'
        else:
            value = "true" if isinstance(default, bool) else ("kafka" if field == "transport" else f"deployed-{field}")
        monkeypatch.setenv(variable.name, value)
    for variable in wanted:
        field = variable.name.removeprefix(str(variable.settings.model_config.get("env_prefix", ""))).lower()
        value = getattr(variable.settings(), field)
        shown = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        assert shown not in (None, False) and shown != variable.settings.model_fields[field].default, variable.name


def test_bad_requests_are_named() -> None:
    with pytest.raises(ValueError, match=r"^deployable: 'nope' is not one of ais, authorizer"):
        required_variables("nope")
    with pytest.raises(ValueError, match=r"^feed: None must be one of msk, rabbitmq \(ingestion consumes"):
        required_variables("ingestion")
    with pytest.raises(ValueError, match=r"^feed: 'msk' given, but ais does not consume"):
        required_variables("ais", feed="msk")


def test_the_set_is_derived_from_the_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    class Probe(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="OB_PROBE_")

        always: Annotated[str, Deployed()] = Field(default="x", description="needed by every reader")
        ledger_only: Annotated[str, Deployed("uses_ledger")] = "x"
        msk_only: Annotated[str, Deployed("uses_feed", feed="msk")] = "x"
        local_is_fine: str = "x"

    monkeypatch.setattr(settings_contract, "settings_classes", lambda _deployable: (Probe,))
    assert required_variables("events") == {"OB_PROBE_ALWAYS"}
    assert required_variables("ais") == {"OB_PROBE_ALWAYS", "OB_PROBE_LEDGER_ONLY"}
    assert required_variables("ingestion", feed="msk") == {"OB_PROBE_ALWAYS", "OB_PROBE_LEDGER_ONLY",
                                                          "OB_PROBE_MSK_ONLY"}
    assert required_variables("ingestion", feed="rabbitmq") == {"OB_PROBE_ALWAYS", "OB_PROBE_LEDGER_ONLY"}




def test_the_readme_documents_every_required_variable() -> None:
    from tests.services.test_container_images import SERVICES

    readme = (SERVICES / "README.md").read_text()
    rows = {line.split("|")[1].strip().strip("`") for line in readme.splitlines() if line.startswith("| `OB_")}
    every = set().union(*(required_variables(name, feed=feed) for name, feed in EXPECTED))
    assert every <= rows, f"services/README.md's Deployed settings table lacks {sorted(every - rows)}"
