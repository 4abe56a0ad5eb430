"""Who a workload's security group lets it talk to: one egress rule per peer, named, and nothing else.

A workload's group starts with no egress at all (AWS's default allow-all rule is not kept); each
:class:`Egress` adds one rule to a CIDR, a managed prefix list (the S3 and DynamoDB gateway endpoints) or
another security group (a database, a cache, a broker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Egress:
    """One peer a workload may open connections to, on one TCP port."""

    #: What the peer is, for people reading the rule ("Aurora PostgreSQL", "AWS API endpoints").
    description: str
    #: The peer's TCP port (the first of a range when `to_port` is set).
    port: int
    #: Exactly one of: a CIDR, a managed prefix list id (pl-...), a security group id.
    cidr: pulumi.Input[str] | None = None
    #: A managed prefix list id (pl-...), e.g. a gateway endpoint's.
    prefix_list_id: pulumi.Input[str] | None = None
    #: Another security group, e.g. the endpoints a connection created.
    security_group_id: pulumi.Input[str] | None = None
    #: The last port of a range (e.g. MSK multi-VPC connectivity's 14001-14100); None for one port.
    to_port: int | None = None

    def __post_init__(self) -> None:
        targets = [t for t in (self.cidr, self.prefix_list_id, self.security_group_id) if t is not None]
        if len(targets) != 1:
            raise ValueError(f"egress {self.description!r}: give exactly one of cidr, prefix_list_id, security_group_id")


def workload_security_group(name: str, *, vpc_id: pulumi.Input[str], description: str,
                            egress: Sequence[Egress], parent: pulumi.Resource) -> aws.ec2.SecurityGroup:
    """A security group whose only egress is `egress` (no ingress: callers add the rules that admit peers)."""
    group = aws.ec2.SecurityGroup(name, vpc_id=vpc_id, description=description, tags={"Name": name},
                                  opts=pulumi.ResourceOptions(parent=parent))
    for i, rule in enumerate(egress):
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-{i}",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=rule.port,
            to_port=rule.to_port or rule.port,
            cidr_ipv4=rule.cidr,
            prefix_list_id=rule.prefix_list_id,
            referenced_security_group_id=rule.security_group_id,
            description=rule.description,
            opts=pulumi.ResourceOptions(parent=group),
        )
    return group


def admit(name: str, *, group_id: pulumi.Input[str], port: int, from_group_id: pulumi.Input[str], description: str,
          parent: pulumi.Resource) -> aws.vpc.SecurityGroupIngressRule:
    """Let the members of `from_group_id` reach `group_id` on `port` (a data store admitting one workload)."""
    return aws.vpc.SecurityGroupIngressRule(
        name, security_group_id=group_id, ip_protocol="tcp", from_port=port, to_port=port,
        referenced_security_group_id=from_group_id, description=description,
        opts=pulumi.ResourceOptions(parent=parent))
