"""Tests for the network rules (security groups, flow logs, TGW, Network Firewall, squid hosts)."""

from __future__ import annotations

from openbanking_policies import METADATA, network
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

SG = network.SECURITY_GROUP


def _sg_rule(cidr: str, port: float = 22.0, protocol: str = "tcp") -> dict:
    return {"protocol": protocol, "fromPort": port, "toPort": port, "cidrBlocks": [cidr]}


# ob-sg-no-world-ingress ---------------------------------------------------------------------------


def test_sg_private_ingress_passes() -> None:
    props = {"ingress": [_sg_rule("10.0.0.0/16")], "egress": [_sg_rule("0.0.0.0/0", 443.0)]}
    assert run_resource_policy(network.sg_no_world_ingress, SG, props) == []


def test_sg_world_ssh_fails_and_names_cidr() -> None:
    msgs = run_resource_policy(network.sg_no_world_ingress, SG, {"ingress": [_sg_rule("0.0.0.0/0")]})
    assert len(msgs) == 1
    assert "cidrBlocks='0.0.0.0/0'" in msgs[0] and "22" in msgs[0]


def test_sg_world_ipv6_fails() -> None:
    rule = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "ipv6CidrBlocks": ["::/0"]}
    msgs = run_resource_policy(network.sg_no_world_ingress, SG, {"ingress": [rule]})
    assert len(msgs) == 1 and "::/0" in msgs[0]


def test_sg_internet_facing_tag_allows_443_only() -> None:
    tags = {"lz:internet-facing": "true"}
    ok = {"ingress": [_sg_rule("0.0.0.0/0", 443.0)], "tags": tags}
    assert run_resource_policy(network.sg_no_world_ingress, SG, ok) == []
    bad = {"ingress": [_sg_rule("0.0.0.0/0", 443.0), _sg_rule("0.0.0.0/0", 80.0)], "tags": tags}
    msgs = run_resource_policy(network.sg_no_world_ingress, SG, bad)
    assert len(msgs) == 1 and "ingress[1]" in msgs[0] and "80" in msgs[0]


def test_sg_untagged_world_443_fails() -> None:
    msgs = run_resource_policy(network.sg_no_world_ingress, SG, {"ingress": [_sg_rule("0.0.0.0/0", 443.0)]})
    assert len(msgs) == 1


def test_sg_ingress_rule_resource() -> None:
    t = network.SG_INGRESS_RULE
    bad = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 3389.0, "toPort": 3389.0}
    msgs = run_resource_policy(network.sg_no_world_ingress, t, bad)
    assert len(msgs) == 1 and "cidrIpv4='0.0.0.0/0'" in msgs[0]
    ok = {"cidrIpv4": "10.1.0.0/16", "ipProtocol": "tcp", "fromPort": 3389.0, "toPort": 3389.0}
    assert run_resource_policy(network.sg_no_world_ingress, t, ok) == []
    edge = {
        "cidrIpv6": "::/0",
        "ipProtocol": "tcp",
        "fromPort": 443.0,
        "toPort": 443.0,
        "tags": {"lz:internet-facing": "true"},
    }
    assert run_resource_policy(network.sg_no_world_ingress, t, edge) == []


def test_sg_rule_resource_ingress_only() -> None:
    t = network.SG_RULE
    base = {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}
    assert len(run_resource_policy(network.sg_no_world_ingress, t, {**base, "type": "ingress"})) == 1
    assert run_resource_policy(network.sg_no_world_ingress, t, {**base, "type": "egress"}) == []


def test_sg_unknown_cidr_is_not_a_violation() -> None:
    props = {
        "ingress": [
            {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": [UNKNOWN_STRING_VALUE]}
        ]
    }
    assert run_resource_policy(network.sg_no_world_ingress, SG, props) == []


def test_sg_policy_ignores_other_types() -> None:
    assert (
        run_resource_policy(network.sg_no_world_ingress, network.SUBNET, {"cidrBlocks": ["0.0.0.0/0"]}) == []
    )


def test_critical_policies_cannot_be_downgraded() -> None:
    assert METADATA["ob-sg-no-world-ingress"].nonprod_may_downgrade is False


# ob-vpc-flowlogs ----------------------------------------------------------------------------------


def test_flow_log_all_passes() -> None:
    assert (
        run_resource_policy(network.vpc_flowlogs, network.FLOW_LOG, {"vpcId": "vpc-1", "trafficType": "ALL"})
        == []
    )


def test_flow_log_reject_only_fails() -> None:
    msgs = run_resource_policy(
        network.vpc_flowlogs, network.FLOW_LOG, {"vpcId": "vpc-1", "trafficType": "REJECT"}
    )
    assert len(msgs) == 1 and "trafficType is 'REJECT'" in msgs[0]


def test_flow_log_missing_traffic_type_fails_but_tgw_passes() -> None:
    assert len(run_resource_policy(network.vpc_flowlogs, network.FLOW_LOG, {"vpcId": "vpc-1"})) == 1
    assert run_resource_policy(network.vpc_flowlogs, network.FLOW_LOG, {"transitGatewayId": "tgw-1"}) == []


def test_flow_log_unknown_traffic_type() -> None:
    props = {"vpcId": "vpc-1", "trafficType": UNKNOWN_STRING_VALUE}
    assert run_resource_policy(network.vpc_flowlogs, network.FLOW_LOG, props) == []


# ob-tgw-segmentation ------------------------------------------------------------------------------


def test_tgw_disabled_defaults_pass() -> None:
    props = {
        "autoAcceptSharedAttachments": "disable",
        "defaultRouteTableAssociation": "disable",
        "defaultRouteTablePropagation": "disable",
    }
    assert run_resource_policy(network.tgw_segmentation, network.TRANSIT_GATEWAY, props) == []


def test_tgw_absent_defaults_fail() -> None:
    msgs = run_resource_policy(network.tgw_segmentation, network.TRANSIT_GATEWAY, {})
    assert len(msgs) == 2
    assert any("defaultRouteTableAssociation" in m for m in msgs)
    assert any("defaultRouteTablePropagation" in m for m in msgs)


def test_tgw_auto_accept_fails() -> None:
    props = {
        "autoAcceptSharedAttachments": "enable",
        "defaultRouteTableAssociation": "disable",
        "defaultRouteTablePropagation": "disable",
    }
    msgs = run_resource_policy(network.tgw_segmentation, network.TRANSIT_GATEWAY, props)
    assert len(msgs) == 1 and "autoAcceptSharedAttachments is 'enable'" in msgs[0]


# ob-nfw-protection --------------------------------------------------------------------------------

GOOD_FW = {
    "deleteProtection": True,
    "firewallPolicyChangeProtection": True,
    "subnetChangeProtection": True,
    "encryptionConfiguration": {"type": "CUSTOMER_KMS", "keyId": "arn:aws:kms:eu-west-2:1:key/k"},
}


def test_nfw_protection_passes() -> None:
    assert run_resource_policy(network.nfw_protection, network.FIREWALL, GOOD_FW) == []


def test_nfw_protection_defaults_fail() -> None:
    msgs = run_resource_policy(network.nfw_protection, network.FIREWALL, {})
    assert len(msgs) == 4
    assert any("deleteProtection is absent" in m for m in msgs)
    assert any("AWS_OWNED_KMS_KEY" in m for m in msgs)


def test_nfw_protection_unknown_key_is_set() -> None:
    props = {**GOOD_FW, "encryptionConfiguration": {"type": "CUSTOMER_KMS", "keyId": UNKNOWN_STRING_VALUE}}
    assert run_resource_policy(network.nfw_protection, network.FIREWALL, props) == []


def test_nfw_protection_list_shaped_block() -> None:
    props = {**GOOD_FW, "encryptionConfiguration": [{"type": "AWS_OWNED_KMS_KEY"}]}
    msgs = run_resource_policy(network.nfw_protection, network.FIREWALL, props)
    assert len(msgs) == 1 and "'AWS_OWNED_KMS_KEY'" in msgs[0]


# ob-nfw-policy ------------------------------------------------------------------------------------

GOOD_POLICY = {
    "firewallPolicy": {
        "statelessDefaultActions": ["aws:forward_to_sfe"],
        "statelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "statefulEngineOptions": {"ruleOrder": "STRICT_ORDER"},
        "statefulDefaultActions": ["aws:drop_established", "aws:alert_established"],
        "statefulRuleGroupReferences": [
            {"resourceArn": "arn:aws:network-firewall:eu-west-2:1:stateful-rulegroup/x", "priority": 100.0}
        ],
    }
}


def test_nfw_policy_passes() -> None:
    assert run_resource_policy(network.nfw_policy, network.FIREWALL_POLICY, GOOD_POLICY) == []


def test_nfw_policy_permissive_fails() -> None:
    props = {
        "firewallPolicy": {
            "statelessDefaultActions": ["aws:pass"],
            "statelessFragmentDefaultActions": ["aws:drop"],
            "statefulRuleGroupReferences": [],
        }
    }
    msgs = run_resource_policy(network.nfw_policy, network.FIREWALL_POLICY, props)
    assert any('statelessDefaultActions is ["aws:pass"]' in m for m in msgs)
    assert any("ruleOrder is absent" in m for m in msgs)
    assert any("statefulDefaultActions" in m for m in msgs)
    assert any("statefulRuleGroupReferences is empty" in m for m in msgs)
    assert len(msgs) == 4


def test_nfw_policy_unknown_group_arn_passes() -> None:
    fp = dict(GOOD_POLICY["firewallPolicy"])
    fp["statefulRuleGroupReferences"] = [{"resourceArn": UNKNOWN_STRING_VALUE, "priority": 1.0}]
    assert run_resource_policy(network.nfw_policy, network.FIREWALL_POLICY, {"firewallPolicy": fp}) == []


# ob-nfw-logging -----------------------------------------------------------------------------------


def _nfw_logging(*types: str) -> dict:
    return {
        "firewallArn": "arn:fw",
        "loggingConfiguration": {
            "logDestinationConfigs": [
                {"logType": t, "logDestinationType": "CloudWatchLogs", "logDestination": {"logGroup": "g"}}
                for t in types
            ]
        },
    }


def test_nfw_logging_alert_and_flow_pass() -> None:
    assert run_resource_policy(network.nfw_logging, network.NFW_LOGGING, _nfw_logging("ALERT", "FLOW")) == []


def test_nfw_logging_flow_only_fails() -> None:
    msgs = run_resource_policy(network.nfw_logging, network.NFW_LOGGING, _nfw_logging("FLOW"))
    assert len(msgs) == 1 and "missing ALERT" in msgs[0]


# ob-default-sg ------------------------------------------------------------------------------------


def test_default_sg_empty_passes() -> None:
    assert run_resource_policy(network.default_sg, network.DEFAULT_SG, {"vpcId": "vpc-1"}) == []
    assert run_resource_policy(network.default_sg, network.DEFAULT_SG, {"ingress": [], "egress": []}) == []


def test_default_sg_with_rules_fails() -> None:
    props = {"vpcId": "vpc-1", "egress": [_sg_rule("0.0.0.0/0", 0.0, "-1")]}
    msgs = run_resource_policy(network.default_sg, network.DEFAULT_SG, props)
    assert len(msgs) == 1 and msgs[0].startswith("egress has 1 rule")


# ob-squid-host ------------------------------------------------------------------------------------


def test_launch_template_imdsv2_passes() -> None:
    props = {
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1.0,
        }
    }
    assert run_resource_policy(network.squid_host, network.LAUNCH_TEMPLATE, props) == []


def test_launch_template_defaults_fail() -> None:
    msgs = run_resource_policy(network.squid_host, network.LAUNCH_TEMPLATE, {"imageId": "ami-1"})
    assert len(msgs) == 2
    assert any("httpTokens is absent" in m for m in msgs)


def test_launch_template_hop_limit_two_fails() -> None:
    props = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2.0}}
    msgs = run_resource_policy(network.squid_host, network.LAUNCH_TEMPLATE, props)
    assert msgs == ["metadataOptions.httpPutResponseHopLimit is 2; it must be 1 for hosts."]


def test_subnet_public_ip() -> None:
    assert run_resource_policy(network.squid_host, network.SUBNET, {"cidrBlock": "10.0.0.0/24"}) == []
    msgs = run_resource_policy(network.squid_host, network.SUBNET, {"mapPublicIpOnLaunch": True})
    assert len(msgs) == 1 and "mapPublicIpOnLaunch is true" in msgs[0]


def test_ebs_encryption_by_default() -> None:
    t = network.EBS_DEFAULT_ENCRYPTION
    assert run_resource_policy(network.squid_host, t, {}) == []
    assert run_resource_policy(network.squid_host, t, {"enabled": True}) == []
    assert len(run_resource_policy(network.squid_host, t, {"enabled": False})) == 1


def test_instance_imdsv2_passes() -> None:
    required = {"ami": "ami-1", "metadataOptions": {"httpTokens": "required"}}  # hop limit defaults to 1
    assert run_resource_policy(network.squid_host, network.EC2_INSTANCE, required) == []
    from_template = {"launchTemplate": {"id": "lt-1", "version": "$Latest"}}  # judged on the template
    assert run_resource_policy(network.squid_host, network.EC2_INSTANCE, from_template) == []


def test_instance_imdsv1_fails() -> None:
    msgs = run_resource_policy(network.squid_host, network.EC2_INSTANCE, {"ami": "ami-1"})
    assert msgs == ["metadataOptions.httpTokens is absent (IMDSv1 allowed); it must be 'required' (IMDSv2 only)."]
    optional = {"ami": "ami-1", "metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 3.0}}
    msgs = run_resource_policy(network.squid_host, network.EC2_INSTANCE, optional)
    assert len(msgs) == 2 and "httpTokens is 'optional'" in msgs[0] and "HopLimit is 3" in msgs[1]
