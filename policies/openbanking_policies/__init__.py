"""The open-banking CrossGuard rules, importable without starting a policy pack.

`policies/__main__.py` wraps :data:`ALL_POLICIES` in a `PolicyPack`; `lz` and the tests evaluate the
very same objects offline.
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from . import (
    api_edge,
    compute,
    data,
    delivery,
    detection,
    iam,
    keys_secrets,
    logs,
    messaging,
    network,
    resource_policies,
    stack_rules,
    storage,
    vpc_endpoints,
    workload_coverage,
)
from ._base import METADATA, PolicyMetadata

ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    *storage.POLICIES,
    *data.POLICIES,
    *keys_secrets.POLICIES,
    *detection.POLICIES,
    *messaging.POLICIES,
    *logs.POLICIES,
    *network.POLICIES,
    *api_edge.POLICIES,
    *compute.POLICIES,
    *iam.POLICIES,
    *resource_policies.POLICIES,
    *stack_rules.POLICIES,
    *workload_coverage.POLICIES,
    *delivery.POLICIES,
    *vpc_endpoints.POLICIES,
]

__all__ = ["ALL_POLICIES", "METADATA", "PolicyMetadata"]
