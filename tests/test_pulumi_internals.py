"""One test per SDK internal lz relies on (lz/pulumi_internals.py), against the pinned `pulumi`.

When one of these fails after an SDK upgrade, the offline renderer would silently lose what that symbol
gave it (an option in the record, the program's exports, where a resource was created): fix the
module, then widen `SUPPORTED_PULUMI`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import pulumi_aws as aws
import pytest
from pulumi.runtime import resource as sdk_resource

from lz import pulumi_internals as internals
from lz.project import Program
from lz.render import render
from tests.conftest import ROOT

THIS_FILE = str(Path(__file__).resolve())


class CapturingMonitor(internals.MockMonitor):
    """Keeps every registration request, as lz's RecordingMonitor sees them."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request):
        self.requests[request.name] = request
        return super().RegisterResource(request)


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        return {}, []


def run_under_mocks(program: Callable[[], None]) -> CapturingMonitor:
    mocks = EchoMocks()
    monitor = CapturingMonitor(mocks)
    asyncio.set_event_loop(asyncio.new_event_loop())
    internals.detach_root_stack()  # another test's root stack would parent ours
    pulumi.runtime.set_mocks(mocks, project="internals", stack="test", preview=False, monitor=monitor)
    pulumi.runtime.test(program)()
    return monitor


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Holder", name, None, opts)
        self.register_outputs({})


def test_the_pinned_and_installed_sdk_are_in_the_verified_range() -> None:
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    internals.check_version(pins["pulumi"].split()[0])
    internals.check_version(version("pulumi"))
    low, high = internals.SUPPORTED_PULUMI
    assert internals.supported_range() == f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"


@pytest.mark.parametrize("outside", ["3.271.9", "3.273.0", "4.0.0"])
def test_an_sdk_outside_the_range_is_refused(outside: str) -> None:
    with pytest.raises(internals.UnsupportedSdk, match=f"pulumi {outside} is installed"):
        internals.check_version(outside)


def test_mock_monitor_serves_the_requests_lz_reads_and_set_mocks_takes_it() -> None:
    for method in ("RegisterResource", "ReadResource", "Invoke"):
        assert list(inspect.signature(getattr(internals.MockMonitor, method)).parameters) == ["self", "request"]
    assert "monitor" in inspect.signature(pulumi.runtime.set_mocks).parameters
    assert hasattr(internals.MockMonitor, "make_urn")


def test_request_facts_read_every_option_the_record_keeps() -> None:
    def program() -> None:
        provider = aws.Provider("p", region="eu-west-2")
        first = aws.sqs.Queue("first", opts=pulumi.ResourceOptions(provider=provider))
        aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(
            provider=provider, protect=True, retain_on_delete=True, ignore_changes=["tags"],
            delete_before_replace=True, additional_secret_outputs=["arn"], depends_on=[first],
            replace_on_changes=["name"]))
        Holder("holder", pulumi.ResourceOptions(providers={"aws": provider}))

    requests = run_under_mocks(program).requests
    facts = internals.request_facts(requests["queue"])
    assert facts.options == {
        "protect": True, "retainOnDelete": True, "ignoreChanges": ["tags"], "deleteBeforeReplace": True,
        "additionalSecretOutputs": ["arn"], "aliases": [],
        "dependsOn": ["urn:pulumi:test::internals::pulumi:pulumi:Stack$aws:sqs/queue:Queue::first"],
        "replaceOnChanges": ["name"]}
    assert facts.parent == "urn:pulumi:test::internals::pulumi:pulumi:Stack::internals-test"
    assert facts.source is not None and facts.source[0] == THIS_FILE
    assert internals.request_facts(requests["first"]).options == internals.no_options()
    holder = internals.request_facts(requests["holder"])
    assert holder.component_provider is not None and holder.component_provider.startswith(
        "urn:pulumi:test::internals::pulumi:pulumi:Stack$pulumi:providers:aws::p::")


def test_alias_urns_and_moves_from_another_parent_are_recorded_and_the_sdks_alias_specs_are_not() -> None:
    def program() -> None:
        provider = aws.Provider("p", region="eu-west-2")
        aws.s3.Bucket("bucket", opts=pulumi.ResourceOptions(provider=provider, aliases=[pulumi.Alias(name="old")]))
        holder = Holder("holder", pulumi.ResourceOptions(providers={"aws": provider}))
        aws.sqs.Queue("moved", opts=pulumi.ResourceOptions(provider=provider, aliases=[pulumi.Alias(parent=holder)]))

    requests = run_under_mocks(program).requests
    request = requests["bucket"]
    assert len(request.aliases) >= 2  # the program's alias and the SDK's own type aliases, as specs
    assert internals.request_facts(request).options["aliases"] == list(request.aliasURNs) == []
    assert internals.request_facts(requests["moved"]).options["aliases"] == [
        "parent=urn:pulumi:test::internals::pulumi:pulumi:Stack$test:index:Holder::holder"]


def test_source_positions_only_give_what_the_sdk_gives_first() -> None:
    pairs: list[tuple[Any, Any]] = []

    def both() -> Any:
        ours = internals._source_position_only()
        theirs = internals.SDK_STACK_TRACE()
        pairs.append((ours, theirs))
        return ours

    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = both
    try:
        def program() -> None:
            provider = aws.Provider("p", region="eu-west-2")
            aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(provider=provider))
            Holder("holder")

        run_under_mocks(program)
    finally:
        sdk_resource._get_stack_trace = original
    assert len(pairs) >= 3
    for ours, theirs in pairs:
        assert len(ours.frames) == 1
        assert (ours.frames[0].pc.uri, ours.frames[0].pc.line) == (theirs.frames[0].pc.uri, theirs.frames[0].pc.line)
    # the queue and the component point at the lines above (a provider, at its SDK's own constructor)
    assert sum(p.frames[0].pc.uri == Path(THIS_FILE).as_uri() for p, _ in pairs) >= 2


def test_capture_source_positions_only_replaces_the_sdks_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", internals.SDK_STACK_TRACE)
    internals.capture_source_positions_only()
    assert sdk_resource._get_stack_trace is internals._source_position_only


def test_detaching_the_root_stack_lets_run_in_stack_run_the_program_as_the_language_host(tmp_path: Path) -> None:
    """`pulumi.run` (an async entry point) only works in a stack that run_in_stack created."""
    (tmp_path / "Pulumi.yaml").write_text("name: async-program\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n\nasync def main():\n    return {'answer': 42}\n\npulumi.export('sync', 'yes')\npulumi.run(main)\n")
    assert render(Program.load(tmp_path), "dev").outputs == {"sync": "yes", "answer": 42}

    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(EchoMocks(), project="internals", stack="test", preview=False)
    assert pulumi.runtime.get_root_resource() is not None
    internals.detach_root_stack()
    assert pulumi.runtime.get_root_resource() is None


def test_stack_exports_are_the_root_stacks_outputs() -> None:
    roots: list[Any] = []

    def program() -> None:
        pulumi.export("greeting", "hello")
        roots.append(pulumi.runtime.get_root_resource())

    run_under_mocks(program)
    assert internals.stack_exports(roots[0]) == {"greeting": "hello"}
    assert internals.stack_exports(None) == {}
