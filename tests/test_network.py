"""Network properties of the shipped stacks, one property per test, on the recorded resources."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable

import pytest

from lz.render import Rendering
from tests.conftest import STACKS, aws_resources, of_type
from tests.test_stacks import EXPECTED_ACCOUNTS

Render = Callable[[str], Rendering]
NETWORK_STACKS = ("sandbox", "dev", "prod")
WORKLOAD_STACKS = ("dev", "prod")

VPC = "aws:ec2/vpc:Vpc"
ROUTE = "aws:ec2/route:Route"
RT_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SUBNET = "aws:ec2/subnet:Subnet"
TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
VPC_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
ACCEPTER = "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter"
TGW_ASSOCIATION = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"
TGW_ROUTE_TABLE = "aws:ec2transitgateway/routeTable:RouteTable"
DX_ASSOCIATION = "aws:directconnect/gatewayAssociation:GatewayAssociation"
VPN = "aws:ec2/vpnConnection:VpnConnection"
NAT = "aws:ec2/natGateway:NatGateway"
FIREWALL = "aws:networkfirewall/firewall:Firewall"
FIREWALL_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"


def spoke_vpcs(rendering: Rendering) -> list[dict]:
    return [v for v in of_type(rendering, VPC) if v["account"] not in ("network", "logArchive")]


def by_id(rendering: Rendering, type_: str) -> dict[str, dict]:
    return {r["id"]: r for r in of_type(rendering, type_)}


def the_tgw(rendering: Rendering) -> dict:
    [tgw] = of_type(rendering, TGW)
    return tgw


def subnet_tables(rendering: Rendering) -> dict[str, str]:
    """Subnet id -> the route table id it is associated with."""
    return {a["inputs"]["subnetId"]: a["inputs"]["routeTableId"] for a in of_type(rendering, RT_ASSOCIATION)
            if "subnetId" in a["inputs"]}


def routes_of(rendering: Rendering, table_id: str) -> dict[str, dict]:
    return {r["inputs"]["destinationCidrBlock"]: r["inputs"] for r in of_type(rendering, ROUTE)
            if r["inputs"]["routeTableId"] == table_id}


# -- spokes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_every_spoke_account_has_a_vpc_of_its_planned_cidr(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    spokes = {v["account"]: v["inputs"]["cidrBlock"] for v in spoke_vpcs(rendering)}
    assert set(spokes) == set(EXPECTED_ACCOUNTS[stack]) - {"network"}
    if stack == "dev":
        assert spokes == {"identity": "10.64.4.0/22", "api": "10.64.8.0/22", "workload:ais": "10.64.16.0/21",
                          "workload:pis": "10.64.24.0/21"}


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_every_spoke_workload_subnet_defaults_to_the_transit_gateway(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    tgw_id, tables = the_tgw(rendering)["id"], subnet_tables(rendering)
    for vpc in spoke_vpcs(rendering):
        subnets = [s for s in of_type(rendering, SUBNET) if s["inputs"]["vpcId"] == vpc["id"]
                   and s["inputs"]["tags"]["lz:tier"] in ("private", "data")]
        assert len(subnets) >= 2
        for subnet in subnets:
            default = routes_of(rendering, tables[subnet["id"]])["0.0.0.0/0"]
            assert default == {**default, "transitGatewayId": tgw_id}, subnet["name"]
            assert set(default) & {"gatewayId", "natGatewayId", "vpcEndpointId"} == set()


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_spoke_subnets_never_map_public_ips(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    spokes = {v["id"] for v in spoke_vpcs(rendering)}
    subnets = [s for s in of_type(rendering, SUBNET) if s["inputs"]["vpcId"] in spokes]
    assert subnets and all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in subnets)


@pytest.mark.parametrize("stack", STACKS)
def test_no_internet_gateway_outside_the_network_account(rendered: Render, stack: str) -> None:
    gateways = of_type(rendered(stack), "aws:ec2/internetGateway:InternetGateway")
    assert {g["account"] for g in gateways} <= {"network"}
    assert {g["account"] for g in of_type(rendered(stack), NAT)} <= {"network"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_vpc_has_a_flow_log_of_all_traffic(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    logs = {f["inputs"]["vpcId"]: f["inputs"] for f in of_type(rendering, "aws:ec2/flowLog:FlowLog")
            if "vpcId" in f["inputs"]}
    for vpc in of_type(rendering, VPC):
        assert logs[vpc["id"]]["trafficType"] == "ALL", vpc["name"]


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_network_flow_logs_land_in_the_foundation_flow_log_bucket(rendered: Render, stack: str) -> None:
    bucket = rendered("foundation").outputs["flowLogsBucketArn"]
    vpcs = {v["id"] for v in of_type(rendered(stack), VPC)}
    for log in of_type(rendered(stack), "aws:ec2/flowLog:FlowLog"):
        if log["inputs"].get("vpcId") in vpcs:
            assert log["inputs"]["logDestination"].startswith(f"{bucket}/vpc-flow-logs/")


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_interface_endpoints_admit_https_from_their_own_vpc_only(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    cidr_of_group = {g["id"]: next(v["inputs"]["cidrBlock"] for v in of_type(rendering, VPC)
                                   if v["id"] == g["inputs"]["vpcId"])
                     for g in of_type(rendering, "aws:ec2/securityGroup:SecurityGroup")
                     if g["name"].endswith("-endpoints-sg")}
    rules = [r["inputs"] for r in of_type(rendering, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r["inputs"]["securityGroupId"] in cidr_of_group]
    # every VPC but the network account's ingress VPC, which holds nothing that calls AWS (tests/test_identity.py)
    vpcs = [v for v in of_type(rendering, VPC) if v["inputs"]["tags"]["lz:segment"] != "ingress"]
    assert len(rules) == len(cidr_of_group) == len(vpcs)
    for rule in rules:
        assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (443, 443, "tcp")
        assert rule["cidrIpv4"] == cidr_of_group[rule["securityGroupId"]]


# -- the hub ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_tgw_is_segmented_and_shares_nothing_outside_the_organization(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    tgw = the_tgw(rendering)["inputs"]
    assert (tgw["autoAcceptSharedAttachments"], tgw["defaultRouteTableAssociation"],
            tgw["defaultRouteTablePropagation"], tgw["dnsSupport"]) == ("disable", "disable", "disable", "enable")
    assert tgw["amazonSideAsn"] == 64512
    [share] = of_type(rendering, "aws:ram/resourceShare:ResourceShare")
    assert share["inputs"]["allowExternalPrincipals"] is False and share["account"] == "network"


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_every_spoke_account_is_a_principal_of_the_ram_share(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [share] = of_type(rendering, "aws:ram/resourceShare:ResourceShare")
    principals = {p["inputs"]["principal"] for p in of_type(rendering, "aws:ram/principalAssociation:PrincipalAssociation")
                  if p["inputs"]["resourceShareArn"] == share["outputs"]["arn"]}
    assert principals == {a for role, a in EXPECTED_ACCOUNTS[stack].items() if role != "network"}
    shared = {r["inputs"]["resourceArn"] for r in of_type(rendering, "aws:ram/resourceAssociation:ResourceAssociation")}
    assert the_tgw(rendering)["outputs"]["arn"] in shared


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_spoke_attachments_wait_for_the_ram_share(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    principal_urns = {p["urn"] for p in of_type(rendering, "aws:ram/principalAssociation:PrincipalAssociation")}
    for attachment in of_type(rendering, VPC_ATTACHMENT):
        if attachment["account"] != "network":
            assert set(attachment["options"]["dependsOn"]) & principal_urns, attachment["name"]


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_spoke_attachments_are_created_by_the_spoke_and_accepted_by_the_hub(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    accepted = {a["inputs"]["transitGatewayAttachmentId"]: a for a in of_type(rendering, ACCEPTER)}
    spokes = [a for a in of_type(rendering, VPC_ATTACHMENT) if a["account"] != "network"]
    assert {a["id"] for a in spokes} == set(accepted)
    assert {a["account"] for a in accepted.values()} == {"network"}


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_every_attachment_is_associated_with_exactly_one_route_table(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    attachments = [a["id"] for a in of_type(rendering, VPC_ATTACHMENT)]
    attachments += [r["outputs"]["transitGatewayAttachmentId"] for r in of_type(rendering, DX_ASSOCIATION)]
    attachments += [r["outputs"]["transitGatewayAttachmentId"] for r in of_type(rendering, VPN)]
    counts = Counter(a["inputs"]["transitGatewayAttachmentId"] for a in of_type(rendering, TGW_ASSOCIATION))
    assert attachments and {a: counts[a] for a in attachments} == dict.fromkeys(attachments, 1)
    assert set(counts) == set(attachments)
    assert all(a["account"] == "network" for a in of_type(rendering, TGW_ASSOCIATION))


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_one_tgw_route_table_per_segment(rendered: Render, stack: str) -> None:
    segments = sorted(t["inputs"]["tags"]["lz:segment"] for t in of_type(rendered(stack), TGW_ROUTE_TABLE))
    expected = {"sandbox": ["egress", "sandbox"],
                "dev": ["edge", "egress", "identity", "onprem", "workloads"]}.get(stack, ["edge", "egress", "identity",
                                                                                     "onprem", "workloads"])
    assert segments == expected


# -- egress ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_firewall_policy_drops_by_default_in_strict_order(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [policy] = of_type(rendering, FIREWALL_POLICY)
    [firewall] = of_type(rendering, FIREWALL)
    body = policy["inputs"]["firewallPolicy"]
    assert firewall["inputs"]["firewallPolicyArn"] == policy["outputs"]["arn"]
    assert body["statelessDefaultActions"] == body["statelessFragmentDefaultActions"] == ["aws:forward_to_sfe"]
    assert body["statefulEngineOptions"]["ruleOrder"] == "STRICT_ORDER"
    assert "aws:drop_established" in body["statefulDefaultActions"]


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_firewall_allow_list_is_the_configured_domains(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [allow] = [g for g in of_type(rendering, "aws:networkfirewall/ruleGroup:RuleGroup") if g["name"].endswith("-allow-list")]
    source = allow["inputs"]["ruleGroup"]["rulesSource"]["rulesSourceList"]
    assert source["generatedRulesType"] == "ALLOWLIST"
    config = json.loads(rendering.program.config(stack).values["landingzone:environment"])
    assert source["targets"] == config["network"]["egressAllowedDomains"]
    # the workload stacks let out the Open Banking CA's revocation service, the sandbox only its own directory
    assert ("ob.trustis.com" in source["targets"]) is (stack != "sandbox")
    assert allow["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] == "STRICT_ORDER"


@pytest.mark.parametrize(("stack", "nats"), [("sandbox", 1), ("dev", 1), ("prod", 3)])
def test_nat_gateways_one_per_az_in_prod_one_elsewhere(rendered: Render, stack: str, nats: int) -> None:
    rendering = rendered(stack)
    subnets = by_id(rendering, SUBNET)
    gateways = of_type(rendering, NAT)
    zones = {subnets[n["inputs"]["subnetId"]]["inputs"]["availabilityZoneId"] for n in gateways}
    assert len(gateways) == len(zones) == nats


def test_prod_egress_routing_is_symmetric_per_az(rendered: Render) -> None:
    """TGW subnet (AZ i) -> firewall endpoint in AZ i -> NAT in AZ i, and the NAT's subnet sends the way
    back through the endpoint of the same AZ."""
    rendering = rendered("prod")
    subnets, tables = by_id(rendering, SUBNET), subnet_tables(rendering)
    [firewall] = of_type(rendering, FIREWALL)
    endpoint_zone = {a["endpointId"]: subnets[a["subnetId"]]["inputs"]["availabilityZoneId"]
                     for s in firewall["outputs"]["firewallStatuses"][0]["syncStates"] for a in s["attachments"]}
    nat_zone = {n["id"]: subnets[n["inputs"]["subnetId"]]["inputs"]["availabilityZoneId"] for n in of_type(rendering, NAT)}
    egress_vpc = {v["id"] for v in of_type(rendering, VPC) if v["inputs"]["tags"]["lz:segment"] == "egress"}
    egress = [s for s in subnets.values() if s["inputs"]["vpcId"] in egress_vpc]
    checked = 0
    for subnet in egress:
        zone, tier = subnet["inputs"]["availabilityZoneId"], subnet["inputs"]["tags"]["lz:tier"]
        routes = routes_of(rendering, tables[subnet["id"]])
        if tier in ("tgw", "services"):
            assert endpoint_zone[routes["0.0.0.0/0"]["vpcEndpointId"]] == zone
        elif tier == "firewall":
            assert nat_zone[routes["0.0.0.0/0"]["natGatewayId"]] == zone
        elif tier == "public":
            returns = [r for cidr, r in routes.items() if cidr != "0.0.0.0/0"]
            assert returns and {endpoint_zone[r["vpcEndpointId"]] for r in returns} == {zone}
        checked += 1
    assert checked == 4 * 3


def test_egress_attachment_runs_in_appliance_mode(rendered: Render) -> None:
    [egress] = [a for a in of_type(rendered("prod"), VPC_ATTACHMENT) if a["account"] == "network"]
    assert egress["inputs"]["applianceModeSupport"] == "enable"


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_proxy_hosts_are_hardened(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [template] = of_type(rendering, "aws:ec2/launchTemplate:LaunchTemplate")
    inputs = template["inputs"]
    ebs_key = next(k for k in of_type(rendering, "aws:kms/key:Key")
                   if k["account"] == "network" and k["name"].endswith("-ebs-key"))
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    [volume] = inputs["blockDeviceMappings"]
    assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["kmsKeyId"] == ebs_key["outputs"]["arn"]
    [nic] = inputs["networkInterfaces"]
    assert nic["associatePublicIpAddress"] == "false"


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_proxy_fleet_spans_every_az_behind_an_internal_nlb(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [group] = of_type(rendering, "aws:autoscaling/group:Group")
    [nlb] = [lb for lb in of_type(rendering, "aws:lb/loadBalancer:LoadBalancer") if lb["account"] == "network"
             and lb["inputs"]["internal"]]  # the other is the ingress VPC's public NLB (tests/test_identity.py)
    services = {s["id"] for s in of_type(rendering, SUBNET) if s["inputs"]["tags"]["lz:tier"] == "services"}
    assert set(group["inputs"]["vpcZoneIdentifiers"]) == set(nlb["inputs"]["subnets"]) == services
    assert nlb["inputs"]["internal"] is True and nlb["inputs"]["loadBalancerType"] == "network"
    assert group["inputs"]["minSize"] >= (3 if stack == "prod" else 1)


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_squid_config_is_rendered_from_the_allow_list(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [template] = of_type(rendering, "aws:ec2/launchTemplate:LaunchTemplate")
    script = base64.b64decode(template["inputs"]["userData"]).decode()
    domains = json.loads(rendering.program.config(stack).values["landingzone:environment"])["network"][
        "egressAllowedDomains"]
    assert f"acl allowed_domains dstdomain {' '.join(domains)}" in script
    assert script.index("http_access allow spokes allowed_domains") < script.index("http_access deny all")


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_tpp_callbacks_leave_from_the_events_account_through_the_proxy_only(rendered: Render, stack: str) -> None:
    """The callback domains of the config are what the events service and its delivery function accept, what the
    proxy tunnels for the VPC of the account running them (no other), and what the firewall passes from the proxy's
    subnets (no spoke directly)."""
    rendering = rendered(stack)
    domains = json.loads(rendering.program.config(stack).values["landingzone:environment"])["network"][
        "callbackDomains"]
    assert bool(domains) is (stack != "sandbox")  # the shipped sandbox pushes no events: its TPPs poll
    readers = {}
    for function in of_type(rendering, "aws:lambda/function:Function"):
        variables = (function["inputs"].get("environment") or {}).get("variables", {})
        if "OB_CALLBACK_DOMAINS" in variables:
            readers["lambda " + function["name"]] = (function["account"], json.loads(variables["OB_CALLBACK_DOMAINS"]))
    for task in of_type(rendering, "aws:ecs/taskDefinition:TaskDefinition"):
        for container in json.loads(task["inputs"]["containerDefinitions"]):
            for variable in container.get("environment", []):
                if variable["name"] == "OB_CALLBACK_DOMAINS":
                    readers["task " + task["name"]] = (task["account"], json.loads(variable["value"]))
    # the events service and event delivery, nothing else
    assert sorted(name.split()[0] for name in readers) == ["lambda", "task"], readers
    assert all("events" in name for name in readers) and all(d == domains for _, d in readers.values()), readers
    [events_account] = {account for account, _ in readers.values()}
    [events_vpc] = [v["inputs"]["cidrBlock"] for v in of_type(rendering, VPC) if v["account"] == events_account]

    [template] = of_type(rendering, "aws:ec2/launchTemplate:LaunchTemplate")
    script = base64.b64decode(template["inputs"]["userData"]).decode()
    groups = {g["name"]: g for g in of_type(rendering, "aws:networkfirewall/ruleGroup:RuleGroup")}
    callbacks = [g for name, g in groups.items() if name.endswith("-callbacks")]
    if not domains:
        assert "callback_domains" not in script and callbacks == []
        return
    assert f"acl callback_senders src {events_vpc}" in script.splitlines()
    assert f"acl callback_domains dstdomain {' '.join(domains)}" in script.splitlines()
    [group] = callbacks
    services = sorted(s["inputs"]["cidrBlock"] for s in of_type(rendering, SUBNET)
                      if s["account"] == "network" and s["inputs"]["tags"]["lz:tier"] == "services")
    rules = group["inputs"]["ruleGroup"]["rulesSource"]["rulesString"].splitlines()
    assert len(rules) == len(domains)
    for rule, domain in zip(rules, domains, strict=True):
        assert rule.startswith(f"pass tls [{','.join(services)}] any -> $EXTERNAL_NET 443 (tls.sni; ")
        assert f'content:"{domain}"' in rule
    [policy] = of_type(rendering, FIREWALL_POLICY)
    order = {r["resourceArn"]: r["priority"] for r in policy["inputs"]["firewallPolicy"]["statefulRuleGroupReferences"]}
    drop = next(g for name, g in groups.items() if name.endswith("-drop-non-tcp"))
    assert order[group["outputs"]["arn"]] < order[drop["outputs"]["arn"]]


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_every_spoke_vpc_is_associated_with_the_proxy_zone(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [zone] = [z for z in of_type(rendering, "aws:route53/zone:Zone") if z["inputs"]["name"].startswith("proxy.")]
    authorizations = of_type(rendering, "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization")
    authorized = {a["inputs"]["vpcId"] for a in authorizations
                  if a["inputs"]["zoneId"] == zone["outputs"]["zoneId"]}
    associated = {a["inputs"]["vpcId"]: a["account"]
                  for a in of_type(rendering, "aws:route53/zoneAssociation:ZoneAssociation")}
    spokes = {v["id"]: v["account"] for v in spoke_vpcs(rendering)}
    assert zone["inputs"]["name"].startswith("proxy.")
    assert authorized == set(spokes) and associated == spokes


# -- hybrid ----------------------------------------------------------------------------------------


def test_prod_has_direct_connect_and_vpn_in_the_onprem_segment(rendered: Render) -> None:
    rendering = rendered("prod")
    onprem = next(t["id"] for t in of_type(rendering, TGW_ROUTE_TABLE) if t["inputs"]["tags"]["lz:segment"] == "onprem")
    in_onprem = {a["inputs"]["transitGatewayAttachmentId"] for a in of_type(rendering, TGW_ASSOCIATION)
                 if a["inputs"]["transitGatewayRouteTableId"] == onprem}
    [dx] = of_type(rendering, DX_ASSOCIATION)
    vpns = of_type(rendering, VPN)
    vifs = of_type(rendering, "aws:directconnect/transitVirtualInterface:TransitVirtualInterface")
    assert len(vpns) == 2 and len(vifs) == 2
    assert in_onprem == {dx["outputs"]["transitGatewayAttachmentId"],
                         *(v["outputs"]["transitGatewayAttachmentId"] for v in vpns)}
    assert dx["inputs"]["associatedGatewayId"] == the_tgw(rendering)["id"]


def test_prod_advertises_only_what_on_prem_may_reach(rendered: Render) -> None:
    rendering = rendered("prod")
    [dx] = of_type(rendering, DX_ASSOCIATION)
    services = sorted(s["inputs"]["cidrBlock"] for s in of_type(rendering, SUBNET)
                      if s["inputs"]["tags"]["lz:tier"] == "services")
    assert sorted(dx["inputs"]["allowedPrefixes"]) == sorted(["10.96.32.0/20", "10.96.48.0/20", "10.96.8.0/21", *services])


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_vpn_tunnels_use_ikev2_and_strong_ciphers_only(rendered: Render, stack: str) -> None:
    vpns = of_type(rendered(stack), VPN)
    assert vpns
    for vpn in vpns:
        for tunnel in ("tunnel1", "tunnel2"):
            assert vpn["inputs"][f"{tunnel}IkeVersions"] == ["ikev2"]
            assert vpn["inputs"][f"{tunnel}Phase2EncryptionAlgorithms"] == ["AES256-GCM-16"]
        assert vpn["inputs"]["transitGatewayId"] == the_tgw(rendered(stack))["id"]


@pytest.mark.parametrize("stack", WORKLOAD_STACKS)
def test_data_centre_domains_resolve_in_every_spoke(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    [rule] = of_type(rendering, "aws:route53/resolverRule:ResolverRule")
    shared = {r["inputs"]["resourceArn"] for r in of_type(rendering, "aws:ram/resourceAssociation:ResourceAssociation")}
    rule_associations = of_type(rendering, "aws:route53/resolverRuleAssociation:ResolverRuleAssociation")
    associated = {a["inputs"]["vpcId"] for a in rule_associations
                  if a["inputs"]["resolverRuleId"] == rule["id"]}
    assert rule["inputs"]["domainName"] == "corp.example-bank.internal" and rule["inputs"]["ruleType"] == "FORWARD"
    assert rule["outputs"]["arn"] in shared
    assert associated == {v["id"] for v in spoke_vpcs(rendering)}


def test_sandbox_has_no_path_to_the_data_centre(rendered: Render) -> None:
    rendering = rendered("sandbox")
    for type_ in (DX_ASSOCIATION, VPN, "aws:route53/resolverEndpoint:ResolverEndpoint"):
        assert of_type(rendering, type_) == []


@pytest.mark.parametrize("stack", NETWORK_STACKS)
def test_network_resources_live_in_the_network_account(rendered: Render, stack: str) -> None:
    hub_types = {TGW, TGW_ROUTE_TABLE, TGW_ASSOCIATION, ACCEPTER, FIREWALL, NAT, DX_ASSOCIATION, VPN,
                 "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation",
                 "aws:ec2transitgateway/route:Route"}
    for resource in aws_resources(rendered(stack)):
        if resource["type"] in hub_types:
            assert resource["account"] == "network", resource["name"]
