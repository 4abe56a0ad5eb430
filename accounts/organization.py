"""The management account of the AWS Organization (reference architecture [16], [17])."""

from __future__ import annotations

from .base import Account


class OrganizationAccount(Account):
    """Holds the organization's baseline now; OUs, SCPs and the organization trail build on it."""

    TYPE = "openbanking:account:Organization"
