"""Cut a ledger document down to what a consent's permissions show (Basic vs Detail, ReadPAN).

Detail-only elements per the v3.1.11 permission tables: accounts `Account`, `Servicer`; transactions
`TransactionInformation`, `Balance`, `MerchantDetails`, `CreditorAgent`, `CreditorAccount`, `DebtorAgent`,
`DebtorAccount`; beneficiaries and standing orders `CreditorAgent`, `CreditorAccount`. Without `ReadPAN`
a card number (`UK.OBIE.PAN`) is masked to its last four digits.
"""

from __future__ import annotations

from typing import Any

from .permissions import Grants, Permission

ACCOUNT_DETAIL = ("Account", "Servicer")
TRANSACTION_DETAIL = ("TransactionInformation", "Balance", "MerchantDetails", "CreditorAgent", "CreditorAccount",
                      "DebtorAgent", "DebtorAccount")
CREDITOR_DETAIL = ("CreditorAgent", "CreditorAccount")
PAN_SCHEME = "UK.OBIE.PAN"


def _without(doc: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in fields}


def mask_pan(identification: str) -> str:
    digits = identification.replace(" ", "")
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def _mask(party: dict[str, Any]) -> dict[str, Any]:
    if party.get("SchemeName") == PAN_SCHEME and "Identification" in party:
        return {**party, "Identification": mask_pan(party["Identification"])}
    return party


def _pan_safe(doc: dict[str, Any], grants: Grants, *fields: str) -> dict[str, Any]:
    if Permission.READ_PAN in grants.permissions:
        return doc
    out = dict(doc)
    for name in fields:
        value = out.get(name)
        if isinstance(value, list):
            out[name] = [_mask(v) for v in value]
        elif isinstance(value, dict):
            out[name] = _mask(value)
    return out


def account(doc: dict[str, Any], grants: Grants) -> dict[str, Any]:
    if not grants.accounts_detail:
        return _without(doc, ACCOUNT_DETAIL)
    return _pan_safe(doc, grants, "Account")


def transaction(doc: dict[str, Any], grants: Grants) -> dict[str, Any]:
    if not grants.transactions_detail:
        return _without(doc, TRANSACTION_DETAIL)
    return _pan_safe(doc, grants, "CreditorAccount", "DebtorAccount")


def beneficiary(doc: dict[str, Any], grants: Grants) -> dict[str, Any]:
    if not grants.beneficiaries_detail:
        return _without(doc, CREDITOR_DETAIL)
    return _pan_safe(doc, grants, "CreditorAccount")


def standing_order(doc: dict[str, Any], grants: Grants) -> dict[str, Any]:
    if not grants.standing_orders_detail:
        return _without(doc, CREDITOR_DETAIL)
    return _pan_safe(doc, grants, "CreditorAccount")
