"""The contract between the foundation stack and the stacks built on it: what the foundation exports.

One frozen dataclass whose fields are the export keys (camelCase of the field names). The foundation stack
builds it from its accounts and exports it (:meth:`FoundationExports.exports`); workload and sandbox stacks
read the same fields through a `StackReference` (:meth:`FoundationExports.read`), never by copying values
into config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic.alias_generators import to_camel

#: The `kind` export every stack has: a reference must name a foundation stack.
KIND_EXPORT = "kind"


@dataclass(frozen=True)
class FoundationExports:
    """The organization-wide facts an environment builds on."""

    #: The organization's id (`o-...`).
    organization_id: pulumi.Input[str]
    #: The organization root's id (`r-...`).
    organization_root_id: pulumi.Input[str]
    #: OU path (e.g. "Workloads/Prod") -> OU id.
    organizational_unit_ids: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    #: The log archive account's id.
    log_archive_account_id: pulumi.Input[str]
    #: The log archive key every log bucket is encrypted with (delivery services encrypt with it).
    log_archive_key_arn: pulumi.Input[str]
    #: The bucket every VPC flow log and Network Firewall log delivers to.
    flow_logs_bucket_name: pulumi.Input[str]
    #: ARN of the same flow-logs bucket.
    flow_logs_bucket_arn: pulumi.Input[str]
    #: The organization trail's bucket.
    trail_bucket_arn: pulumi.Input[str]
    #: Where every account's AWS Config recorder delivers.
    config_bucket_name: pulumi.Input[str]
    #: ARN of the same Config bucket.
    config_bucket_arn: pulumi.Input[str]
    #: The bucket WAF web ACLs log to (named `aws-waf-logs-...`, as WAF requires).
    waf_logs_bucket_arn: pulumi.Input[str]
    #: Load balancer and S3 access logs.
    access_logs_bucket_arn: pulumi.Input[str]
    #: The log archive's CloudWatch Logs destination for API Gateway access logs: a REST API stage's access log
    #: group subscribes to it (the organization's accounts may), Firehose writes the lines into the access-logs
    #: bucket under `api-gateway/`.
    api_access_log_destination_arn: pulumi.Input[str]
    #: The log archive's analytics key (OpenSearch, ingestion queues and buffers).
    log_analytics_key_arn: pulumi.Input[str]
    #: The organization CloudTrail.
    organization_trail_arn: pulumi.Input[str]
    #: The security account's id: delegated administrator of the detective services.
    security_account_id: pulumi.Input[str]
    #: HIGH and CRITICAL findings of the organization's detective services.
    security_findings_topic_arn: pulumi.Input[str]

    @staticmethod
    def keys() -> list[str]:
        """The export keys, in field order."""
        return [to_camel(f.name) for f in dataclasses.fields(FoundationExports)]

    def exports(self) -> dict[str, Any]:
        """Export key -> value, for the foundation stack's `pulumi.export`s."""
        return {to_camel(f.name): getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def read(cls, stack: str, parent: pulumi.Resource | None = None) -> FoundationExports:
        """The exports of the foundation stack `stack`. A stack of another kind fails every value with one
        message naming it, rather than with a missing-key error per export."""
        ref = pulumi.StackReference(stack, opts=pulumi.ResourceOptions(parent=parent))
        kind = ref.get_output(KIND_EXPORT)

        def checked(key: str) -> pulumi.Output[Any]:
            def check(args: list[Any]) -> Any:
                actual, value = args
                if actual != "foundation":
                    raise ValueError(f"foundationStack {stack!r} is a {actual or 'non-landing-zone'} stack, not the "
                                     "foundation stack: its outputs are not the foundation's")
                if value is None:
                    raise ValueError(f"foundationStack {stack!r} exports no {key!r}: update the foundation stack "
                                     "(pulumi up) before the stacks that build on it")
                return value
            return pulumi.Output.all(kind, ref.get_output(key)).apply(check)

        return cls(**{f.name: checked(to_camel(f.name)) for f in dataclasses.fields(cls)})
