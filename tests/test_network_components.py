"""The pure parts of the network components: the CIDR plan, squid.conf, firewall endpoints, AZ choice."""

from __future__ import annotations

import ipaddress

import pytest

from accounts.network_hub import first_zone_ids
from components.cidr_plan import EGRESS_TIERS, SPOKE_TIERS, PlanError, carve
from components.egress_proxy import INTERNAL_DESTINATIONS, EgressProxyArgs, squid_conf
from components.network_firewall import NetworkFirewallArgs, callback_rules, endpoint_in_subnet
from environments.config import subnet_plan_problem
from tests.services.events.test_callbacks import NOT_PUBLIC


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


def test_squid_tunnels_to_callback_domains_for_the_events_vpc_only_and_never_inside() -> None:
    conf = squid_conf(["ob.trustis.com"], ["10.64.16.0/21", "10.64.24.0/21"], callback_domains=[
        "hooks.tpp.example.com", ".callbacks.aisp.example"], callback_senders=["10.64.24.0/21"]).splitlines()
    access = [line for line in conf if line.startswith("http_access")]
    assert "acl callback_senders src 10.64.24.0/21" in conf
    assert "acl callback_domains dstdomain hooks.tpp.example.com .callbacks.aisp.example" in conf
    # CONNECT only (so HTTPS, and the deny of CONNECT to anything but 443 comes first), from the events VPC only,
    # and after the denies of internal destinations, which Squid checks on the addresses it resolves itself.
    assert access[-2:] == ["http_access allow CONNECT callback_senders callback_domains", "http_access deny all"]
    assert access.index("http_access deny CONNECT !SSL_ports") < access.index("http_access deny internal_dst") \
        < access.index("http_access allow CONNECT callback_senders callback_domains")
    assert "callback_domains" not in " ".join(a for a in access if "spokes" in a)


def test_squid_refuses_every_address_the_callbacks_check_refuses() -> None:
    """The proxy's `internal_dst` is the binding check on the deployed path: every range the delivery function
    refuses (its own tests' list) falls in it."""
    ranges = [ipaddress.ip_network(r) for r in INTERNAL_DESTINATIONS]
    for address in map(ipaddress.ip_address, NOT_PUBLIC):
        assert any(address.version == r.version and address in r for r in ranges), address


def test_the_firewall_passes_callback_domains_by_sni_on_443_from_the_proxy_subnets_only() -> None:
    rules = callback_rules(["hooks.tpp.example.com", ".callbacks.aisp.example"], ["10.64.3.0/25", "10.64.3.128/25"])
    exact, wildcard = rules.splitlines()
    for rule in (exact, wildcard):
        assert rule.startswith("pass tls [10.64.3.0/25,10.64.3.128/25] any -> $EXTERNAL_NET 443 (tls.sni; ")
        assert "flow:to_server, established;" in rule
    assert 'content:"hooks.tpp.example.com"; nocase; startswith; endswith;' in exact  # that name only
    assert 'dotprefix; content:".callbacks.aisp.example"; nocase; endswith;' in wildcard  # it and every name under it
    assert [r.split("sid:")[1].split(";")[0] for r in (exact, wildcard)] == ["1100001", "1100002"]


def test_callback_domains_need_someone_to_send_them() -> None:
    with pytest.raises(ValueError, match="callback_senders: empty"):
        EgressProxyArgs(name_prefix="p", vpc_id="vpc", subnet_ids=[], client_cidrs=["10.0.0.0/16"], allowed_domains=[],
                        zone_name="proxy.example.com", ebs_kms_key_arn="k", log_bucket_name="b",
                        callback_domains=["hooks.tpp.example.com"])
    with pytest.raises(ValueError, match=r"callback_senders: \['10.9.0.0/16'\] are not among client_cidrs"):
        EgressProxyArgs(name_prefix="p", vpc_id="vpc", subnet_ids=[], client_cidrs=["10.0.0.0/16"], allowed_domains=[],
                        zone_name="proxy.example.com", ebs_kms_key_arn="k", log_bucket_name="b",
                        callback_domains=["hooks.tpp.example.com"], callback_senders=["10.9.0.0/16"])
    with pytest.raises(ValueError, match="callback_sources: empty"):
        NetworkFirewallArgs(name_prefix="p", vpc_id="vpc", subnet_ids=[], allowed_domains=[], home_net=[],
                            kms_key_arn="k", log_bucket_name="b", callback_domains=["hooks.tpp.example.com"])
    with pytest.raises(ValueError, match=r"allowed_domains: 501 domains, more than the allow-list rule group holds"):
        NetworkFirewallArgs(name_prefix="p", vpc_id="vpc", subnet_ids=[], home_net=[], kms_key_arn="k",
                            log_bucket_name="b", allowed_domains=[f"h{i}.example.com" for i in range(501)])
    with pytest.raises(ValueError, match=r"callback_domains: 201 domains, more than the callback rule group's"):
        NetworkFirewallArgs(name_prefix="p", vpc_id="vpc", subnet_ids=[], allowed_domains=[], home_net=[],
                            kms_key_arn="k", log_bucket_name="b", callback_sources=["10.0.0.0/25"],
                            callback_domains=[f"h{i}.example.com" for i in range(201)])
