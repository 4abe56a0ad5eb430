"""Account-access consent permissions (v3.1.11): which combinations a TPP may ask for, and what a set of
granted permissions lets it read.

Rules (account-access-consents, "Consent Re-authentication"/"Permissions"):
- the list is not empty and every code is one this ASPSP supports;
- it includes `ReadAccountsBasic` or `ReadAccountsDetail`;
- `ReadTransactionsBasic`/`Detail` need `ReadTransactionsCredits` or `Debits`, and the other way round;
- Detail implies Basic; duplicates are not an error.
Each violation is a 400 naming the permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from openbanking.common.errors import ErrorCode, OBIEError, bad_request


class Permission(StrEnum):
    READ_ACCOUNTS_BASIC = "ReadAccountsBasic"
    READ_ACCOUNTS_DETAIL = "ReadAccountsDetail"
    READ_BALANCES = "ReadBalances"
    READ_BENEFICIARIES_BASIC = "ReadBeneficiariesBasic"
    READ_BENEFICIARIES_DETAIL = "ReadBeneficiariesDetail"
    READ_DIRECT_DEBITS = "ReadDirectDebits"
    READ_OFFERS = "ReadOffers"
    READ_PAN = "ReadPAN"
    READ_PARTY = "ReadParty"
    READ_PARTY_PSU = "ReadPartyPSU"
    READ_PRODUCTS = "ReadProducts"
    READ_SCHEDULED_PAYMENTS_BASIC = "ReadScheduledPaymentsBasic"
    READ_SCHEDULED_PAYMENTS_DETAIL = "ReadScheduledPaymentsDetail"
    READ_STANDING_ORDERS_BASIC = "ReadStandingOrdersBasic"
    READ_STANDING_ORDERS_DETAIL = "ReadStandingOrdersDetail"
    READ_STATEMENTS_BASIC = "ReadStatementsBasic"
    READ_STATEMENTS_DETAIL = "ReadStatementsDetail"
    READ_TRANSACTIONS_BASIC = "ReadTransactionsBasic"
    READ_TRANSACTIONS_CREDITS = "ReadTransactionsCredits"
    READ_TRANSACTIONS_DEBITS = "ReadTransactionsDebits"
    READ_TRANSACTIONS_DETAIL = "ReadTransactionsDetail"


P = Permission

#: What this ASPSP serves. Offers, scheduled payments and statements are not offered (their endpoints
#: are not implemented), so consents asking for them are refused rather than silently narrowed.
SUPPORTED: frozenset[Permission] = frozenset(set(P) - {
    P.READ_OFFERS, P.READ_SCHEDULED_PAYMENTS_BASIC, P.READ_SCHEDULED_PAYMENTS_DETAIL,
    P.READ_STATEMENTS_BASIC, P.READ_STATEMENTS_DETAIL})

_PATH = "Data.Permissions"


def validate_permissions(requested: Iterable[str]) -> list[Permission]:
    """The requested permissions, de-duplicated in request order; raises a 400 `OBIEError` if refused."""
    codes = list(dict.fromkeys(requested))
    if not codes:
        raise bad_request(ErrorCode.FIELD_MISSING, "Permissions must list at least one permission", _PATH)
    granted: list[Permission] = []
    for code in codes:
        try:
            permission = Permission(code)
        except ValueError:
            raise bad_request(ErrorCode.FIELD_INVALID, f"'{code}' is not a permission code", _PATH) from None
        if permission not in SUPPORTED:
            raise bad_request(ErrorCode.FIELD_INVALID, f"{code} is not supported by this ASPSP", _PATH)
        granted.append(permission)
    present = set(granted)
    if not present & {P.READ_ACCOUNTS_BASIC, P.READ_ACCOUNTS_DETAIL}:
        raise bad_request(ErrorCode.FIELD_INVALID,
                          "Permissions must include ReadAccountsBasic or ReadAccountsDetail", _PATH)
    level = present & {P.READ_TRANSACTIONS_BASIC, P.READ_TRANSACTIONS_DETAIL}
    direction = present & {P.READ_TRANSACTIONS_CREDITS, P.READ_TRANSACTIONS_DEBITS}
    if level and not direction:
        raise bad_request(ErrorCode.FIELD_INVALID, f"{sorted(level)[0]} needs ReadTransactionsCredits or "
                          "ReadTransactionsDebits", _PATH)
    if direction and not level:
        raise bad_request(ErrorCode.FIELD_INVALID, f"{sorted(direction)[0]} needs ReadTransactionsBasic or "
                          "ReadTransactionsDetail", _PATH)
    return granted


@dataclass(frozen=True)
class Grants:
    """What a consent's permissions let the TPP read (Detail implies Basic)."""

    permissions: frozenset[Permission]

    @classmethod
    def of(cls, codes: Iterable[str]) -> Grants:
        return cls(frozenset(Permission(c) for c in codes if c in Permission._value2member_map_))

    def _any(self, *wanted: Permission) -> bool:
        return any(p in self.permissions for p in wanted)

    accounts_detail = property(lambda self: self._any(P.READ_ACCOUNTS_DETAIL))
    beneficiaries = property(lambda self: self._any(P.READ_BENEFICIARIES_BASIC, P.READ_BENEFICIARIES_DETAIL))
    beneficiaries_detail = property(lambda self: self._any(P.READ_BENEFICIARIES_DETAIL))
    standing_orders = property(lambda self: self._any(P.READ_STANDING_ORDERS_BASIC, P.READ_STANDING_ORDERS_DETAIL))
    standing_orders_detail = property(lambda self: self._any(P.READ_STANDING_ORDERS_DETAIL))
    transactions = property(lambda self: self._any(P.READ_TRANSACTIONS_BASIC, P.READ_TRANSACTIONS_DETAIL))
    transactions_detail = property(lambda self: self._any(P.READ_TRANSACTIONS_DETAIL))

    def transaction_direction(self) -> str | None:
        """"Credit" or "Debit" when only one direction is granted, None when both are."""
        credits, debits = P.READ_TRANSACTIONS_CREDITS in self.permissions, P.READ_TRANSACTIONS_DEBITS in self.permissions
        if credits and debits:
            return None
        return "Credit" if credits else "Debit"

    def require(self, *any_of: Permission) -> None:
        """403 unless one of `any_of` is granted (the consent does not cover this resource)."""
        if not self._any(*any_of):
            names = " or ".join(p.value for p in any_of)
            raise OBIEError.of(403, ErrorCode.RESOURCE_CONSENT_MISMATCH,
                               f"the consent does not grant {names}")
