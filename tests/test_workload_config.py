"""The workloads section of the config: what runs where, the stores that follow, one feed, prod sizing."""

from __future__ import annotations

import pytest

from environments.config import CONFIG_KEY, WorkloadConfig
from environments.validation import load_environment
from tests.test_config import problems, stack_config

K = CONFIG_KEY


def test_the_shipped_workload_stacks_place_every_service_once() -> None:
    for stack in ("dev", "prod"):
        config = load_environment(stack_config(stack))
        assert isinstance(config, WorkloadConfig)
        placed = [s for w in config.workloads.values() for s in w.services.names() if s != "ingestion"]
        assert sorted(placed) == ["ais", "events", "pis"]


def test_a_service_runs_in_exactly_one_account() -> None:
    raw = stack_config("dev")
    raw["workloads"]["pis"]["services"]["ais"] = {"cpu": 256, "memory": 512}
    raw["workloads"]["ais"]["services"].pop("ais")
    raw["workloads"]["ais"].pop("cache")  # nothing here uses it any more... except ingestion
    lines = problems(raw)
    assert f"{K}.workloads.ais.cache: is required where ingestion run" in lines


def test_a_service_placed_twice_is_refused_and_a_missing_one_named() -> None:
    raw = stack_config("dev")
    raw["workloads"]["ais"]["services"]["pis"] = {"cpu": 256, "memory": 512}
    del raw["workloads"]["pis"]["services"]["events"]
    assert problems(raw) == [
        f"{K}.workloads.pis.services.pis: already runs in workloads.ais; each of ais, pis, events runs in exactly one "
        "account",
        f"{K}.workloads: no account runs events; a workload stack runs each of ais, pis, events in exactly one account",
    ]


def test_the_ledger_follows_the_services_that_read_it() -> None:
    raw = stack_config("dev")
    del raw["workloads"]["pis"]["services"]["ingestion"]
    del raw["workloads"]["pis"]["ledger"]
    assert problems(raw) == [
        f"{K}.workloads.pis.services.ingestion: is required where pis run (it fills this account's copy of the ledger)",
        f"{K}.workloads.pis.ledger: is required where pis run (this account's copy of the ledger)",
        f"{K}.workloads.pis.cache: is not used: neither ais nor ingestion runs here",
    ]


def test_one_feed_for_the_stack_in_an_account_that_ingests() -> None:
    raw = stack_config("dev")
    raw["workloads"]["pis"]["coreBankingFeed"] = dict(raw["workloads"]["ais"]["coreBankingFeed"])
    assert problems(raw) == [f"{K}.workloads.pis.coreBankingFeed: workloads.ais has the stack's feed already; "
                             "core banking publishes to one"]
    raw = stack_config("dev")
    del raw["workloads"]["ais"]["coreBankingFeed"]
    assert problems(raw) == [f"{K}.workloads: ingestion runs in ais, pis but no account has the coreBankingFeed "
                             "(set it on one of them)"]


@pytest.mark.parametrize(("feed", "expected"), [
    ({"type": "rabbitmq", "instanceType": "mq.m7g.large"},
     "coreBankingFeed.type: 'rabbitmq' cannot serve ingestion in pis: Amazon MQ has no cross-account connectivity; "
     "use msk"),
    ({"type": "msk", "instanceType": "kafka.t3.small"},
     "coreBankingFeed.instanceType: 'kafka.t3.small' does not support MSK multi-VPC connectivity, which ingestion "
     "in pis needs (kafka.m5.large or larger)"),
    ({"type": "msk", "instanceType": "mq.m7g.large"},
     "coreBankingFeed.instanceType: 'mq.m7g.large' is not a msk instance type (kafka.<family>.<size>)"),
])
def test_the_feed_must_be_able_to_serve_every_ingesting_account(feed: dict, expected: str) -> None:
    raw = stack_config("dev")
    raw["workloads"]["ais"]["coreBankingFeed"] = feed
    assert problems(raw) == [f"{K}.workloads.ais.{expected}"]


def test_prod_sizing_survives_an_az() -> None:
    raw = stack_config("prod")
    raw["workloads"]["pis"]["services"]["pis"]["minTasks"] = 1
    raw["workloads"]["ais"]["ledger"]["instances"] = 1
    raw["workloads"]["pis"]["cache"]["replicas"] = 0
    assert problems(raw) == [
        f"{K}.workloads.ais.ledger.instances: 1 is below the prod minimum of 2 (a reader in another AZ to fail over to)",
        f"{K}.workloads.pis.services.pis.minTasks: 1 is below the prod minimum of 2 (one task per availability zone "
        "at least)",
        f"{K}.workloads.pis.cache.replicas: 0 is below the prod minimum of 1 (Multi-AZ with automatic failover)",
    ]


def test_prod_refuses_a_rabbitmq_feed() -> None:
    raw = stack_config("prod")
    raw["workloads"]["pis"]["services"].pop("ingestion")
    raw["workloads"]["pis"]["services"].pop("pis")
    raw["workloads"]["ais"]["services"]["pis"] = raw["workloads"]["ais"]["services"]["ais"]
    del raw["workloads"]["pis"]["ledger"], raw["workloads"]["pis"]["cache"]
    raw["workloads"]["ais"]["coreBankingFeed"] = {"type": "rabbitmq", "instanceType": "mq.m7g.large"}
    assert problems(raw) == [f"{K}.workloads.ais.coreBankingFeed.type: 'rabbitmq' is not allowed in prod: Amazon MQ "
                             "keeps RabbitMQ data with an AWS-owned key and cannot rotate the broker user's password; "
                             "use msk"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"cpu": 300}, "cpu: 300 is not a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384)"),
    ({"cpu": 256, "memory": 4096}, "memory: 4096 does not go with cpu 256 (Fargate: 512-2048 MiB in steps of 512)"),
    ({"minTasks": 4, "maxTasks": 2}, "maxTasks: 2 is below minTasks (4)"),
    ({"image": "latest"}, "image: 'latest' string should match pattern '^sha256:[0-9a-f]{64}$'"),
])
def test_a_service_size_fargate_cannot_run_is_refused(change: dict, expected: str) -> None:
    raw = stack_config("dev")
    raw["workloads"]["ais"]["services"]["ais"] |= change
    assert problems(raw) == [f"{K}.workloads.ais.services.ais.{expected}"]


def test_the_tpp_directory_must_be_on_the_egress_allow_list() -> None:
    raw = stack_config("dev")
    raw["openBanking"]["tppJwksUrlTemplate"] = "https://keys.example.org/{tpp_id}.jwks"
    assert problems(raw) == [f"{K}.openBanking.tppJwksUrlTemplate: 'https://keys.example.org/{{tpp_id}}.jwks' names "
                             "keys.example.org, which network.egressAllowedDomains does not let out; the services "
                             "could not fetch TPPs' keys"]


def test_the_internal_ca_is_a_private_ca_arn() -> None:
    raw = stack_config("dev")
    raw["internalCertificateAuthorityArn"] = "arn:aws:acm:eu-west-2:200000000001:certificate/x"
    [line] = problems(raw)
    assert line.startswith(f"{K}.internalCertificateAuthorityArn: 'arn:aws:acm:eu-west-2:200000000001:certificate/x' "
                           "string should match pattern")
