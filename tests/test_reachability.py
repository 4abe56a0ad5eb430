"""The segment matrix: on the shipped stacks, and on one hub holding every segment at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.transit_gateway import (
    SPOKE_SEGMENTS,
    Attachment,
    Segment,
    SegmentAttachment,
    SegmentAttachmentArgs,
    TransitGatewayHub,
    TransitGatewayHubArgs,
)
from lz.mocks import Placement, RealisticMocks
from lz.reachability import BLACKHOLE, DETACHED, VIA_EGRESS, analyse
from lz.render import Rendering

Render = Callable[[str], Rendering]
WORKLOAD_STACKS = ("dev", "prod")


# -- the shipped stacks ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_workloads_reach_on_prem_and_egress_only(rendered: Render, stack: str) -> None:
    assert analyse(rendered(stack).resources).reachable_from("workloads") == {"onprem", "egress"}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_identity_reaches_on_prem_and_egress_only(rendered: Render, stack: str) -> None:
    assert analyse(rendered(stack).resources).reachable_from("identity") == {"onprem", "egress"}


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_on_prem_reaches_workloads(rendered: Render, stack: str) -> None:
    assert analyse(rendered(stack).resources).reaches("onprem", "workloads")


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_on_prem_reaches_only_the_services_subnets_of_the_egress_vpc(rendered: Render, stack: str) -> None:
    cell = analyse(rendered(stack).resources).cell("onprem", "egress")
    assert cell.reaches and cell.coverage == "part"


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_api_account_reaches_only_egress_through_the_tgw(rendered: Render, stack: str) -> None:
    matrix = analyse(rendered(stack).resources)
    assert matrix.reachable_from("edge") == {"egress"}
    assert matrix.cell("edge", "workloads").path == BLACKHOLE


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_on_prem_cannot_reach_the_api_account(rendered: Render, stack: str) -> None:
    assert not analyse(rendered(stack).resources).reaches("onprem", "edge")


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_workload_accounts_do_not_reach_each_other_through_the_tgw(rendered: Render, stack: str) -> None:
    assert analyse(rendered(stack).resources).cell("workloads", "workloads").path == BLACKHOLE


def test_sandbox_stack_reaches_egress_only(rendered: Render) -> None:
    assert analyse(rendered("sandbox").resources).reachable_from("sandbox") == {"egress"}


def test_sandbox_stack_blackholes_the_data_centre(rendered: Render) -> None:
    matrix = analyse(rendered("sandbox").resources)
    assert matrix.cell("sandbox", "onprem").path == BLACKHOLE
    assert "workloads" not in matrix.segments  # the sandbox hub has no route to any workload account


def test_foundation_has_no_matrix(rendered: Render) -> None:
    assert analyse(rendered("foundation").resources).segments == []


# -- one hub holding every segment -----------------------------------------------------------------

CIDRS = {"ais": "10.64.16.0/21", "pis": "10.64.24.0/21", "identity": "10.64.4.0/22", "api": "10.64.8.0/22",
         "sandbox": "10.128.4.0/22", "egress": "10.64.0.0/22"}
SEGMENTS = {"ais": Segment.WORKLOADS, "pis": Segment.WORKLOADS, "identity": Segment.IDENTITY,
            "api": Segment.EDGE, "sandbox": Segment.SANDBOX, "egress": Segment.EGRESS}
ON_PREM = ["10.0.0.0/12", "172.16.0.0/16"]
SERVICES_SUBNET = "10.64.3.0/25"


class Record:
    """Keeps what the mocks are asked to create, in the shape of `lz`'s record."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []

    def placement_of(self, provider_ref: str | None) -> Placement:
        return Placement("network", "200000000001", "eu-west-2")

    def default_tags_of(self, provider_ref: str | None) -> dict[str, str]:
        return {}

    def urn_of(self, args: pulumi.runtime.MockResourceArgs) -> str:
        return f"urn:pulumi:test::hub::{args.typ}::{args.name}"

    def record(self, args: pulumi.runtime.MockResourceArgs, id_: str, state: dict[str, Any]) -> None:
        self.resources.append({"type": args.typ, "name": args.name, "id": id_, "inputs": dict(args.inputs),
                               "outputs": state})

    def stack_outputs(self, stack: str) -> dict[str, Any]:
        return {}


@pulumi.runtime.test
def _build_hub() -> None:
    hub = TransitGatewayHub("hub", TransitGatewayHubArgs(
        name_prefix="test", amazon_side_asn=64512, segments=list(Segment),
        share_with={"200000000002": "spokes"}, on_premises_cidrs=ON_PREM))
    for name, cidr in CIDRS.items():
        vpc = aws.ec2.Vpc(name, cidr_block=cidr)
        attachment = aws.ec2transitgateway.VpcAttachment(f"{name}-attachment", vpc_id=vpc.id, subnet_ids=["subnet-1"],
                                                         transit_gateway_id=hub.transit_gateway_id)
        static: dict[Segment, dict[str, str]] = {}
        if name == "egress":
            static = {s: {"default": "0.0.0.0/0"} for s in SPOKE_SEGMENTS}
            static[Segment.ONPREM] = {"services": SERVICES_SUBNET}  # the Resolver inbound endpoint
        SegmentAttachment(f"{name}-routing", SegmentAttachmentArgs(
            hub=hub, attachment=Attachment(name, SEGMENTS[name], attachment.id, [cidr]), static_routes=static))
    vpn = aws.ec2.VpnConnection("dc-vpn", customer_gateway_id="cgw-1", type="ipsec.1",
                                transit_gateway_id=hub.transit_gateway_id)
    SegmentAttachment("vpn-routing", SegmentAttachmentArgs(
        hub=hub, attachment=Attachment("vpn", Segment.ONPREM, vpn.transit_gateway_attachment_id, [])))


@pytest.fixture(scope="module")
def shared_hub() -> list[dict[str, Any]]:
    record = Record()
    pulumi.runtime.set_mocks(RealisticMocks(record), project="hub", stack="test", preview=False)
    _build_hub()
    return record.resources


def test_one_hub_implements_the_design_matrix(shared_hub: list[dict[str, Any]]) -> None:
    matrix = analyse(shared_hub)
    reach = {s: matrix.reachable_from(s) for s in matrix.segments}
    assert matrix.cell("onprem", "egress").coverage == "part"
    assert reach == {
        "workloads": {"onprem", "egress"},
        "identity": {"onprem", "egress"},
        "edge": {"egress"},
        "sandbox": {"egress"},
        "onprem": {"workloads", "identity", "egress"},
        "egress": {"workloads", "identity", "edge", "sandbox", "onprem"},
    }


def test_sandbox_blackholes_on_prem_and_every_other_spoke(shared_hub: list[dict[str, Any]]) -> None:
    matrix = analyse(shared_hub)
    for destination in ("onprem", "workloads", "identity", "edge"):
        assert matrix.cell("sandbox", destination).path == BLACKHOLE, destination


def test_without_the_blackholes_spokes_would_hairpin_through_egress(shared_hub: list[dict[str, Any]]) -> None:
    """The control: the default routes alone would connect the sandbox to the workloads through the
    egress VPC, so the blackholes are what make the sandbox egress-only (and the analyser sees the hair-pin)."""
    stripped = [r for r in shared_hub
                if not (r["type"] == "aws:ec2transitgateway/route:Route" and r["inputs"].get("blackhole"))]
    cell = analyse(stripped).cell("sandbox", "workloads")
    assert cell.path == VIA_EGRESS and cell.reaches


# -- the ingress VPC: a segment with no attachment ---------------------------------------------------


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_the_ingress_segment_reaches_nothing_and_nothing_reaches_it(rendered: Render, stack: str) -> None:
    matrix = analyse(rendered(stack).resources)
    assert "ingress" in matrix.segments
    assert matrix.reachable_from("ingress") == set()
    for source in matrix.segments:
        if source != "ingress":
            assert not matrix.reaches(source, "ingress"), source
            assert matrix.cell("ingress", source).path == DETACHED


def test_the_sandbox_stack_has_no_ingress_segment(rendered: Render) -> None:
    assert "ingress" not in analyse(rendered("sandbox").resources).segments


def _with_vpc(resources: list[dict[str, Any]], cidr: str, attached: bool) -> list[dict[str, Any]]:
    """The shared hub's record plus one VPC tagged `ingress`: attached to nothing, or (the control) attached with a
    route table of its own whose default route leads to the egress VPC, and propagated into the workloads' and
    egress tables, as a careless spoke would be."""
    vpc = {"type": "aws:ec2/vpc:Vpc", "name": "ingress", "id": "vpc-ingress",
           "inputs": {"cidrBlock": cidr, "tags": {"lz:segment": "ingress"}}, "outputs": {}}
    if not attached:
        return [*resources, vpc]
    tables = {r["inputs"]["tags"]["lz:segment"]: r["id"] for r in resources
              if r["type"] == "aws:ec2transitgateway/routeTable:RouteTable"}
    egress = next(r["inputs"]["transitGatewayAttachmentId"] for r in resources
                  if r["type"] == "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"
                  and r["inputs"]["transitGatewayRouteTableId"] == tables["egress"])

    def tgw(type_: str, name: str, **inputs: Any) -> dict[str, Any]:
        return {"type": f"aws:ec2transitgateway/{type_}", "name": name, "id": name, "inputs": inputs, "outputs": {}}

    return [*resources, vpc,
            tgw("vpcAttachment:VpcAttachment", "tgw-attach-ingress", vpcId="vpc-ingress"),
            tgw("routeTable:RouteTable", "tgw-rtb-ingress", tags={"lz:segment": "ingress"}),
            tgw("routeTableAssociation:RouteTableAssociation", "assoc", transitGatewayAttachmentId="tgw-attach-ingress",
                transitGatewayRouteTableId="tgw-rtb-ingress"),
            tgw("route:Route", "default", transitGatewayRouteTableId="tgw-rtb-ingress",
                destinationCidrBlock="0.0.0.0/0", transitGatewayAttachmentId=egress),
            *(tgw("routeTablePropagation:RouteTablePropagation", f"prop-{segment}",
                  transitGatewayAttachmentId="tgw-attach-ingress", transitGatewayRouteTableId=tables[segment])
              for segment in ("workloads", "egress"))]


def test_a_vpc_attached_to_no_gateway_is_a_segment_that_reaches_nothing(shared_hub: list[dict[str, Any]]) -> None:
    matrix = analyse(_with_vpc(shared_hub, "10.64.12.0/24", attached=False))
    assert matrix.segments[-1] == "ingress"
    assert matrix.reachable_from("ingress") == set()
    assert all(matrix.cell("ingress", d).path == DETACHED for d in matrix.segments if d != "ingress")
    assert not any(matrix.reaches(s, "ingress") for s in matrix.segments if s != "ingress")
    # the other segments' reach is what it was
    before = analyse(shared_hub)
    assert {s: matrix.reachable_from(s) for s in before.segments} == {s: before.reachable_from(s)
                                                                        for s in before.segments}


def test_the_control_the_same_vpc_attached_would_be_reached(shared_hub: list[dict[str, Any]]) -> None:
    """The control: attached and propagated, the ingress VPC is reached by the workloads and reaches them back
    through egress, and the analyser shows it; detached, no route exists either way."""
    matrix = analyse(_with_vpc(shared_hub, "10.64.12.0/24", attached=True))
    assert matrix.reaches("workloads", "ingress") and matrix.reaches("ingress", "workloads")
    assert matrix.cell("ingress", "workloads").path == VIA_EGRESS
