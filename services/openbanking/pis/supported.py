"""What this ASPSP offers for domestic payments, beyond what the v3.1.11 schema allows. A request for anything else
is refused when the consent is created, with the `UK.OBIE.Unsupported.*` code that names it (or
`UK.OBIE.Field.Invalid` for an amount that pays nothing), every problem of the request at once.

- Currency: sterling only (a domestic payment in the UK is in GBP).
- Amount: more than zero.
- Account schemes (creditor and debtor): `UK.OBIE.SortCodeAccountNumber` (6-digit sort code and 8-digit account
  number) and `UK.OBIE.IBAN` (a GB IBAN with a valid check sum).
- Local instruments: Faster Payments, Bacs and CHAPS (`UK.OBIE.FPS`, `UK.OBIE.BACS`, `UK.OBIE.CHAPS`).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..common.errors import ErrorCode, ErrorDetail, OBIEError
from .models import OBInitiation

CURRENCIES = frozenset({"GBP"})
ACCOUNT_SCHEMES: dict[str, re.Pattern[str]] = {
    "UK.OBIE.SortCodeAccountNumber": re.compile(r"^\d{14}$"),
    "UK.OBIE.IBAN": re.compile(r"^GB\d{2}[A-Z]{4}\d{14}$"),
}
LOCAL_INSTRUMENTS = frozenset({"UK.OBIE.FPS", "UK.OBIE.BACS", "UK.OBIE.CHAPS"})


def _iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _account_problems(scheme: str, identification: str, path: str) -> list[ErrorDetail]:
    pattern = ACCOUNT_SCHEMES.get(scheme)
    if pattern is None:
        return [ErrorDetail(ErrorCode.UNSUPPORTED_SCHEME,
                            f"SchemeName {scheme!r} is not supported; use one of {', '.join(sorted(ACCOUNT_SCHEMES))}",
                            f"{path}.SchemeName")]
    compact = identification.replace(" ", "")
    if not pattern.match(compact) or (scheme == "UK.OBIE.IBAN" and not _iban_checksum_ok(compact)):
        return [ErrorDetail(ErrorCode.UNSUPPORTED_ACCOUNT_IDENTIFIER,
                            f"Identification {identification!r} is not a valid {scheme} identification",
                            f"{path}.Identification")]
    return []


def check_supported(initiation: OBInitiation) -> None:
    """Raise a 400 listing every part of `initiation` this ASPSP does not offer; return when it offers all."""
    problems: list[ErrorDetail] = []
    amount = initiation.InstructedAmount
    base = "Data.Initiation"
    if amount.Currency not in CURRENCIES:
        problems.append(ErrorDetail(ErrorCode.UNSUPPORTED_CURRENCY,
                                    f"a domestic payment is in {', '.join(sorted(CURRENCIES))}, not {amount.Currency}",
                                    f"{base}.InstructedAmount.Currency"))
    if Decimal(amount.Amount) <= 0:
        problems.append(ErrorDetail(ErrorCode.FIELD_INVALID, f"the amount must be more than zero, not {amount.Amount}",
                                    f"{base}.InstructedAmount.Amount"))
    problems += _account_problems(initiation.CreditorAccount.SchemeName, initiation.CreditorAccount.Identification,
                                  f"{base}.CreditorAccount")
    if initiation.DebtorAccount is not None:
        problems += _account_problems(initiation.DebtorAccount.SchemeName, initiation.DebtorAccount.Identification,
                                      f"{base}.DebtorAccount")
    if initiation.LocalInstrument is not None and initiation.LocalInstrument not in LOCAL_INSTRUMENTS:
        problems.append(ErrorDetail(ErrorCode.UNSUPPORTED_LOCAL_INSTRUMENT,
                                    f"LocalInstrument {initiation.LocalInstrument!r} is not offered; use one of "
                                    f"{', '.join(sorted(LOCAL_INSTRUMENTS))}", f"{base}.LocalInstrument"))
    if problems:
        raise OBIEError(400, problems, "the payment asks for something this ASPSP does not offer")
