"""The developer sandbox account for third parties: the services in sandbox mode, routed to nothing but
egress [14] (the `sandbox` segment blackholes everything else)."""

from __future__ import annotations

from .spoke import SpokeAccount


class SandboxAccount(SpokeAccount):
    TYPE = "openbanking:account:Sandbox"
