"""Rules that span several keys of the environment config.

They read the raw (camelCase) mapping leniently: a value that does not parse is skipped here because
its field rule already reports it. That is what lets :func:`environments.config.load_environment`
report every problem in one go, like AWS Landing Zone Accelerator's config validator.
Each problem is `<key path relative to the config key>: <value> <rule>`.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterator, Mapping
from typing import Any

from components.cidr_plan import EGRESS_TIERS, MIN_SUBNET_PREFIX, SPOKE_TIERS

from .config import ROLES_BY_KIND, AccountRole, StackKind, Stage

#: Subnet tiers each VPC is carved into per availability zone: the very plan the VPC components build.
SUBNET_TIERS = {"egressVpcCidr": len(EGRESS_TIERS), "default": len(SPOKE_TIERS)}


def _net(value: Any) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        return None


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def _kind(raw: Mapping[str, Any]) -> StackKind | None:
    try:
        return StackKind(raw.get("kind"))
    except ValueError:
        return None


def _vpc_cidrs(raw: Mapping[str, Any]) -> Iterator[tuple[str, str, ipaddress.IPv4Network]]:
    """(path, config key, network) for every VPC CIDR in the config that parses."""
    network = _mapping(raw, "network")
    for key, value in network.items():
        if key.endswith("VpcCidr") and (net := _net(value)):
            yield f"network.{key}", key, net
    for name, workload in _mapping(raw, "workloads").items():
        if isinstance(workload, Mapping) and (net := _net(workload.get("vpcCidr"))):
            yield f"workloads.{name}.vpcCidr", "default", net


def unique_account_ids(raw: Mapping[str, Any]) -> Iterator[str]:
    seen: dict[str, str] = {}
    places = [(f"accounts.{role}", acct) for role, acct in _mapping(raw, "accounts").items()]
    places += [(f"workloads.{name}.accountId", w.get("accountId"))
               for name, w in _mapping(raw, "workloads").items() if isinstance(w, Mapping)]
    for path, acct in places:
        if not isinstance(acct, str) or not acct:
            continue
        if acct in seen:
            yield f"{path}: {acct!r} is already used by {seen[acct]}; every account role needs its own account"
        else:
            seen[acct] = path


def roles_match_kind(raw: Mapping[str, Any]) -> Iterator[str]:
    kind = _kind(raw)
    if kind is None:
        return
    accounts = _mapping(raw, "accounts")
    wanted = {role.value for role in ROLES_BY_KIND[kind]}
    for role in sorted(wanted - set(accounts)):
        yield f"accounts.{role}: is required for a {kind} stack"
    known = {role.value for role in AccountRole}
    for role in sorted((set(accounts) & known) - wanted):
        yield f"accounts.{role}: {accounts[role]!r} is not deployed by a {kind} stack (it deploys {sorted(wanted)})"
    workloads = _mapping(raw, "workloads")
    if kind is StackKind.WORKLOAD and not workloads:
        yield "workloads: a workload stack needs at least one workload account (e.g. ais, pis)"
    if kind is not StackKind.WORKLOAD and workloads:
        yield f"workloads: {sorted(workloads)} only a workload stack deploys workload accounts"


def stack_links(raw: Mapping[str, Any]) -> Iterator[str]:
    kind = _kind(raw)
    if kind is None:
        return
    if kind is StackKind.FOUNDATION:
        if not raw.get("organizationId"):
            yield "organizationId: is required for the foundation stack (the AWS Organization id, o-...)"
        if raw.get("foundationStack"):
            yield f"foundationStack: {raw['foundationStack']!r} the foundation stack cannot reference itself"
    else:
        if not raw.get("foundationStack"):
            yield f"foundationStack: is required for a {kind} stack (it reads the log archive from it)"
        if not raw.get("domain"):
            yield f"domain: is required for a {kind} stack (the Open Banking API domain)"
        if not isinstance(raw.get("network"), Mapping):
            yield f"network: is required for a {kind} stack (its CIDR plan)"


def required_vpcs(raw: Mapping[str, Any]) -> Iterator[str]:
    kind = _kind(raw)
    network = raw.get("network")
    if kind is None or not isinstance(network, Mapping):
        return
    needed = {
        StackKind.FOUNDATION: [],
        StackKind.WORKLOAD: ["identityVpcCidr", "apiVpcCidr"],
        StackKind.SANDBOX: ["sandboxVpcCidr"],
    }[kind]
    for key in needed:
        if not network.get(key):
            yield f"network.{key}: is required for a {kind} stack"
    for key in ("identityVpcCidr", "apiVpcCidr", "sandboxVpcCidr"):
        if network.get(key) and key not in needed:
            yield f"network.{key}: {network[key]!r} is not used by a {kind} stack"


def cidrs_fit_azs(raw: Mapping[str, Any]) -> Iterator[str]:
    azs = _mapping(raw, "network").get("availabilityZones")
    if not isinstance(azs, int) or isinstance(azs, bool) or azs < 1:
        return
    for path, key, net in _vpc_cidrs(raw):
        tiers = SUBNET_TIERS.get(key, SUBNET_TIERS["default"])
        needed_prefix = MIN_SUBNET_PREFIX - math.ceil(math.log2(tiers * azs))
        if net.prefixlen > needed_prefix:
            yield (f"{path}: {str(net)!r} cannot hold {tiers} subnet tiers x {azs} availability zones of "
                   f"at least /{MIN_SUBNET_PREFIX} (needs /{needed_prefix} or larger)")


def cidrs_do_not_overlap(raw: Mapping[str, Any]) -> Iterator[str]:
    nets = list(_vpc_cidrs(raw))
    onprem = _mapping(raw, "network").get("onPremisesCidrs")
    if isinstance(onprem, list):
        nets += [(f"network.onPremisesCidrs[{i}]", "onprem", n)
                 for i, v in enumerate(onprem) if (n := _net(v))]
    for i, (path_a, _, a) in enumerate(nets):
        for path_b, _, b in nets[i + 1:]:
            if a.overlaps(b):
                yield f"{path_b}: {str(b)!r} overlaps {path_a} ({a})"


def prod_rules(raw: Mapping[str, Any]) -> Iterator[str]:
    if raw.get("stage") != Stage.PROD.value:
        return
    azs = _mapping(raw, "network").get("availabilityZones")
    if isinstance(azs, int) and azs < 2:
        yield f"network.availabilityZones: {azs!r} is below the prod minimum of 2 availability zones"
    if raw.get("protectStatefulResources") is False:
        yield "protectStatefulResources: False must be true in prod (stateful resources are protected)"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def foundation_settings(raw: Mapping[str, Any]) -> Iterator[str]:
    """The `foundation` section belongs to the foundation stack, and its numbers must fit together."""
    kind = _kind(raw)
    if kind is None:
        return
    if kind is not StackKind.FOUNDATION:
        if "foundation" in raw:
            yield f"foundation: only the foundation stack configures the organization (this is a {kind} stack)"
        return
    if not isinstance(raw.get("foundation"), Mapping):
        yield "foundation: is required for the foundation stack (allowed regions, log retention, OpenSearch)"
        return
    fnd = _mapping(raw, "foundation")
    allowed = fnd.get("allowedRegions")
    if isinstance(allowed, list) and isinstance(raw.get("region"), str) and raw["region"] not in allowed:
        yield (f"foundation.allowedRegions: {allowed!r} does not include the stack's own region "
               f"{raw['region']!r}; the region SCP would deny the landing zone itself")
    logs = _mapping(fnd, "logArchive")
    lock, ia = _int(logs.get("objectLockDays", 2557)), _int(logs.get("infrequentAccessAfterDays", 90))
    glacier, expire = _int(logs.get("glacierAfterDays", 365)), _int(logs.get("expireAfterDays", 2557))
    if ia is not None and glacier is not None and glacier < ia + 30:
        yield (f"foundation.logArchive.glacierAfterDays: {glacier!r} must be at least 30 days after "
               f"infrequentAccessAfterDays ({ia}); S3 keeps objects 30 days in infrequent access")
    if glacier is not None and expire is not None and expire <= glacier:
        yield f"foundation.logArchive.expireAfterDays: {expire!r} must be later than glacierAfterDays ({glacier})"
    if lock is not None and expire is not None and expire < lock:
        yield (f"foundation.logArchive.expireAfterDays: {expire!r} is shorter than objectLockDays ({lock}); "
               "logs cannot expire while Object Lock still retains them")
    search = _mapping(fnd, "openSearch")
    count, azs = _int(search.get("instanceCount", 2)), _int(search.get("availabilityZones", 2))
    if count is not None and azs is not None and azs > 1 and count % azs:
        yield (f"foundation.openSearch.instanceCount: {count!r} is not a multiple of availabilityZones ({azs}); "
               "zone awareness needs the same number of data nodes in every zone")


def foundation_prod_rules(raw: Mapping[str, Any]) -> Iterator[str]:
    """Prod log analytics survives the loss of a node or a zone; prod logs are kept a year at least."""
    if raw.get("stage") != Stage.PROD.value or _kind(raw) is not StackKind.FOUNDATION:
        return
    if not isinstance(raw.get("foundation"), Mapping):
        return  # foundation_settings reports the missing section
    fnd = _mapping(raw, "foundation")
    search = _mapping(fnd, "openSearch")
    if not search.get("dedicatedMasterType"):
        yield "foundation.openSearch.dedicatedMasterType: is required in prod (dedicated master nodes)"
    azs = _int(search.get("availabilityZones", 2))
    if azs is not None and azs < 2:
        yield f"foundation.openSearch.availabilityZones: {azs!r} is below the prod minimum of 2 (zone awareness)"
    lock = _int(_mapping(fnd, "logArchive").get("objectLockDays", 2557))
    if lock is not None and lock < 365:
        yield f"foundation.logArchive.objectLockDays: {lock!r} is below the prod minimum of 365 days"


#: At most this many prefixes may be advertised over one Direct Connect gateway association.
MAX_DX_ALLOWED_PREFIXES = 20


def _onprem_nets(network: Mapping[str, Any]) -> list[ipaddress.IPv4Network]:
    onprem = network.get("onPremisesCidrs")
    return [n for v in onprem if (n := _net(v))] if isinstance(onprem, list) else []


def hybrid_links(raw: Mapping[str, Any]) -> Iterator[str]:
    """Direct Connect, VPN and the data centre's DNS need the data centre's ranges, live only in workload
    stacks, and BGP needs distinct ASNs on every side."""
    kind, network = _kind(raw), _mapping(raw, "network")
    links = [key for key in ("directConnect", "vpn", "onPremisesDns") if network.get(key) is not None]
    if kind is StackKind.SANDBOX:
        for key in links:
            yield f"network.{key}: the sandbox never reaches the data centre; remove it from a sandbox stack"
        return
    if links and not _onprem_nets(network):
        yield (f"network.onPremisesCidrs: is required when {', '.join(f'network.{k}' for k in links)} "
               "is configured (the data centre's ranges are routed in the onprem segment)")
    dns = _mapping(network, "onPremisesDns")
    ips = dns.get("resolverIps")
    nets = _onprem_nets(network)
    if isinstance(ips, list) and nets:
        for i, ip in enumerate(ips):
            try:
                address = ipaddress.IPv4Address(ip)
            except ValueError:
                continue
            if not any(address in n for n in nets):
                yield (f"network.onPremisesDns.resolverIps[{i}]: {ip!r} is not in network.onPremisesCidrs; "
                       "the resolvers must be reachable over Direct Connect / VPN")
    asns: list[tuple[str, Any]] = [("network.transitGatewayAsn", network.get("transitGatewayAsn", 64512))]
    dx = _mapping(network, "directConnect")
    if dx:
        asns.append(("network.directConnect.gatewayAsn", dx.get("gatewayAsn")))
    for i, cgw in enumerate(_mapping(network, "vpn").get("customerGateways") or []):
        if isinstance(cgw, Mapping):
            asns.append((f"network.vpn.customerGateways[{i}].bgpAsn", cgw.get("bgpAsn")))
    for i, vif in enumerate(dx.get("transitVirtualInterfaces") or []):
        if isinstance(vif, Mapping):
            asns.append((f"network.directConnect.transitVirtualInterfaces[{i}].customerAsn", vif.get("customerAsn")))
    amazon_side = {p: v for p, v in asns[:2 if dx else 1] if _int(v) is not None}
    for path, value in asns:
        for other, amazon in amazon_side.items():
            if path != other and _int(value) == amazon:
                yield f"{path}: {value!r} is the ASN of {other}; each side of a BGP session needs its own ASN"
    if dx:
        prefixes = len(_mapping(raw, "workloads")) + (1 if network.get("identityVpcCidr") else 0)
        azs = _int(network.get("availabilityZones")) or 0
        if prefixes + azs > MAX_DX_ALLOWED_PREFIXES:
            yield (f"network.directConnect: {prefixes + azs} prefixes would be advertised to the data centre "
                   f"(workload and identity VPCs, one services subnet per AZ); a gateway association allows "
                   f"{MAX_DX_ALLOWED_PREFIXES}")


def _covers(wildcard: str, domain: str) -> bool:
    """`.example.com` covers example.com and every name under it."""
    return wildcard.startswith(".") and (domain.lstrip(".") == wildcard[1:] or domain.endswith(wildcard))


def egress_allow_list(raw: Mapping[str, Any]) -> Iterator[str]:
    """Squid refuses overlapping `dstdomain` entries, so the allow-list names each domain once."""
    domains = _mapping(raw, "network").get("egressAllowedDomains")
    if not isinstance(domains, list):
        return
    for i, domain in enumerate(domains):
        for j, earlier in enumerate(domains[:i]):
            if not (isinstance(domain, str) and isinstance(earlier, str)):
                continue
            if earlier.lstrip(".") == domain.lstrip(".") or _covers(earlier, domain) or _covers(domain, earlier):
                yield (f"network.egressAllowedDomains[{i}]: {domain!r} overlaps network.egressAllowedDomains[{j}] "
                       f"({earlier!r}); list each domain once (a leading dot already covers subdomains)")
                break


def network_prod_rules(raw: Mapping[str, Any]) -> Iterator[str]:
    """Prod keeps every AZ independent (a NAT per AZ, a proxy per AZ) and has both data centre links."""
    if raw.get("stage") != Stage.PROD.value or _kind(raw) is not StackKind.WORKLOAD:
        return
    network = _mapping(raw, "network")
    if not network:
        return
    if network.get("natGatewayPerAz") is False:
        yield "network.natGatewayPerAz: False must be true in prod (an AZ outage must not cut egress)"
    for key, what in (("directConnect", "Direct Connect"), ("vpn", "the Site-to-Site VPN backup")):
        if network.get(key) is None:
            yield f"network.{key}: is required in prod ({what} to the data centre)"
    proxy, azs = _mapping(network, "egressProxy"), _int(network.get("availabilityZones"))
    min_size = _int(proxy.get("minSize", 2))
    if azs is not None and min_size is not None and min_size < azs:
        yield (f"network.egressProxy.minSize: {min_size!r} is below the prod minimum of one proxy per "
               f"availability zone ({azs})")


def proxy_sizes(raw: Mapping[str, Any]) -> Iterator[str]:
    proxy = _mapping(_mapping(raw, "network"), "egressProxy")
    low, high = _int(proxy.get("minSize", 2)), _int(proxy.get("maxSize", 4))
    if low is not None and high is not None and high < low:
        yield f"network.egressProxy.maxSize: {high!r} is below network.egressProxy.minSize ({low})"


RULES = (unique_account_ids, roles_match_kind, stack_links, required_vpcs, cidrs_fit_azs,
         cidrs_do_not_overlap, prod_rules, foundation_settings, foundation_prod_rules, hybrid_links,
         egress_allow_list, network_prod_rules, proxy_sizes)


def cross_field_problems(raw: Mapping[str, Any]) -> list[str]:
    return [problem for rule in RULES for problem in rule(raw)]
