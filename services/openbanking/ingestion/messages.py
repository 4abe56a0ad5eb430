"""Core-banking events as the ingestion consumer accepts them (JSON, one event per message).

    {"MessageId": "…", "AccountId": "acc-0001-01", "Sequence": 7, "Type": "balance.upsert",
     "OccurredAt": "2025-06-01T10:00:00Z", "Payload": {…}}

`Sequence` numbers the events of one account from 1 without gaps; it is what keeps the copy in order
whatever order the broker delivers in. Payloads are full states (an account, a set of balances by type,
transactions by id), so applying one twice is harmless; the consumer still recognises replays.
A message that does not parse into one of these is poison and is parked with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

Id40 = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Text35 = Annotated[str, StringConstraints(min_length=1, max_length=35)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=5)]
CreditDebit = Literal["Credit", "Debit"]
Scheme = Literal["UK.OBIE.BBAN", "UK.OBIE.IBAN", "UK.OBIE.PAN", "UK.OBIE.Paym", "UK.OBIE.SortCodeAccountNumber",
                 "UK.OBIE.Wallet"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountState(_Strict):
    PsuId: Id40
    Status: Literal["Deleted", "Disabled", "Enabled", "Pending", "ProForma"]
    StatusUpdateDateTime: AwareDatetime
    Currency: CurrencyCode
    AccountType: Literal["Business", "Personal"]
    AccountSubType: Literal["ChargeCard", "CreditCard", "CurrentAccount", "EMoney", "Loan", "Mortgage", "PrePaidCard",
                            "Savings", "Wallet"]
    Description: Text35 | None = None
    Nickname: Annotated[str, StringConstraints(min_length=1, max_length=70)] | None = None
    OpeningDate: AwareDatetime | None = None
    MaturityDate: AwareDatetime | None = None
    SchemeName: Scheme
    Identification: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    Name: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    SecondaryIdentification: Annotated[str, StringConstraints(min_length=1, max_length=34)] | None = None
    ServicerBic: Text35 | None = None
    ProductId: Id40 | None = None


class BalanceState(_Strict):
    Type: Literal["ClosingAvailable", "ClosingBooked", "ClosingCleared", "Expected", "ForwardAvailable", "Information",
                  "InterimAvailable", "InterimBooked", "InterimCleared", "OpeningAvailable", "OpeningBooked",
                  "OpeningCleared", "PreviouslyClosedBooked"]
    CreditDebitIndicator: CreditDebit
    Amount: Amount
    Currency: CurrencyCode
    DateTime: AwareDatetime
    CreditLines: list[dict[str, Any]] = Field(default_factory=list, max_length=10)


class BalancesState(_Strict):
    Balances: list[BalanceState] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one_per_type(self) -> BalancesState:
        types = [b.Type for b in self.Balances]
        if len(set(types)) != len(types):
            raise ValueError("Balances lists a balance type more than once")
        return self


class TransactionState(_Strict):
    TransactionId: Annotated[str, StringConstraints(min_length=1, max_length=210)]
    TransactionReference: Annotated[str, StringConstraints(min_length=1, max_length=210)] | None = None
    CreditDebitIndicator: CreditDebit
    Status: Literal["Booked", "Pending", "Rejected"]
    BookingDateTime: AwareDatetime
    ValueDateTime: AwareDatetime | None = None
    TransactionInformation: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    Amount: Amount
    Currency: CurrencyCode
    BankTransactionCode: Text35 | None = None
    BankTransactionSubCode: Text35 | None = None
    ProprietaryCode: Text35 | None = None
    ProprietaryIssuer: Text35 | None = None
    MerchantName: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    MerchantCategoryCode: Annotated[str, StringConstraints(min_length=3, max_length=4)] | None = None
    CounterpartySchemeName: Scheme | None = None
    CounterpartyIdentification: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    CounterpartyName: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    BalanceCreditDebitIndicator: CreditDebit | None = None
    BalanceAmount: Amount | None = None


class TransactionsState(_Strict):
    Transactions: list[TransactionState] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique_ids(self) -> TransactionsState:
        ids = [t.TransactionId for t in self.Transactions]
        if len(set(ids)) != len(ids):
            raise ValueError("Transactions lists a TransactionId more than once")
        return self


class _Envelope(_Strict):
    MessageId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    AccountId: Id40
    Sequence: int = Field(ge=1)
    OccurredAt: AwareDatetime


class AccountEvent(_Envelope):
    Type: Literal["account.upsert"]
    Payload: AccountState


class BalanceEvent(_Envelope):
    Type: Literal["balance.upsert"]
    Payload: BalancesState


class TransactionEvent(_Envelope):
    Type: Literal["transaction.upsert"]
    Payload: TransactionsState


LedgerEvent = Annotated[AccountEvent | BalanceEvent | TransactionEvent, Field(discriminator="Type")]


_EVENTS: TypeAdapter[AccountEvent | BalanceEvent | TransactionEvent] = TypeAdapter(LedgerEvent)


class InvalidMessage(ValueError):
    """The message cannot be applied: the reason says why (it travels with the parked message)."""


def parse(body: bytes) -> AccountEvent | BalanceEvent | TransactionEvent:
    try:
        return _EVENTS.validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise InvalidMessage(f"not a core-banking ledger event: {problems}") from None
