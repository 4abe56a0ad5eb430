"""The network hub account: Transit Gateway shared by RAM, Direct Connect and VPN, egress VPC with the
Squid proxy, Network Firewall [2][3][4]."""

from __future__ import annotations

from .base import Account


class NetworkHubAccount(Account):
    TYPE = "openbanking:account:NetworkHub"
