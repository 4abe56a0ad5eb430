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

from .config import ROLES_BY_KIND, AccountRole, StackKind, Stage

#: Subnet tiers each VPC is carved into, per availability zone, and the smallest subnet we accept.
SUBNET_TIERS = {"egressVpcCidr": 4, "default": 3}
MIN_SUBNET_PREFIX = 27


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


RULES = (unique_account_ids, roles_match_kind, stack_links, required_vpcs, cidrs_fit_azs,
         cidrs_do_not_overlap, prod_rules)


def cross_field_problems(raw: Mapping[str, Any]) -> list[str]:
    return [problem for rule in RULES for problem in rule(raw)]
