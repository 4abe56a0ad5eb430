"""Each environment-config rule: a good case and a bad case, with the key path in the message."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from environments.config import CONFIG_KEY, ConfigError, WorkloadConfig
from environments.validation import load_environment
from tests.conftest import ROOT


def stack_config(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(doc["config"][CONFIG_KEY])


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_environment(raw)
    return err.value.problems


@pytest.mark.parametrize("stack", ["foundation", "sandbox", "dev", "prod"])
def test_shipped_stack_configs_are_valid(stack: str) -> None:
    assert load_environment(stack_config(stack)).name == stack


def test_account_id_must_have_12_digits() -> None:
    raw = stack_config("dev")
    raw["accounts"]["api"] = "12345"
    assert problems(raw) == [f"{CONFIG_KEY}.accounts.api: '12345' is not a 12-digit AWS account id"]


def test_workload_account_id_is_checked_too() -> None:
    raw = stack_config("dev")
    raw["workloads"]["ais"]["accountId"] = "2000000000x4"
    assert problems(raw) == [f"{CONFIG_KEY}.workloads.ais.accountId: '2000000000x4' is not a 12-digit AWS account id"]


def test_account_ids_are_unique_across_roles() -> None:
    raw = stack_config("dev")
    raw["workloads"]["pis"]["accountId"] = raw["accounts"]["api"]
    assert problems(raw) == [f"{CONFIG_KEY}.workloads.pis.accountId: '200000000003' is already used by "
                             "accounts.api; every account role needs its own account"]


def test_region_must_exist() -> None:
    raw = stack_config("dev")
    raw["region"] = "eu-west-9"
    assert problems(raw) == [f"{CONFIG_KEY}.region: 'eu-west-9' is not a known AWS region"]


def test_domain_must_be_a_dns_name() -> None:
    raw = stack_config("dev")
    raw["domain"] = "Open Banking.example"
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.domain: 'Open Banking.example' is not a lower-case DNS domain name")


def test_cidr_must_parse() -> None:
    raw = stack_config("dev")
    raw["network"]["apiVpcCidr"] = "10.64.8.0/33"
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.apiVpcCidr: '10.64.8.0/33' is not an IPv4 CIDR block")


def test_cidr_must_be_private() -> None:
    raw = stack_config("dev")
    raw["network"]["apiVpcCidr"] = "52.0.0.0/22"
    assert problems(raw) == [f"{CONFIG_KEY}.network.apiVpcCidr: '52.0.0.0/22' is not inside a private (RFC 1918) "
                             "range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"]


def test_vpc_cidr_must_fit_the_az_count() -> None:
    raw = stack_config("dev")
    raw["network"]["availabilityZones"] = 3
    raw["network"]["apiVpcCidr"] = "10.64.8.0/24"
    assert problems(raw) == [f"{CONFIG_KEY}.network.apiVpcCidr: '10.64.8.0/24' cannot hold 3 subnet tiers x 3 "
                             "availability zones of at least /27 (needs /23 or larger)"]


def test_the_same_cidr_fits_fewer_azs() -> None:
    raw = stack_config("dev")
    raw["network"]["availabilityZones"] = 2
    raw["network"]["apiVpcCidr"] = "10.64.8.0/24"
    config = load_environment(raw)
    assert isinstance(config, WorkloadConfig) and config.network.api_vpc_cidr == "10.64.8.0/24"


def test_vpc_cidrs_must_not_overlap_each_other() -> None:
    raw = stack_config("dev")
    raw["workloads"]["pis"]["vpcCidr"] = "10.64.20.0/22"  # inside ais's 10.64.16.0/21
    assert problems(raw) == [f"{CONFIG_KEY}.workloads.pis.vpcCidr: '10.64.20.0/22' overlaps "
                             "workloads.ais.vpcCidr (10.64.16.0/21)"]


def test_vpc_cidrs_must_not_overlap_the_data_centre() -> None:
    raw = stack_config("dev")
    raw["network"]["onPremisesCidrs"].append("10.64.0.0/16")
    lines = problems(raw)
    assert f"{CONFIG_KEY}.network.onPremisesCidrs[2]: '10.64.0.0/16' overlaps network.egressVpcCidr (10.64.0.0/22)" in lines
    assert all("onPremisesCidrs[2]" in line for line in lines)


ZONAL = ("Aurora's DB subnet group and MSK's client subnets must span 2 availability zones (a single-AZ stack keeps "
         "no ledger)")


def test_prod_needs_two_azs() -> None:
    raw = stack_config("prod")
    raw["network"]["availabilityZones"] = 1
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.availabilityZones: 1 is below the prod minimum of 2 availability zones",
        f"{CONFIG_KEY}.network.availabilityZones: 1 cannot hold workloads.ais.ledger, workloads.pis.ledger, "
        f"workloads.ais.coreBankingFeed: {ZONAL}"]


def test_nonprod_is_not_held_to_the_prod_minimum_but_a_ledger_needs_two_azs() -> None:
    """One AZ is no prod rule's concern outside prod; but every workload and sandbox stack keeps a ledger (Aurora),
    whose DB subnet group AWS refuses in one AZ, so the config says so before `pulumi up` would."""
    for stack, holds in (("dev", "workloads.ais.ledger, workloads.pis.ledger, workloads.ais.coreBankingFeed"),
                         ("sandbox", "sandbox.ledger")):
        raw = stack_config(stack)
        raw["network"]["availabilityZones"] = 1
        assert problems(raw) == [f"{CONFIG_KEY}.network.availabilityZones: 1 cannot hold {holds}: {ZONAL}"], stack


def test_a_stack_without_zonal_stores_may_use_one_az() -> None:
    raw = stack_config("dev")
    raw["network"]["availabilityZones"] = 1
    for name, workload in raw["workloads"].items():
        workload["services"] = {"events": {}} if name == "pis" else {}
        for store in ("ledger", "cache", "coreBankingFeed"):
            workload.pop(store, None)
    lines = problems(raw)  # ais and pis must still run somewhere; one AZ itself is not among the problems
    assert lines and not any("availabilityZones" in line for line in lines)


def test_prod_must_protect_stateful_resources() -> None:
    raw = stack_config("prod")
    raw["protectStatefulResources"] = False
    assert problems(raw) == [f"{CONFIG_KEY}.protectStatefulResources: false must be true in prod "
                             "(stateful resources are protected)"]


def test_workload_stack_names_its_foundation_stack() -> None:
    raw = stack_config("dev")
    del raw["foundationStack"]
    assert problems(raw) == [f"{CONFIG_KEY}.foundationStack: is required for a workload stack "
                             "(it reads the log archive from it)"]


def test_foundation_stack_needs_the_organization_id() -> None:
    raw = stack_config("foundation")
    del raw["organizationId"]
    assert problems(raw) == [f"{CONFIG_KEY}.organizationId: is required for the foundation stack "
                             "(the AWS Organization id, o-...)"]


def test_a_stack_deploys_only_its_kinds_roles() -> None:
    raw = stack_config("sandbox")
    raw["accounts"]["api"] = "300000000009"
    assert problems(raw) == [f"{CONFIG_KEY}.accounts.api: '300000000009' is not deployed by a sandbox stack "
                             "(it deploys ['network', 'sandbox'])"]


def test_unknown_keys_are_rejected() -> None:
    raw = stack_config("dev")
    raw["acounts"] = {}
    assert problems(raw) == [f"{CONFIG_KEY}.acounts: is not a known key (did you mean 'accounts'?)"]


def test_every_problem_is_reported_at_once() -> None:
    raw = stack_config("prod")
    raw["accounts"]["api"] = "12345"
    raw["region"] = "mars-north-1"
    raw["network"]["availabilityZones"] = 1
    raw["workloads"]["pis"]["vpcCidr"] = raw["workloads"]["ais"]["vpcCidr"]
    lines = problems(raw)
    assert len(lines) == 5  # one AZ is both below prod's minimum and too few for the ledgers
    for key in ("accounts.api", "region", "network.availabilityZones", "workloads.pis.vpcCidr"):
        assert any(line.startswith(f"{CONFIG_KEY}.{key}: ") for line in lines), key


def test_a_huge_value_is_shown_cut_with_its_size_and_the_rule_still_read() -> None:
    raw = stack_config("dev")
    raw["domain"] = "a" * 100_000
    [line] = problems(raw)
    assert line == (f"{CONFIG_KEY}.domain: '{'a' * 159}... (100002 characters) is not a lower-case DNS domain name "
                    "(labels of a-z, 0-9 and '-', dot-separated)")
