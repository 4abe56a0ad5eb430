"""The API account: mTLS API Gateway domains, WAF, Shield, CloudFront, Route 53, and PrivateLink into
the workload accounts [5]-[9]. Its spoke VPC is in the `edge` segment: it reaches the workloads only
through PrivateLink, never through the Transit Gateway."""

from __future__ import annotations

from .spoke import SpokeAccount


class ApiAccount(SpokeAccount):
    TYPE = "openbanking:account:Api"
