"""The foundation section of the environment config: each rule, with the key path in the message."""

from __future__ import annotations

from typing import Any

import pytest

from environments.config import CONFIG_KEY, FoundationConfig
from environments.validation import load_environment
from tests.test_config import problems, stack_config

FND = f"{CONFIG_KEY}.foundation"
BREAK_GLASS = "arn:aws:iam::100000000003:role/LogAnalyticsBreakGlass"
SSO_ROLE = "arn:aws:iam::100000000002:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_LogAdmin_*"


def foundation() -> dict[str, Any]:
    return stack_config("foundation")


def test_the_foundation_stack_needs_its_section() -> None:
    raw = foundation()
    del raw["foundation"]
    assert problems(raw) == [f"{FND}: is required for the foundation stack (allowed regions, log retention, "
                             "OpenSearch)"]


def test_only_the_foundation_stack_configures_the_organization() -> None:
    raw = stack_config("dev")
    raw["foundation"] = foundation()["foundation"]
    assert problems(raw) == [f"{FND}: only the foundation stack configures the organization (this is a workload stack)"]


def test_allowed_regions_must_include_the_stacks_region() -> None:
    raw = foundation()
    raw["foundation"]["allowedRegions"] = ["eu-west-1"]
    assert problems(raw) == [f"{FND}.allowedRegions: ['eu-west-1'] does not include the stack's own region "
                             "'eu-west-2'; the region SCP would deny the landing zone itself"]


def test_allowed_regions_must_exist() -> None:
    raw = foundation()
    raw["foundation"]["allowedRegions"] = ["eu-west-2", "mars-north-1"]
    assert problems(raw) == [f"{FND}.allowedRegions[1]: 'mars-north-1' is not a known AWS region"]


def test_logs_cannot_expire_while_object_lock_retains_them() -> None:
    raw = foundation()
    raw["foundation"]["logArchive"]["expireAfterDays"] = 2000
    assert problems(raw) == [f"{FND}.logArchive.expireAfterDays: 2000 is shorter than objectLockDays (2557); "
                             "logs cannot expire while Object Lock still retains them"]


def test_glacier_comes_at_least_30_days_after_infrequent_access() -> None:
    raw = foundation()
    raw["foundation"]["logArchive"]["glacierAfterDays"] = 100
    assert problems(raw) == [f"{FND}.logArchive.glacierAfterDays: 100 must be at least 30 days after "
                             "infrequentAccessAfterDays (90); S3 keeps objects 30 days in infrequent access"]


def test_data_nodes_spread_evenly_over_the_zones() -> None:
    raw = foundation()
    raw["foundation"]["openSearch"]["instanceCount"] = 4
    assert problems(raw) == [f"{FND}.openSearch.instanceCount: 4 is not a multiple of availabilityZones (3); "
                             "zone awareness needs the same number of data nodes in every zone"]


def test_prod_log_analytics_needs_dedicated_masters() -> None:
    raw = foundation()
    del raw["foundation"]["openSearch"]["dedicatedMasterType"]
    assert problems(raw) == [f"{FND}.openSearch.dedicatedMasterType: is required in prod (dedicated master nodes)"]


def test_a_nonprod_foundation_may_run_a_single_node() -> None:
    raw = foundation()
    raw["stage"] = "nonprod"
    raw["foundation"]["openSearch"] = {"instanceCount": 1, "availabilityZones": 1,
                                       "administratorRoleArns": [BREAK_GLASS]}
    config = load_environment(raw)
    assert isinstance(config, FoundationConfig) and config.foundation.open_search.instance_count == 1


def test_account_creation_needs_a_valid_email() -> None:
    raw = foundation()
    raw["foundation"]["accountCreation"] = {"security": {"email": "not-an-email", "name": "Security"}}
    [problem] = problems(raw)
    assert problem.startswith(f"{FND}.accountCreation.security.email: 'not-an-email'")


def test_only_foundation_accounts_can_be_created() -> None:
    raw = foundation()
    raw["foundation"]["accountCreation"] = {"network": {"email": "net@example-bank.co.uk", "name": "Network"}}
    [problem] = problems(raw)
    assert problem.startswith(f"{FND}.accountCreation.network")


def test_the_log_analytics_domain_needs_named_administrators() -> None:
    raw = foundation()
    del raw["foundation"]["openSearch"]["administratorRoleArns"]
    assert problems(raw) == [f"{FND}.openSearch.administratorRoleArns: is required (the roles that may assume the "
                             "domain's master role: a break-glass or IAM Identity Center role, never a whole "
                             "account)"]
    raw["foundation"]["openSearch"]["administratorRoleArns"] = []
    [problem] = problems(raw)
    assert problem.startswith(f"{FND}.openSearch.administratorRoleArns: [] ") and "at least 1" in problem


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::100000000002:root",
    "100000000002",
    "arn:aws:iam::*:role/LogAnalyticsBreakGlass",
    "arn:aws:iam::100000000002:role/*",
    "arn:aws:iam::100000000002:role/LogAdmin*",
    "arn:aws:iam::100000000002:user/admin",
    "arn:aws:iam::10000000002:role/LogAnalyticsBreakGlass",
    "arn:aws:iam::100000000002:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*",
])
def test_an_administrator_is_one_named_role(arn: str) -> None:
    raw = foundation()
    raw["foundation"]["openSearch"]["administratorRoleArns"] = [BREAK_GLASS, arn]
    assert problems(raw) == [
        f"{FND}.openSearch.administratorRoleArns[1]: {arn!r} is not an IAM role ARN "
        "(arn:aws:iam::<12-digit account>:role/[<path>/]<name>, or an IAM Identity Center role "
        "arn:aws:iam::<12-digit account>:role/aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<permission "
        "set>_*)"]


def test_an_identity_center_role_may_end_with_the_wildcard_of_its_generated_suffix() -> None:
    raw = foundation()
    raw["foundation"]["openSearch"]["administratorRoleArns"] = [
        SSO_ROLE, "arn:aws:iam::100000000002:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_LogAdmin_0a1b2c3d4e5f6a7b",
        "arn:aws:iam::100000000003:role/break-glass/LogAnalyticsBreakGlass"]
    config = load_environment(raw)
    assert isinstance(config, FoundationConfig)
    assert config.foundation.open_search.administrator_role_arns[0] == SSO_ROLE


def test_the_log_replica_region_is_a_second_allowed_region() -> None:
    raw = foundation()
    raw["foundation"]["logArchive"]["replicaRegion"] = "eu-west-3"
    assert problems(raw) == [f"{FND}.logArchive.replicaRegion: 'eu-west-3' is not in foundation.allowedRegions "
                             "(['eu-west-2', 'eu-west-1']); the region SCP would deny the replica"]
    raw["foundation"]["logArchive"]["replicaRegion"] = "eu-west-2"
    assert problems(raw) == [f"{FND}.logArchive.replicaRegion: 'eu-west-2' is the stack's own region; the replica "
                             "must be in a second region to survive the loss of the first"]
    raw["foundation"]["logArchive"]["replicaRegion"] = "mars-north-1"
    assert problems(raw) == [f"{FND}.logArchive.replicaRegion: 'mars-north-1' is not a known AWS region"]


def test_prod_replicates_its_audit_logs_to_a_second_region() -> None:
    raw = foundation()
    del raw["foundation"]["logArchive"]["replicaRegion"]
    assert problems(raw) == [f"{FND}.logArchive.replicaRegion: is required in prod (the trail and Config logs "
                             "are replicated to a second region)"]
    raw["stage"] = "nonprod"
    config = load_environment(raw)
    assert isinstance(config, FoundationConfig) and config.foundation.log_archive.replica_region is None
