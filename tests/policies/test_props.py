"""Tests for the shared prop readers, reporting styles and stack links (_props, _links)."""

from __future__ import annotations

from typing import Any

import pytest
from openbanking_policies import compute
from openbanking_policies._links import linked
from openbanking_policies._props import PLAIN, TICKED, UNKNOWN, get, is_set, items, number
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from tests.policies._support import policy_resource, run_resource_policy


def proxied(props: dict[str, Any]) -> Any:
    return unknown_checking_proxy(props)


def collect(check: Any, *args: Any, **kwargs: Any) -> list[str]:
    messages: list[str] = []
    check(lambda msg, urn=None: messages.append(msg), *args, **kwargs)
    return messages


# reading ----------------------------------------------------------------------------------------------


def test_get_steps_into_one_element_lists_and_defaults() -> None:
    props = proxied({"a": [{"b": "x"}], "n": None, "l": ["p", "q"]})
    assert get(props, "a", "b") == "x"
    assert get(props, "missing") is None
    assert get(props, "n", default="d") == "d"
    assert get(props, "l", 1) == "q"
    assert get(props, "l", 5) is None


def test_get_is_unknown_below_an_unknown_value() -> None:
    props = proxied({"a": UNKNOWN_OBJECT_VALUE, "b": {"c": UNKNOWN_STRING_VALUE}})
    assert get(props, "a") is UNKNOWN
    assert get(props, "a", "deeper") is UNKNOWN
    assert get(props, "b", "c") is UNKNOWN
    assert get(UNKNOWN, "anything") is UNKNOWN


@pytest.mark.parametrize(("value", "expected"), [
    ("x", True), (UNKNOWN_STRING_VALUE, True), ("", False), ([], False), ({}, False), (None, False), (False, True),
])
def test_is_set(value: Any, expected: bool) -> None:
    assert is_set(proxied({"k": value}), "k") is expected


def test_items_keeps_unknown_elements() -> None:
    assert items(proxied({"l": ["a", UNKNOWN_STRING_VALUE]})["l"]) == ["a", UNKNOWN]
    assert items(None) == []
    assert items("one") == ["one"]


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7.0), ("7", 7.0), (True, True), ("abc", "abc"), (None, None), (UNKNOWN, UNKNOWN),
])
def test_number(value: Any, expected: Any) -> None:
    assert number(value) == expected
    assert type(number(value)) is type(expected)


# reporting --------------------------------------------------------------------------------------------


def test_the_two_message_styles() -> None:
    props = proxied({"s": "x"})
    assert collect(TICKED.require_true, props, "flag", default=False) == [
        "`flag` is not set (AWS default: false); it must be true"]
    assert collect(PLAIN.require_true, props, "flag") == ["flag is absent; it must be true."]
    assert collect(TICKED.require_true, props, "s", default=False) == ['`s` is "x"; it must be true']
    assert collect(PLAIN.require_true, props, "s") == ["s is 'x'; it must be true."]
    assert collect(TICKED.require_set, props, "t", why="; because") == ["`t` is not set; because"]
    assert collect(PLAIN.require_set, props, "t", why=" (because)") == ["t is absent; it must be set (because)."]


def test_require_checks_say_nothing_about_unknown_values() -> None:
    props = proxied({"u": UNKNOWN_STRING_VALUE, "o": UNKNOWN_OBJECT_VALUE})
    for style in (TICKED, PLAIN):
        assert collect(style.require_true, props, "u") == []
        assert collect(style.require_true, props, "o", "enabled") == []
        assert collect(style.require_set, props, "o", "arn") == []
        assert collect(style.require_cmk, props, "u") == []
        assert collect(style.require_equal, props, "u", expected="x") == []


def test_policy_document_reports_unreadable_json_and_skips_unknown_parts() -> None:
    messages: list[str] = []
    report = lambda msg, urn=None: messages.append(msg)  # noqa: E731
    assert TICKED.policy_document(report, proxied({"policy": "{not json"}), "policy") is None
    assert len(messages) == 1 and messages[0].startswith("`policy` could not be read: not valid JSON")
    partly_unknown = proxied({"policy": {"Statement": [{"Effect": UNKNOWN_STRING_VALUE}]}})
    assert TICKED.policy_document(report, partly_unknown, "policy") is None
    assert TICKED.policy_document(report, proxied({}), "policy") is None
    assert len(messages) == 1
    assert TICKED.policy_document(report, proxied({"policy": '{"Statement": []}'}), "policy") == {"Statement": []}


# links ------------------------------------------------------------------------------------------------


def test_linked_is_none_while_a_candidate_link_is_unknown() -> None:
    log = policy_resource("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-1"}, name="log")
    other = policy_resource("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-2"}, name="other")
    pending = policy_resource("aws:ec2/flowLog:FlowLog", {"vpcId": UNKNOWN_STRING_VALUE}, name="pending")
    assert linked([log, other], "vpcId", {"vpc-1"}) == [log]
    assert linked([other], "vpcId", {"vpc-1"}) == []
    assert linked([log, pending], "vpcId", {"vpc-1"}) is None


# a rule that used to read through an unknown element --------------------------------------------------


def test_ecr_unknown_encryption_configuration_is_not_a_violation() -> None:
    props = {
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [UNKNOWN_OBJECT_VALUE],
    }
    assert run_resource_policy(compute.ecr, compute.ECR_REPOSITORY, props) == []


def test_style_paths_show_list_indexes() -> None:
    assert TICKED.path("inlinePolicies", 1, "policy") == "`inlinePolicies[1].policy`"
    assert PLAIN.path("rules", 0) == "rules[0]"
