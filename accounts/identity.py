"""The identity provider account: the OAuth2/OIDC/FAPI authorization server in its own account [13],
in the `identity` segment (it reaches on-prem and egress)."""

from __future__ import annotations

from .spoke import SpokeAccount


class IdentityAccount(SpokeAccount):
    TYPE = "openbanking:account:Identity"
