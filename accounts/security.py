"""The security (audit) account: delegated admin for GuardDuty, Security Hub and Config [15]."""

from __future__ import annotations

from .base import Account


class SecurityAccount(Account):
    TYPE = "openbanking:account:Security"
