"""The identity provider account: the OAuth2/OIDC/FAPI authorization server in its own account [13]."""

from __future__ import annotations

from .base import Account


class IdentityAccount(Account):
    TYPE = "openbanking:account:Identity"
