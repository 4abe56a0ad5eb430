"""The pure parts of the network components: the CIDR plan, squid.conf, firewall endpoints, AZ choice."""

from __future__ import annotations

import ipaddress

import pytest

from accounts.network_hub import first_zone_ids
from components.cidr_plan import EGRESS_TIERS, SPOKE_TIERS, PlanError, carve
from components.egress_proxy import squid_conf
from components.network_firewall import endpoint_in_subnet
from environments.config import subnet_plan_problem


@pytest.mark.parametrize("azs", [1, 2, 3, 4])
@pytest.mark.parametrize("prefix", range(20, 29))
def test_the_config_accepts_exactly_the_plans_the_vpcs_can_build(prefix: int, azs: int) -> None:
    cidr = f"10.96.0.0/{prefix}"
    for tiers in (EGRESS_TIERS, SPOKE_TIERS):
        try:
            carve(cidr, tiers, azs)
            built = True
        except PlanError:
            built = False
        assert built is (subnet_plan_problem(cidr, len(tiers), azs) is None), tiers


def test_carve_gives_disjoint_subnets_inside_the_vpc() -> None:
    plan = carve("10.96.0.0/21", EGRESS_TIERS, 3)
    subnets = [ipaddress.IPv4Network(c) for cidrs in plan.values() for c in cidrs]
    assert [len(plan[t]) for t in EGRESS_TIERS] == [3, 3, 3, 3]
    assert all(s.subnet_of(ipaddress.IPv4Network("10.96.0.0/21")) and s.prefixlen == 25 for s in subnets)
    assert len(set(subnets)) == 12 and not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])


def test_carve_refuses_a_vpc_too_small() -> None:
    with pytest.raises(PlanError, match="cannot hold 3 subnet tiers x 4 availability zones"):
        carve("10.0.0.0/25", SPOKE_TIERS, 4)


def test_zone_ids_are_chosen_by_id_so_every_account_uses_the_same_azs() -> None:
    assert first_zone_ids(["euw2-az3", "euw2-az1", "euw2-az2"], 2) == ["euw2-az1", "euw2-az2"]
    with pytest.raises(ValueError, match="availabilityZones is 4 but the region offers only 3"):
        first_zone_ids(["euw2-az3", "euw2-az1", "euw2-az2"], 4)


def test_firewall_endpoint_is_found_by_subnet() -> None:
    statuses = [{"sync_states": [
        {"availability_zone": "eu-west-2a", "attachments": [{"subnet_id": "subnet-a", "endpoint_id": "vpce-a"}]},
        {"availability_zone": "eu-west-2b", "attachments": [{"subnet_id": "subnet-b", "endpoint_id": "vpce-b"}]},
    ]}]
    assert endpoint_in_subnet(statuses, "subnet-b") == "vpce-b"
    with pytest.raises(ValueError, match="no endpoint in subnet subnet-c"):
        endpoint_in_subnet(statuses, "subnet-c")


def test_squid_allows_listed_domains_from_spokes_and_denies_the_rest() -> None:
    conf = squid_conf([".example.com", "ob.trustis.com"], ["10.64.16.0/21"]).splitlines()
    access = [line for line in conf if line.startswith("http_access")]
    assert "acl allowed_domains dstdomain .example.com ob.trustis.com" in conf
    assert "acl spokes src 10.64.16.0/21" in conf
    assert access[-2:] == ["http_access allow spokes allowed_domains", "http_access deny all"]
    assert access.index("http_access deny internal_dst") < access.index("http_access allow spokes allowed_domains")


def test_squid_with_an_empty_allow_list_denies_everything() -> None:
    conf = squid_conf([], ["10.64.16.0/21"])
    assert "dstdomain" not in conf and "http_access allow" not in conf and "http_access deny all" in conf
