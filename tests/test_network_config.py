"""The network section of the environment config: each rule, a bad case with its key path."""

from __future__ import annotations

import pytest

from environments.config import CONFIG_KEY, FoundationConfig, Stage
from environments.validation import load_environment
from tests.test_config import problems, stack_config


def test_prod_must_configure_direct_connect_and_vpn() -> None:
    raw = stack_config("prod")
    del raw["network"]["directConnect"], raw["network"]["vpn"]
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.directConnect: is required in prod (Direct Connect to the data centre)",
        f"{CONFIG_KEY}.network.vpn: is required in prod (the Site-to-Site VPN backup to the data centre)"]


def test_prod_keeps_a_nat_gateway_per_az() -> None:
    raw = stack_config("prod")
    raw["network"]["natGatewayPerAz"] = False
    assert problems(raw) == [f"{CONFIG_KEY}.network.natGatewayPerAz: false must be true in prod "
                             "(an AZ outage must not cut egress)"]


@pytest.mark.parametrize(("stack", "per_az"), [("dev", False), ("sandbox", False), ("prod", True)])
def test_nat_per_az_follows_the_stage_unless_set(stack: str, per_az: bool) -> None:
    config = load_environment(stack_config(stack))
    assert not isinstance(config, FoundationConfig)
    network = config.network
    assert network.nat_per_az(Stage.PROD if stack == "prod" else Stage.NONPROD) is per_az
    assert network.model_copy(update={"nat_gateway_per_az": None}).nat_per_az(Stage.PROD) is True


def test_sandbox_never_links_to_the_data_centre() -> None:
    raw = stack_config("sandbox")
    raw["network"]["vpn"] = {"customerGateways": [{"name": "dc1-vpn", "ipAddress": "203.0.113.10", "bgpAsn": 65010}]}
    assert problems(raw) == [f"{CONFIG_KEY}.network.vpn: the sandbox never reaches the data centre; "
                             "remove it from a sandbox stack"]


def test_hybrid_links_need_the_data_centre_ranges() -> None:
    raw = stack_config("dev")
    raw["network"]["onPremisesCidrs"] = []
    [line] = [p for p in problems(raw) if "onPremisesCidrs" in p]
    assert line.startswith(f"{CONFIG_KEY}.network.onPremisesCidrs: is required when network.vpn, network.onPremisesDns")


def test_resolver_targets_must_be_in_the_data_centre() -> None:
    raw = stack_config("dev")
    raw["network"]["onPremisesDns"]["resolverIps"] = ["10.0.0.53", "192.168.1.53"]
    assert problems(raw) == [f"{CONFIG_KEY}.network.onPremisesDns.resolverIps[1]: '192.168.1.53' is not in "
                             "network.onPremisesCidrs; the resolvers must be reachable over Direct Connect / VPN"]


def test_bgp_sides_need_distinct_asns() -> None:
    raw = stack_config("prod")
    raw["network"]["vpn"]["customerGateways"][1]["bgpAsn"] = 64513
    assert problems(raw) == [f"{CONFIG_KEY}.network.vpn.customerGateways[1].bgpAsn: 64513 is the ASN of "
                             "network.directConnect.gatewayAsn; each side of a BGP session needs its own ASN"]


def test_amazon_side_asn_must_be_private() -> None:
    raw = stack_config("dev")
    raw["network"]["transitGatewayAsn"] = 7224
    assert problems(raw) == [f"{CONFIG_KEY}.network.transitGatewayAsn: 7224 is not a private ASN "
                             "(64512-65534 or 4200000000-4294967294)"]


def test_customer_gateway_must_be_a_public_address() -> None:
    raw = stack_config("dev")
    raw["network"]["vpn"]["customerGateways"][0]["ipAddress"] = "10.1.2.3"
    assert problems(raw) == [f"{CONFIG_KEY}.network.vpn.customerGateways[0].ipAddress: '10.1.2.3' is not a public "
                             "address (a VPN customer gateway is reached over the internet)"]


def test_direct_connect_references_real_connection_ids() -> None:
    raw = stack_config("prod")
    raw["network"]["directConnect"]["transitVirtualInterfaces"][0]["connectionId"] = "my-connection"
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.directConnect.transitVirtualInterfaces[0].connectionId: "
                           "'my-connection'")


def test_egress_domains_are_listed_once() -> None:
    raw = stack_config("dev")
    raw["network"]["egressAllowedDomains"] = ["api.example.com", ".example.com", "ob.trustis.com"]
    assert problems(raw) == [f"{CONFIG_KEY}.network.egressAllowedDomains[1]: '.example.com' overlaps "
                             "network.egressAllowedDomains[0] ('api.example.com'); list each domain once "
                             "(a leading dot already covers subdomains)"]


def test_egress_domain_must_be_a_domain() -> None:
    raw = stack_config("dev")
    raw["network"]["egressAllowedDomains"] = ["https://example.com"]
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.egressAllowedDomains[0]: 'https://example.com' is not a domain")


def test_callback_domains_are_listed_once_and_apart_from_the_general_allow_list() -> None:
    raw = stack_config("dev")
    raw["network"]["callbackDomains"] = [".tpp.example.com", "hooks.tpp.example.com", "ob.trustis.org"]
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.callbackDomains[1]: 'hooks.tpp.example.com' overlaps network.callbackDomains[0] "
        "('.tpp.example.com'); list each domain once (a leading dot already covers subdomains)"]
    raw["network"]["callbackDomains"] = ["hooks.tpp.example.com", "com"]
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.callbackDomains[1]: 'com' is not a domain ('api.example.com', or '.example.com' for "
        "it and its subdomains)"]
    raw["network"]["callbackDomains"] = ["hooks.tpp.example.com", ".trustis.com"]
    assert problems(raw) == [
        f"{CONFIG_KEY}.network.callbackDomains[1]: '.trustis.com' overlaps network.egressAllowedDomains[2] "
        "('ob.trustis.com'); a TPP callback domain is let out to the events service only, so it cannot be on the "
        "general allow-list too"]


@pytest.mark.parametrize("value", ["hooks.tpp.example.com", None, [None], [["nested.example.com"]], [7], {"a": "b"},
                                   ["hooks.tpp.example.com", "hooks.tpp.example.com"]])
def test_callback_domains_must_be_a_list_of_domains(value: object) -> None:
    raw = stack_config("sandbox")
    raw["network"]["callbackDomains"] = value
    [line, *_] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.callbackDomains"), line


@pytest.mark.parametrize(("key", "most"), [("callbackDomains", 200), ("egressAllowedDomains", 500)])
def test_the_domain_lists_fit_the_firewall_rule_groups_and_a_long_one_is_shown_cut(key: str, most: int) -> None:
    """The firewall's rule groups have a fixed capacity (one rule per callback domain, two per allow-listed domain:
    TLS SNI and HTTP Host), so a longer list is a config error, not a failed `pulumi up`; the line stays short."""
    raw = stack_config("dev")
    listed = raw["network"][key]
    listed += [f"h{i}.{key.lower()}.example.com" for i in range(most - len(listed))]
    config = load_environment(raw)
    assert not isinstance(config, FoundationConfig)
    assert config.network.model_dump(by_alias=True)[key] == listed  # the most is accepted
    listed.append("one-more.example.org")
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.{key}: [")
    assert line.endswith(f"... ({most + 1} items) list should have at most {most} items after validation, not "
                         f"{most + 1}")
    assert len(line) < 400


def test_a_public_suffix_is_no_callback_domain() -> None:
    raw = stack_config("dev")
    raw["network"]["callbackDomains"] = [".co.uk"]
    assert problems(raw) == [f"{CONFIG_KEY}.network.callbackDomains[0]: '.co.uk' is a public suffix: it would let "
                             "out every domain registered under it"]


def test_egress_vpc_must_hold_four_tiers_across_the_azs() -> None:
    raw = stack_config("prod")
    raw["network"]["egressVpcCidr"] = "10.96.0.0/25"
    assert problems(raw) == [f"{CONFIG_KEY}.network.egressVpcCidr: '10.96.0.0/25' cannot hold 4 subnet tiers x 3 "
                             "availability zones of at least /27 (needs /23 or larger)"]


def test_sandbox_vpc_must_not_overlap_the_data_centre() -> None:
    raw = stack_config("sandbox")
    raw["network"]["sandboxVpcCidr"] = "10.8.0.0/22"
    assert problems(raw) == [f"{CONFIG_KEY}.network.onPremisesCidrs[0]: '10.0.0.0/12' overlaps "
                             "network.sandboxVpcCidr (10.8.0.0/22)"]


def test_prod_runs_a_proxy_in_every_az() -> None:
    raw = stack_config("prod")
    raw["network"]["egressProxy"]["minSize"] = 2
    assert problems(raw) == [f"{CONFIG_KEY}.network.egressProxy.minSize: 2 is below the prod minimum of one proxy "
                             "per availability zone (3)"]


def test_proxy_must_be_a_graviton_type() -> None:
    raw = stack_config("dev")
    raw["network"]["egressProxy"]["instanceType"] = "t3.small"
    [line] = problems(raw)
    assert line.startswith(f"{CONFIG_KEY}.network.egressProxy.instanceType: 't3.small'")
