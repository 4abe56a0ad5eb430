"""The developer sandbox account for third parties: the services in sandbox mode, routed to nothing but egress [14]."""

from __future__ import annotations

from .base import Account


class SandboxAccount(Account):
    TYPE = "openbanking:account:Sandbox"
