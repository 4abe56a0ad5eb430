"""Configs a careless user (or an attacker) writes, each refused with its key path and the value as written.

Each case once slipped through: a snake_case spelling skipped every cross-field rule, a quoted number
skipped the prod rules, a null account id dropped an account, non-ASCII digits passed the account-id rule,
special-purpose ranges passed the RFC 1918 check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from environments.config import CONFIG_KEY, ConfigError
from environments.validation import MAX_CONFIG_BYTES, load_environment, parse_config_json
from tests.test_config import problems, stack_config

K = CONFIG_KEY
Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any, *, drop: str | None = None) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        if drop is not None:
            del node[drop]
        node[last] = value
    return edit


#: Twelve digits that `\\d` matches but an AWS account id never contains.
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in "200000000003")
FULL_WIDTH = "".join(chr(0xFF10 + int(d)) for d in "200000000004")

CASES: list[tuple[str, str, Edit, list[str]]] = [
    ("sandbox gets a snake_case Direct Connect", "sandbox", _set("network.direct_connect", {"gateway_asn": 64513}),
     [f"{K}.network.direct_connect: is not a known key: keys are camelCase ('directConnect'), and the sandbox "
      "never reaches the data centre; remove it from a sandbox stack"]),
    ("two workloads share an account through account_id", "dev",
     _set("workloads.pis.account_id", "200000000004", drop="accountId"),
     [f"{K}.workloads.pis.accountId: is required",
      f"{K}.workloads.pis.account_id: '200000000004' is not a known key: keys are camelCase, write it as 'accountId'"]),
    ("prod with availability_zones: 1", "prod", _set("network.availability_zones", 1, drop="availabilityZones"),
     [f"{K}.network.availabilityZones: is required for a workload stack",
      f"{K}.network.availability_zones: 1 is not a known key: keys are camelCase, write it as 'availabilityZones'"]),
    ("allowed_regions without the home region", "foundation",
     _set("foundation.allowed_regions", ["eu-west-1"], drop="allowedRegions"),
     [f"{K}.foundation.allowedRegions: is required for the foundation stack",
      f"{K}.foundation.allowed_regions: is not a known key: keys are camelCase, write it as 'allowedRegions'"]),
    ("a quoted number of AZs", "prod", _set("network.availabilityZones", "1"),
     [f"{K}.network.availabilityZones: '1' must be an integer"]),
    ("a float number of AZs", "prod", _set("network.availabilityZones", 1.0),
     [f"{K}.network.availabilityZones: 1.0 must be an integer"]),
    ("a quoted Object Lock period", "foundation", _set("foundation.logArchive.objectLockDays", "100"),
     [f"{K}.foundation.logArchive.objectLockDays: '100' must be an integer"]),
    ("0 for false", "prod", _set("network.natGatewayPerAz", 0),
     [f"{K}.network.natGatewayPerAz: 0 must be true or false"]),
    ("'yes' for true", "prod", _set("protectStatefulResources", "yes"),
     [f"{K}.protectStatefulResources: 'yes' must be true or false"]),
    ("a null account id", "prod", _set("accounts.api", None), [f"{K}.accounts.api: null must be a string"]),
    ("an account id as a number", "prod", _set("accounts.api", 400000000003),
     [f"{K}.accounts.api: 400000000003 must be a string"]),
    ("Arabic-Indic digits", "dev", _set("accounts.api", ARABIC_INDIC),
     [f"{K}.accounts.api: {ARABIC_INDIC!r} is not a 12-digit AWS account id"]),
    ("full-width digits", "dev", _set("workloads.ais.accountId", FULL_WIDTH),
     [f"{K}.workloads.ais.accountId: {FULL_WIDTH!r} is not a 12-digit AWS account id"]),
    *[(f"a VPC in {cidr}", "dev", _set("network.apiVpcCidr", cidr),
       [f"{K}.network.apiVpcCidr: {cidr!r} is not inside a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 "
        "or 192.168.0.0/16"])
      for cidr in ("169.254.0.0/22", "127.0.0.0/22", "198.18.0.0/22", "240.0.0.0/22", "100.64.0.0/22")],
    ("an IP address as the domain", "dev", _set("domain", "10.0.0.1"),
     [f"{K}.domain: '10.0.0.1' is not a lower-case DNS domain name (labels of a-z, 0-9 and '-', dot-separated)"]),
    ("a public suffix on the egress allow-list", "dev", _set("network.egressAllowedDomains", ["ob.trustis.com", ".co.uk"]),
     [f"{K}.network.egressAllowedDomains[1]: '.co.uk' is a public suffix: it would let out every domain registered "
      "under it"]),
    ("a bare top-level domain on the egress allow-list", "dev", _set("network.egressAllowedDomains", [".com"]),
     [f"{K}.network.egressAllowedDomains[0]: '.com' is not a domain ('api.example.com', or '.example.com' for it "
      "and its subdomains)"]),
    ("an unknown kind", "dev", _set("kind", "workloads"),
     [f"{K}.kind: 'workloads' is not one of 'foundation', 'workload', 'sandbox'"]),
    ("an upper-case workload name", "dev", lambda raw: raw["workloads"].update(AIS=raw["workloads"].pop("ais")),
     [f"{K}.workloads.AIS: the name 'AIS' string should match pattern '^[a-z][a-z0-9-]{{1,20}}$'"]),
    ("a role the kind does not deploy", "dev", _set("accounts.logArchive", "200000000009"),
     [f"{K}.accounts.logArchive: '200000000009' is not deployed by a workload stack (it deploys "
      "['api', 'identity', 'network'])"]),
    ("a sandbox with workloads", "sandbox", _set("workloads", {"ais": {"accountId": "300000000004"}}),
     [f"{K}.workloads: only a workload stack deploys workload accounts"]),
    ("the organization id in a workload stack", "dev", _set("organizationId", "o-exampl3bank1"),
     [f"{K}.organizationId: 'o-exampl3bank1' only the foundation stack names the organization (the others read it "
      "from the foundation stack)"]),
]


@pytest.mark.parametrize(("stack", "edit", "expected"), [pytest.param(s, e, x, id=i) for i, s, e, x in CASES])
def test_a_careless_config_is_refused_with_its_key_path(stack: str, edit: Edit, expected: list[str]) -> None:
    raw = stack_config(stack)
    edit(raw)
    assert problems(raw) == expected


@pytest.mark.parametrize("value", [[], ["a"], "config", 3, None])
def test_a_config_that_is_not_a_mapping_is_refused(value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        load_environment(value)
    assert err.value.problems == [f"{K}: must be a mapping (got {type(value).__name__})"]


def test_a_section_error_does_not_hide_the_rules_that_do_not_need_it() -> None:
    raw = stack_config("prod")
    raw["tags"]["costCentre"] = "!"
    raw["network"]["egressProxy"]["minSize"] = 1
    raw["workloads"]["pis"]["vpcCidr"] = raw["workloads"]["ais"]["vpcCidr"]
    lines = problems(raw)
    assert lines[0].startswith(f"{K}.tags.costCentre: '!'")
    assert f"{K}.workloads.pis.vpcCidr: '10.96.32.0/20' overlaps workloads.ais.vpcCidr (10.96.32.0/20)" in lines
    assert (f"{K}.network.egressProxy.minSize: 1 is below the prod minimum of one proxy per availability zone (3)"
            in lines)


def test_section_rules_report_every_problem_of_the_section() -> None:
    raw = stack_config("foundation")
    raw["foundation"]["logArchive"] |= {"glacierAfterDays": 100, "expireAfterDays": 50}
    assert problems(raw) == [
        f"{K}.foundation.logArchive.glacierAfterDays: 100 must be at least 30 days after infrequentAccessAfterDays "
        "(90); S3 keeps objects 30 days in infrequent access",
        f"{K}.foundation.logArchive.expireAfterDays: 50 must be later than glacierAfterDays (100)",
        f"{K}.foundation.logArchive.expireAfterDays: 50 is shorter than objectLockDays (2557); logs cannot expire "
        "while Object Lock still retains them",
    ]


def test_the_engine_value_refuses_duplicate_keys() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config_json('{"name": "prod", "region": "eu-west-2", "region": "us-east-1"}')
    assert err.value.problems == [f"{K}: key 'region' is given twice"]


def test_the_engine_value_refuses_deep_nesting_and_huge_input() -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match=f"limit {MAX_CONFIG_BYTES}"):
        parse_config_json('{"x": "' + "a" * MAX_CONFIG_BYTES + '"}')


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_deeply_nested_value_inside_the_config_is_refused_cleanly(depth: int) -> None:
    raw = stack_config("dev")
    nested: Any = "leaf"
    for _ in range(depth):
        nested = [nested]
    raw["tags"]["owner"] = nested
    assert problems(raw) == [f"{K}: nests more than 32 levels deep; no config key does"]
