"""The offline evaluator `lz` uses on recorded resources."""

from __future__ import annotations

from typing import Any

from openbanking_policies import logs, messaging, storage
from openbanking_policies.offline import Violation, evaluate
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

PROJECT, STACK = "lz", "dev"
TAGS = {"env": "dev"}
KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{typ}::{name}"


PROVIDER_URN = urn("pulumi:providers:aws", "workloads")


def rec(typ: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None, *,
        custom: bool = True, parent: str | None = None, account: str | None = "workloads",
        provider: str | None = PROVIDER_URN, protect: bool = False) -> dict[str, Any]:
    return {"urn": urn(typ, name), "type": typ, "name": name, "parent": parent, "custom": custom,
            "provider": provider, "account": account, "account_id": "222222222222", "region": "eu-west-2",
            "inputs": inputs, "outputs": outputs if outputs is not None else dict(inputs),
            "options": {"protect": protect, "retainOnDelete": False, "ignoreChanges": [],
                        "deleteBeforeReplace": False, "additionalSecretOutputs": [], "aliases": []}}


PROVIDER = rec("pulumi:providers:aws", "workloads", {"region": "eu-west-2"}, provider=None)
COMPONENT = rec("lz:index:Workload", "payments", {}, custom=False)
GOOD_QUEUE = rec(messaging.QUEUE, "good", {"kmsMasterKeyId": KEY}, parent=COMPONENT["urn"])
BAD_QUEUE = rec(messaging.QUEUE, "bad", {"name": "bad"}, parent=COMPONENT["urn"])
RESOURCES = [PROVIDER, COMPONENT, GOOD_QUEUE, BAD_QUEUE]


def test_reports_violations_with_account_level_and_remediation():
    found = evaluate(RESOURCES, stack_tags=TAGS, policies=[messaging.msg_cmk])
    assert len(found) == 1
    v = found[0]
    assert isinstance(v, Violation)
    assert (v.policy, v.severity, v.level) == ("ob-msg-cmk", "high", "mandatory")
    assert (v.urn, v.name, v.type, v.account) == (BAD_QUEUE["urn"], "bad", messaging.QUEUE, "workloads")
    assert "`kmsMasterKeyId` is not set" in v.message
    assert "kms_master_key_id" in v.remediation
    assert v.to_json()["account"] == "workloads" and set(v.to_json()) >= {"policy", "message", "level"}


def test_default_policies_are_the_whole_pack():
    found = evaluate(RESOURCES, stack_tags=TAGS)
    assert any(v.policy == "ob-msg-cmk" and v.name == "bad" for v in found)
    assert not any(v.name == "good" and v.policy == "ob-msg-cmk" for v in found)


def test_levels_advisory_and_disabled():
    found = evaluate(RESOURCES, stack_tags=TAGS, policies=[messaging.msg_cmk],
                     levels={"ob-msg-cmk": EnforcementLevel.ADVISORY})
    assert [v.level for v in found] == ["advisory"]
    assert evaluate(RESOURCES, stack_tags=TAGS, policies=[messaging.msg_cmk],
                    levels={"ob-msg-cmk": EnforcementLevel.DISABLED}) == []
    found = evaluate(RESOURCES, stack_tags=TAGS, policies=[messaging.msg_cmk],
                     levels={"ob-msg-cmk": EnforcementLevel.REMEDIATE})
    assert [v.level for v in found] == ["mandatory"]


def test_config_defaults_and_overrides_reach_the_policy():
    group = rec(logs.LOG_GROUP, "app", {"kmsKeyId": KEY, "retentionInDays": 90.0})
    found = evaluate([PROVIDER, group], stack_tags=TAGS, policies=[logs.logs])
    assert len(found) == 1 and "at least 365" in found[0].message
    assert evaluate([PROVIDER, group], stack_tags=TAGS, policies=[logs.logs],
                    config={"ob-logs": {"minRetentionDays": 30}}) == []


def test_unknown_values_are_not_violations():
    queue = rec(messaging.QUEUE, "preview", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE})
    policy_doc = rec(storage.BUCKET_POLICY, "bp", {"bucket": "b", "policy": UNKNOWN_STRING_VALUE})
    assert evaluate([PROVIDER, queue, policy_doc], stack_tags=TAGS,
                    policies=[messaging.msg_cmk, storage.s3_tls_only]) == []


def _raw_policy(name: str, fn) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(name=name, description="test policy", validate=fn)


def test_crashing_and_unknown_reading_policies():
    def crash(args, report):
        if args.resource_type == messaging.QUEUE:
            raise KeyError("boom")

    def reads_unknown(args, report):
        if args.resource_type != messaging.QUEUE:
            return
        _ = args.props["kmsMasterKeyId"]
        report("should not get here")

    queue = rec(messaging.QUEUE, "preview", {"kmsMasterKeyId": UNKNOWN_STRING_VALUE})
    found = evaluate([PROVIDER, queue], stack_tags=TAGS,
                     policies=[_raw_policy("t-crash", crash), _raw_policy("t-unknown", reads_unknown)])
    assert len(found) == 1
    assert found[0].policy == "t-crash" and found[0].message.startswith("policy crashed: KeyError")
    assert found[0].urn == queue["urn"]


def test_resource_policies_see_inputs_options_provider_config_and_tags():
    seen: list[Any] = []

    def spy(args, report):
        seen.append(args)

    protected = rec(messaging.TOPIC, "t", {"name": "in"}, {"name": "out", "arn": "arn:t"}, protect=True)
    evaluate([PROVIDER, COMPONENT, protected], stack_tags=TAGS, policies=[_raw_policy("t-spy", spy)])
    types = [a.resource_type for a in seen]
    assert "lz:index:Workload" not in types  # components are skipped
    args = next(a for a in seen if a.resource_type == messaging.TOPIC)
    assert args.props["name"] == "in"
    assert args.opts.protect is True
    assert args.provider.urn == PROVIDER_URN and args.provider.props["region"] == "eu-west-2"
    assert args.stack_tags == TAGS
    assert args.get_config() == {}


def test_stack_policy_runs_on_outputs_with_parents_and_providers():
    seen: dict[str, Any] = {}

    def check(args: StackValidationArgs, report):
        for r in args.resources:
            seen[r.name] = r
            if r.resource_type == messaging.QUEUE and "kmsMasterKeyId" not in list(r.props):
                report(f"queue {r.name} unencrypted in state", r.urn)
        report("stack-wide finding")

    policy = StackValidationPolicy(name="t-stack", description="test", validate=check)
    bad_state = dict(BAD_QUEUE, outputs={"arn": "arn:q", "name": "bad"})
    found = evaluate([PROVIDER, COMPONENT, GOOD_QUEUE, bad_state], stack_tags=TAGS, policies=[policy],
                     levels={"t-stack": EnforcementLevel.ADVISORY})
    assert "payments" not in seen  # component skipped
    assert seen["bad"].props["arn"] == "arn:q"
    assert seen["good"].provider is not None and seen["good"].provider.urn == PROVIDER_URN
    assert seen["good"].parent is None  # the parent is a component, not a custom resource
    by_msg = {v.message: v for v in found}
    assert by_msg["queue bad unencrypted in state"].urn == BAD_QUEUE["urn"]
    assert by_msg["queue bad unencrypted in state"].account == "workloads"
    stack_v = by_msg["stack-wide finding"]
    assert stack_v.urn == f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
    assert stack_v.type == "pulumi:pulumi:Stack" and stack_v.account is None
    assert {v.level for v in found} == {"advisory"}


def test_stack_policy_parent_links_and_crash():
    parent = rec(storage.BUCKET, "logs", {"bucket": "logs"})
    child = rec(storage.BUCKET_PAB, "logs-pab", {"bucket": "logs"}, parent=parent["urn"])
    parents: dict[str, Any] = {}

    def check(args, report):
        for r in args.resources:
            parents[r.name] = r.parent.name if r.parent else None
        raise RuntimeError("bad state")

    found = evaluate([PROVIDER, parent, child], stack_tags=TAGS,
                     policies=[StackValidationPolicy(name="t-links", description="d", validate=check)])
    assert parents == {"workloads": None, "logs": None, "logs-pab": "logs"}
    assert len(found) == 1 and found[0].message == "policy crashed: RuntimeError: bad state"
