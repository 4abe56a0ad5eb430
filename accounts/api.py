"""The API account: mTLS API Gateway domains, WAF, Shield, CloudFront, Route 53, and PrivateLink into
the workload accounts [5]-[9]."""

from __future__ import annotations

from .base import Account


class ApiAccount(Account):
    TYPE = "openbanking:account:Api"
