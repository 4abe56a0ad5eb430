"""Properties of the shipped stacks, rendered offline through the real program and `lz`'s mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from lz import policy_gate
from lz.render import Rendering
from tests.conftest import STACKS, aws_resources, of_type

Render = Callable[[str], Rendering]

EXPECTED_ACCOUNTS = {
    "foundation": {"organization": "100000000001", "logArchive": "100000000002", "security": "100000000003"},
    "sandbox": {"network": "300000000001", "sandbox": "300000000002"},
    "dev": {"network": "200000000001", "identity": "200000000002", "api": "200000000003",
            "workload:ais": "200000000004", "workload:pis": "200000000005"},
    "prod": {"network": "400000000001", "identity": "400000000002", "api": "400000000003",
             "workload:ais": "400000000004", "workload:pis": "400000000005"},
}


SPOKE_LINK = "openbanking:network:SpokeLink"
#: Components that span two accounts, each resource with the provider of the account it changes (tested on
#: their own: test_spoke_links_..., tests/test_edge.py's acceptance test, tests/test_identity.py's links).
CROSS_ACCOUNT = (SPOKE_LINK, "openbanking:edge:EndpointAcceptance", "openbanking:identity:IdentityEntry",
                 "openbanking:identity:ConsentLinks")


def account_component_of(rendering: Rendering, resource: dict) -> dict | None:
    """The nearest `openbanking:account:*` ancestor of `resource` (not the baseline), or the nearest
    cross-account component (a `SpokeLink`, an `EndpointAcceptance`: each belongs to the environment)."""
    by_urn = {r["urn"]: r for r in rendering.resources}
    parent = by_urn.get(resource["parent"] or "")
    while parent is not None:
        if parent["type"] in CROSS_ACCOUNT or (parent["type"].startswith("openbanking:account:")
                                             and parent["type"] != "openbanking:account:AccountBaseline"):
            return parent
        parent = by_urn.get(parent["parent"] or "")
    return None


#: What each resource of a spoke link changes (the input naming it): it must live in that thing's account.
LINK_TARGETS = {
    "aws:ec2transitgateway/vpcAttachmentAccepter:VpcAttachmentAccepter": None,  # the hub accepts: see below
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": "transitGatewayRouteTableId",
    "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation": "transitGatewayRouteTableId",
    "aws:ec2transitgateway/route:Route": "transitGatewayRouteTableId",
    "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization": "zoneId",
    "aws:ec2/route:Route": "routeTableId",
    "aws:route53/zoneAssociation:ZoneAssociation": "vpcId",
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": "vpcId",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_account_of_the_stack_gets_resources_in_its_own_account_id(rendered: Render, stack: str) -> None:
    placed = {(r["account"], r["account_id"]) for r in aws_resources(rendered(stack))}
    assert placed == set(EXPECTED_ACCOUNTS[stack].items())


@pytest.mark.parametrize("stack", STACKS)
def test_no_aws_resource_uses_a_default_provider(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    providers = {r["urn"]: r for r in of_type(rendering, "pulumi:providers:aws")}
    for resource in aws_resources(rendering):
        assert resource["provider"] in providers, resource["urn"]
        assert "::default" not in resource["provider"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_lands_in_the_account_of_its_account_component(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    config_ids = EXPECTED_ACCOUNTS[stack]
    for resource in aws_resources(rendering):
        owner = account_component_of(rendering, resource)
        assert owner is not None, resource["urn"]
        if owner["type"] in CROSS_ACCOUNT:
            continue  # tested with each cross-account component
        assert resource["account"] == owner["account"]
        assert resource["account_id"] == config_ids[owner["account"]]


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_spoke_links_change_each_account_with_its_own_provider(rendered: Render, stack: str) -> None:
    """A link's resources span the hub and the spoke: each is created in the account that owns what it
    changes (the hub's route tables and proxy zone, the spoke's route table and VPC)."""
    rendering = rendered(stack)
    # an accepter's id is the attachment's: the attachment (created first) owns the id
    owners = {r["id"]: r for r in reversed(aws_resources(rendering))}
    owners |= {r["outputs"]["zoneId"]: r for r in of_type(rendering, "aws:route53/zone:Zone")}
    links = [r for r in aws_resources(rendering) if (account_component_of(rendering, r) or {}).get("type") == SPOKE_LINK]
    # the sandbox has no data centre, so no Resolver rules to associate
    expected = set(LINK_TARGETS) - ({"aws:route53/resolverRuleAssociation:ResolverRuleAssociation"}
                                    if stack == "sandbox" else set())
    assert {r["type"] for r in links} == expected
    for resource in links:
        target = LINK_TARGETS[resource["type"]]
        if target is None:  # the accepter: in the TGW's account, accepting another account's attachment
            attachment = owners[resource["inputs"]["transitGatewayAttachmentId"]]
            assert resource["account"] == "network" != attachment["account"], resource["urn"]
            continue
        changed = owners[resource["inputs"][target]]
        assert (resource["account"], resource["account_id"]) == (changed["account"], changed["account_id"]), \
            resource["urn"]
    spokes = {r["account"] for r in links} - {"network"}
    assert spokes == set(EXPECTED_ACCOUNTS[stack]) - {"network"}


#: Providers in another region than the stack's: the log archive's in the replica region (Pulumi.foundation.yaml).
SECOND_REGION_PROVIDERS = {"foundation": {"aws-logArchive-eu-west-1": "eu-west-1"}}


@pytest.mark.parametrize("stack", STACKS)
def test_providers_assume_the_deploy_role_in_their_own_account_only(rendered: Render, stack: str) -> None:
    providers = of_type(rendered(stack), "pulumi:providers:aws")
    for provider in providers:
        inputs = provider["inputs"]
        allowed = json.loads(inputs["allowedAccountIds"])
        [assume] = json.loads(inputs["assumeRoles"])
        assert allowed == [provider["account_id"]]
        assert assume["roleArn"] == f"arn:aws:iam::{provider['account_id']}:role/OpenBankingLandingZoneDeployer"
        assert inputs["region"] == SECOND_REGION_PROVIDERS.get(stack, {}).get(provider["name"], "eu-west-2")
    assert {p["name"] for p in providers} >= set(SECOND_REGION_PROVIDERS.get(stack, {}))


@pytest.mark.parametrize("stack", STACKS)
def test_providers_stamp_the_governance_tags(rendered: Render, stack: str) -> None:
    for provider in of_type(rendered(stack), "pulumi:providers:aws"):
        tags = json.loads(provider["inputs"]["defaultTags"])["tags"]
        assert tags["Environment"] == stack
        assert tags["AccountRole"] == provider["account"]
        assert {"Owner", "CostCentre", "DataClassification"} <= set(tags)
        assert all(tags.values())


@pytest.mark.parametrize("stack", STACKS)
def test_every_account_blocks_public_s3_at_account_level(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    account_blocks = of_type(rendering, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    blocks = {r["account_id"]: r["inputs"] for r in account_blocks}
    assert set(blocks) == set(EXPECTED_ACCOUNTS[stack].values())
    for account_id, inputs in blocks.items():
        assert inputs["accountId"] == account_id
        assert all(inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                               "restrictPublicBuckets"))


@pytest.mark.parametrize("stack", STACKS)
def test_ebs_is_encrypted_by_default_with_a_key_of_the_same_account(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    keys = {r["outputs"]["arn"]: r for r in of_type(rendering, "aws:kms/key:Key")}
    defaults = of_type(rendering, "aws:ebs/defaultKmsKey:DefaultKmsKey")
    enabled = {r["account_id"] for r in of_type(rendering, "aws:ebs/encryptionByDefault:EncryptionByDefault")
               if r["inputs"]["enabled"] is True}
    assert enabled == set(EXPECTED_ACCOUNTS[stack].values())
    assert len(defaults) == len(enabled)
    for default in defaults:
        key = keys[default["inputs"]["keyArn"]]
        assert key["account_id"] == default["account_id"]


@pytest.mark.parametrize("stack", STACKS)
def test_kms_keys_rotate_and_wait_30_days_before_deletion(rendered: Render, stack: str) -> None:
    keys = of_type(rendered(stack), "aws:kms/key:Key")
    assert keys
    for key in keys:
        assert key["inputs"]["deletionWindowInDays"] >= 30
        if key["inputs"].get("keyUsage") == "SIGN_VERIFY":  # KMS rotates symmetric keys only
            # RSA: the ASPSP's PS256 signing keys; ECC_NIST_P256: Route 53's DNSSEC key-signing key
            assert key["inputs"]["customerMasterKeySpec"] in ("RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256")
            assert not key["inputs"]["enableKeyRotation"]
        else:
            assert key["inputs"]["enableKeyRotation"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_no_key_policy_grants_to_everyone(rendered: Render, stack: str) -> None:
    for key in of_type(rendered(stack), "aws:kms/key:Key"):
        for statement in json.loads(key["inputs"]["policy"])["Statement"]:
            principal = statement["Principal"]
            assert principal != "*" and principal.get("AWS") != "*", key["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_password_policy_meets_cis(rendered: Render, stack: str) -> None:
    for policy in of_type(rendered(stack), "aws:iam/accountPasswordPolicy:AccountPasswordPolicy"):
        inputs = policy["inputs"]
        assert inputs["minimumPasswordLength"] >= 14
        assert inputs["passwordReusePrevention"] >= 24
        assert all(inputs[k] for k in ("requireLowercaseCharacters", "requireUppercaseCharacters",
                                       "requireNumbers", "requireSymbols"))


@pytest.mark.parametrize("stack", STACKS)
def test_each_account_has_an_access_analyzer(rendered: Render, stack: str) -> None:
    analyzers = of_type(rendered(stack), "aws:accessanalyzer/analyzer:Analyzer")
    account_scoped = [a for a in analyzers if a["inputs"]["type"] == "ACCOUNT"]
    assert sorted(a["account_id"] for a in account_scoped) == sorted(EXPECTED_ACCOUNTS[stack].values())
    # Beyond the baselines, only the security account runs the organization-wide analyzer.
    assert [(a["account"], a["inputs"]["type"]) for a in analyzers if a not in account_scoped] == (
        [("security", "ORGANIZATION")] if stack == "foundation" else [])


def test_prod_protects_stateful_resources(rendered: Render) -> None:
    keys = of_type(rendered("prod"), "aws:kms/key:Key")
    assert keys and all(k["options"]["protect"] and k["options"]["retainOnDelete"] for k in keys)


def test_dev_does_not_protect_so_it_can_be_torn_down(rendered: Render) -> None:
    assert not any(k["options"]["protect"] for k in of_type(rendered("dev"), "aws:kms/key:Key"))


def home_region(resources: list[dict]) -> list[dict]:
    """The foundation's resources in its own region (the log replica in the second region has its own tests:
    tests/test_log_replication.py)."""
    return [r for r in resources if r["region"] == "eu-west-2"]


def test_foundation_log_buckets_are_encrypted_with_the_log_archive_key(rendered: Render) -> None:
    rendering = rendered("foundation")
    buckets = {b["outputs"]["bucket"]: b for b in home_region(of_type(rendering, "aws:s3/bucket:Bucket"))}
    sse = home_region(of_type(
        rendering, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"))
    log_key = next(k for k in of_type(rendering, "aws:kms/key:Key") if k["name"].endswith("-log-key"))
    assert len(buckets) == 6 and {s["inputs"]["bucket"] for s in sse} == set(buckets)
    for config in sse:
        bucket = buckets[config["inputs"]["bucket"]]
        default = config["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
        assert bucket["account"] == "logArchive" and bucket["options"]["protect"]
        assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": log_key["outputs"]["arn"]}


def test_foundation_log_buckets_only_admit_the_organization_over_tls(rendered: Render) -> None:
    policies = home_region(of_type(rendered("foundation"), "aws:s3/bucketPolicy:BucketPolicy"))
    assert len(policies) == 6
    for policy in policies:
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        deny = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # The S3 server access log bucket admits only the log archive's own buckets; the rest the organization.
        expected = ({"StringEquals": {"aws:SourceAccount": "100000000002"}} if "-s3-access-" in policy["inputs"]["bucket"]
                    else {"StringEquals": {"aws:SourceOrgID": "o-exampl3bank1"}})
        for allow in (s for s in statements if s["Effect"] == "Allow"):
            assert allow["Condition"] == expected


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_workload_stacks_read_the_log_archive_from_the_foundation_stack(rendered: Render, stack: str) -> None:
    rendering, foundation = rendered(stack), rendered("foundation")
    [reference] = of_type(rendering, "pulumi:pulumi:StackReference")
    assert reference["name"] == "example-bank/open-banking-landing-zone/foundation"
    assert rendering.references == ["foundation"]
    assert rendering.outputs["logDestinationBucketArn"] == foundation.outputs["flowLogsBucketArn"]
    assert rendering.outputs["logDestinationKeyArn"] == foundation.outputs["logArchiveKeyArn"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_value_flowing_between_resources_is_known(rendered: Render, stack: str) -> None:
    text = json.dumps([r["inputs"] for r in rendered(stack).resources])
    assert UNKNOWN_STRING_VALUE not in text
    assert not [leaf for leaf in string_leaves([r["inputs"] for r in rendered(stack).resources])
                if re.search(r"(^|[^A-Za-z])None($|[^A-Za-z])", leaf)], "a Python None was formatted into a value"


def string_leaves(value: object) -> Iterator[str]:
    """Every string in a structure, and in the JSON documents strings hold (WAF rules, policies, definitions);
    a spec's enum values are the spec's (OBIE's `"None"` authorisation type), not the program's, in a JSON document
    as in the developer portal's pages (which show them in a `span.enum`)."""
    if isinstance(value, str) and value.startswith("<!DOCTYPE html>"):
        yield re.sub(r'<span class="enum">.*?</span>', "", value)
    elif isinstance(value, str):
        try:
            document = json.loads(value)
        except ValueError:
            yield value
            return
        if isinstance(document, (dict, list)):
            yield from string_leaves(document)
        else:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "enum":
                yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stack_has_no_mandatory_policy_violation(rendered: Render, stack: str) -> None:
    rendering = rendered(stack)
    violations = policy_gate.check(rendering)
    assert [v for v in violations if v["level"] == "mandatory"] == []


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_resources_moved_into_the_link_components_keep_their_old_parent_as_an_alias(rendered: Render,
                                                                                     stack: str) -> None:
    """A stack deployed before SpokeLink and SegmentAttachment existed keeps its routes, associations and
    accepters: each moved resource names the parent it had then, which is still in the stack."""
    rendering = rendered(stack)
    urns = {r["urn"] for r in rendering.resources}
    links = {r["urn"] for r in rendering.resources if r["type"] in (SPOKE_LINK, "openbanking:network:SegmentAttachment")}
    moved = [r for r in aws_resources(rendering) if r["parent"] in links]
    assert moved
    for resource in moved:
        [alias] = resource["options"]["aliases"]
        old_parent = alias.removeprefix("parent=")
        assert alias.startswith("parent=") and old_parent in urns and old_parent not in links, resource["urn"]
