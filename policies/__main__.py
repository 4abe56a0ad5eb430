"""The open-banking CrossGuard pack: `pulumi preview --policy-pack policies/`."""

from openbanking_policies import ALL_POLICIES
from pulumi_policy import EnforcementLevel, Policy, PolicyPack

policies: list[Policy] = list(ALL_POLICIES)
PolicyPack(name="open-banking-aws", policies=policies, enforcement_level=EnforcementLevel.MANDATORY)
