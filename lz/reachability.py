"""Which Transit Gateway segment can reach which, computed from the recorded resources.

The question is answered the way the TGW answers it, from what the program registers and nothing else:
each attachment belongs to the segment of the route table it is *associated* with; a route table holds
the CIDRs of the attachments *propagated* into it, its *static* routes and *blackholes*, and prefix-list
references. A destination is looked up by longest prefix match; on a tie a static route beats a
prefix-list reference, which beats a propagated route (AWS's route priority). A segment's CIDRs are its
VPCs' CIDRs and the managed prefix lists tagged with it (the data centre's ranges for `onprem`).

Traffic that matches the default route into the egress VPC is followed one hop further: the egress VPC
sends whatever is not its own back to the TGW, so such a destination is "reached via egress" when the
egress route table leads on to it. That hair-pin is exactly what the spoke blackholes exist to stop.

A segment *reaches* another when the forward lookup lands on it and the reply's lookup lands back: TGW
routing is stateless, so a one-way route carries no connection.

A VPC tagged with a segment but attached to no Transit Gateway (the network account's ingress VPC) is a
*detached* segment: it has no route table, so from it every lookup ends at once (`detached`), and towards it the
other segments' tables decide as for any range (they hold no route to it). It shows in the matrix, reaching nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SEGMENT_TAG = "lz:segment"
EGRESS = "egress"

ROUTE_TABLE = "aws:ec2transitgateway/routeTable:RouteTable"
ASSOCIATION = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"
PROPAGATION = "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation"
STATIC_ROUTE = "aws:ec2transitgateway/route:Route"
PREFIX_LIST_REFERENCE = "aws:ec2transitgateway/prefixListReference:PrefixListReference"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
VPC_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
VPC = "aws:ec2/vpc:Vpc"

#: Route priority on equal prefix length (lower wins).
STATIC, PREFIX_LIST_ROUTE, PROPAGATED = 0, 1, 2

#: How a destination is (not) reached.
DIRECT, VIA_EGRESS, BLACKHOLE, NO_ROUTE, ELSEWHERE, SELF, DETACHED = (
    "direct", "via-egress", "blackhole", "no-route", "elsewhere", "self", "detached")
REACHING = (DIRECT, VIA_EGRESS)

Network = ipaddress.IPv4Network


@dataclass(frozen=True)
class Route:
    prefix: Network
    kind: int
    #: The attachment the route leads to; None for a blackhole.
    attachment: str | None

    @property
    def blackhole(self) -> bool:
        return self.attachment is None


@dataclass(frozen=True)
class Cell:
    """From one segment to another: how the forward lookup ends, whether it covers all of the
    destination's ranges or part of them, and whether replies route back."""

    path: str
    coverage: str = "all"
    returns: bool = False

    @property
    def reaches(self) -> bool:
        return self.path in REACHING and self.returns

    def to_json(self) -> dict[str, Any]:
        return {"reaches": self.reaches, "path": self.path, "coverage": self.coverage, "returns": self.returns}


@dataclass
class Reachability:
    segments: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def cell(self, source: str, destination: str) -> Cell:
        return self.cells[(source, destination)]

    def reaches(self, source: str, destination: str) -> bool:
        return self.cell(source, destination).reaches

    def reachable_from(self, source: str) -> set[str]:
        return {d for d in self.segments if d != source and self.reaches(source, d)}

    def to_json(self) -> dict[str, Any]:
        return {"segments": self.segments,
                "matrix": {s: {d: self.cell(s, d).to_json() for d in self.segments} for s in self.segments}}


def _of_type(resources: Iterable[Mapping[str, Any]], type_: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r.get("type") == type_]


def _segment_tag(resource: Mapping[str, Any]) -> str | None:
    tags = (resource.get("inputs") or {}).get("tags") or {}
    value = tags.get(SEGMENT_TAG) if isinstance(tags, Mapping) else None
    return str(value) if value else None


def _net(value: Any) -> Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=False) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass
class _Hub:
    """The routing facts of the record."""

    table_segment: dict[str, str]
    tables: dict[str, list[Route]]
    attachment_segment: dict[str, str]
    attachment_cidrs: dict[str, list[Network]]
    segment_members: dict[str, list[str]]
    segment_prefixes: dict[str, list[Network]]
    #: Segments of VPCs attached to no Transit Gateway -> their CIDRs.
    detached: dict[str, list[Network]] = field(default_factory=dict)

    def distinct_ranges(self, segment: str) -> set[tuple[Network, ...]]:
        """The members' ranges, once each: DX and VPN attachments to one data centre share theirs."""
        return {tuple(self.attachment_cidrs.get(a, [])) for a in self.segment_members.get(segment, [])}

    def cidrs(self, segment: str) -> list[Network]:
        nets = [n for a in self.segment_members.get(segment, []) for n in self.attachment_cidrs.get(a, [])]
        return nets + self.segment_prefixes.get(segment, []) + self.detached.get(segment, [])


def _hub(resources: Sequence[Mapping[str, Any]]) -> _Hub:
    table_segment = {str(r["id"]): seg for r in _of_type(resources, ROUTE_TABLE) if (seg := _segment_tag(r))}
    prefix_lists: dict[str, list[Network]] = {}
    segment_prefixes: dict[str, list[Network]] = {}
    for pl in _of_type(resources, PREFIX_LIST):
        nets = [n for e in (pl.get("inputs") or {}).get("entries") or [] if (n := _net(e.get("cidr")))]
        prefix_lists[str(pl["id"])] = nets
        if seg := _segment_tag(pl):
            segment_prefixes.setdefault(seg, []).extend(nets)

    vpc_cidrs = {str(v["id"]): [n] for v in _of_type(resources, VPC) if (n := _net(v["inputs"].get("cidrBlock")))}
    attachment_cidrs = {str(a["id"]): vpc_cidrs.get(str(a["inputs"].get("vpcId")), [])
                        for a in _of_type(resources, VPC_ATTACHMENT)}
    attached = {str(a["inputs"].get("vpcId")) for a in _of_type(resources, VPC_ATTACHMENT)}
    detached: dict[str, list[Network]] = {}
    for vpc in _of_type(resources, VPC):
        if (segment := _segment_tag(vpc)) and str(vpc["id"]) not in attached:
            detached.setdefault(segment, []).extend(vpc_cidrs.get(str(vpc["id"]), []))

    attachment_segment: dict[str, str] = {}
    segment_members: dict[str, list[str]] = {}
    for assoc in _of_type(resources, ASSOCIATION):
        attachment = str(assoc["inputs"].get("transitGatewayAttachmentId"))
        segment = table_segment.get(str(assoc["inputs"].get("transitGatewayRouteTableId")))
        if segment is not None:
            attachment_segment[attachment] = segment
            segment_members.setdefault(segment, []).append(attachment)
    # An attachment that is not a VPC (Direct Connect, VPN) carries its segment's prefix lists.
    for attachment, segment in attachment_segment.items():
        if not attachment_cidrs.get(attachment):
            attachment_cidrs[attachment] = list(segment_prefixes.get(segment, []))

    tables: dict[str, list[Route]] = {seg: [] for seg in table_segment.values()}

    def table_of(r: Mapping[str, Any]) -> list[Route] | None:
        segment = table_segment.get(str(r["inputs"].get("transitGatewayRouteTableId")))
        return tables[segment] if segment is not None else None

    for prop in _of_type(resources, PROPAGATION):
        if (routes := table_of(prop)) is not None:
            attachment = str(prop["inputs"].get("transitGatewayAttachmentId"))
            routes.extend(Route(n, PROPAGATED, attachment) for n in attachment_cidrs.get(attachment, []))
    for static in _of_type(resources, STATIC_ROUTE):
        inputs = static["inputs"]
        if (routes := table_of(static)) is not None and (n := _net(inputs.get("destinationCidrBlock"))):
            target = None if inputs.get("blackhole") else inputs.get("transitGatewayAttachmentId")
            routes.append(Route(n, STATIC, str(target) if target else None))
    for ref in _of_type(resources, PREFIX_LIST_REFERENCE):
        inputs = ref["inputs"]
        if (routes := table_of(ref)) is not None:
            target = None if inputs.get("blackhole") else inputs.get("transitGatewayAttachmentId")
            routes.extend(Route(n, PREFIX_LIST_ROUTE, str(target) if target else None)
                          for n in prefix_lists.get(str(inputs.get("prefixListId")), []))
    # A segment that also has an attachment is an attached segment (its detached VPCs are unreachable ranges of it).
    detached = {s: nets for s, nets in detached.items() if s not in set(table_segment.values())}
    return _Hub(table_segment, tables, attachment_segment, attachment_cidrs, segment_members, segment_prefixes,
                detached)


def _lookup(routes: Sequence[Route], destination: Network) -> Route | None:
    """Longest prefix match, then route priority."""
    matches = [r for r in routes if destination.subnet_of(r.prefix)]
    return min(matches, key=lambda r: (-r.prefix.prefixlen, r.kind)) if matches else None


def _follow(hub: _Hub, source: str, destination: str, atom: Network, hops: int = 1) -> str:
    routes = hub.tables.get(source)
    if routes is None:
        return NO_ROUTE
    route = _lookup(routes, atom)
    if route is None:
        return NO_ROUTE
    if route.blackhole:
        return BLACKHOLE
    landed = hub.attachment_segment.get(str(route.attachment))
    if landed == destination:
        return DIRECT
    if landed == EGRESS and hops and not any(atom.subnet_of(n) for n in hub.cidrs(EGRESS)):
        onward = _follow(hub, EGRESS, destination, atom, hops - 1)
        return VIA_EGRESS if onward in REACHING else onward
    return ELSEWHERE


def _atoms(hub: _Hub, source: str, destination: str) -> list[Network]:
    """The destination's ranges, split where the source's table has more specific routes inside them."""
    cidrs = hub.cidrs(destination)
    inner = [r.prefix for r in hub.tables.get(source, []) if any(r.prefix.subnet_of(c) and r.prefix != c
                                                                  for c in cidrs)]
    return list(dict.fromkeys([*cidrs, *inner]))


def _forward(hub: _Hub, source: str, destination: str) -> tuple[str, str]:
    if source in hub.detached:
        return DETACHED, "all"
    atoms = _atoms(hub, source, destination)
    if not atoms:
        return NO_ROUTE, "all"
    paths = [_follow(hub, source, destination, a) for a in atoms]
    reaching = [p for p in paths if p in REACHING]
    if reaching:
        path = DIRECT if DIRECT in reaching else VIA_EGRESS
        return path, "all" if len(reaching) == len(paths) else "part"
    for failure in (BLACKHOLE, ELSEWHERE):
        if failure in paths:
            return failure, "all"
    return NO_ROUTE, "all"


def analyse(resources: Sequence[Mapping[str, Any]]) -> Reachability:
    """The segment matrix of the recorded resources (empty when there is no Transit Gateway)."""
    hub = _hub(resources)
    if not hub.table_segment:
        return Reachability([])
    segments = list(dict.fromkeys([*hub.table_segment.values(), *hub.segment_prefixes, *hub.detached]))
    result = Reachability(segments)
    for source in segments:
        for destination in segments:
            if source == destination and len(hub.distinct_ranges(source)) < 2:
                result.cells[(source, destination)] = Cell(SELF, returns=True)
                continue
            path, coverage = _forward(hub, source, destination)
            returns = path in REACHING and _forward(hub, destination, source)[0] in REACHING
            result.cells[(source, destination)] = Cell(path, coverage, returns)
    return result
