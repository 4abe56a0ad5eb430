"""Pydantic models of the v3.1.11 account-information documents this service reads and writes.

Only the parts the service serves are modelled, with the spec's names, lengths, patterns and enums,
and `extra="forbid"` where the spec says `additionalProperties: false`. Responses are serialised with
`exclude_none`: OBIE optional fields are omitted, never sent as null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from .permissions import Permission


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _with_offset(value: datetime) -> str:
    return value.isoformat()


#: A date-time as OBIE writes it and PIS answers it: ISO 8601 with a numeric offset (`2017-04-05T10:43:07+00:00`),
#: the offset kept as received (pydantic would write UTC as `Z`).
ObDateTime = Annotated[datetime, PlainSerializer(_with_offset, return_type=str, when_used="json")]


Str = Annotated[str, StringConstraints(min_length=1)]
AccountIdStr = Annotated[str, StringConstraints(min_length=1, max_length=40)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3,3}$")]
AmountStr = Annotated[str, StringConstraints(pattern=r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$")]
CreditDebit = Literal["Credit", "Debit"]
BalanceType = Literal["ClosingAvailable", "ClosingBooked", "ClosingCleared", "Expected", "ForwardAvailable",
                      "Information", "InterimAvailable", "InterimBooked", "InterimCleared", "OpeningAvailable",
                      "OpeningBooked", "OpeningCleared", "PreviouslyClosedBooked"]
AccountScheme = Literal["UK.OBIE.BBAN", "UK.OBIE.IBAN", "UK.OBIE.PAN", "UK.OBIE.Paym",
                        "UK.OBIE.SortCodeAccountNumber", "UK.OBIE.Wallet"]


# --- Links / Meta -------------------------------------------------------------------------------------------

class OBLinks(_Doc):
    Self: str
    First: str | None = None
    Prev: str | None = None
    Next: str | None = None
    Last: str | None = None


class OBMeta(_Doc):
    TotalPages: int | None = None
    FirstAvailableDateTime: ObDateTime | None = None
    LastAvailableDateTime: ObDateTime | None = None


# --- consents -----------------------------------------------------------------------------------------------

class OBRisk2(_Doc):
    """The AIS risk block is an empty object in v3.1.11."""


class ConsentRequestData(_Doc):
    #: codes are checked by `permissions.validate_permissions`, which says precisely which rule failed
    Permissions: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=100)
    ExpirationDateTime: AwareDatetime | None = None
    TransactionFromDateTime: AwareDatetime | None = None
    TransactionToDateTime: AwareDatetime | None = None


class OBReadConsent1(_Doc):
    Data: ConsentRequestData
    Risk: OBRisk2


ConsentStatus = Literal["Authorised", "AwaitingAuthorisation", "Rejected", "Revoked"]


class ConsentResponseData(_Doc):
    ConsentId: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    CreationDateTime: ObDateTime
    Status: ConsentStatus
    StatusUpdateDateTime: ObDateTime
    Permissions: list[Permission] = Field(min_length=1)
    ExpirationDateTime: ObDateTime | None = None
    TransactionFromDateTime: ObDateTime | None = None
    TransactionToDateTime: ObDateTime | None = None


class OBReadConsentResponse1(_Doc):
    Data: ConsentResponseData
    Risk: OBRisk2
    Links: OBLinks
    Meta: OBMeta


class ConsentAuthorisation(_Doc):
    """Body of the internal authorisation call the IdP makes once the PSU decided."""

    Status: Literal["Authorised", "Rejected"]
    PsuId: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    AccountIds: list[AccountIdStr] = Field(default_factory=list, max_length=100)


class ConsentRevocation(_Doc):
    """Body of the internal call the bank makes when the PSU revokes an authorised consent at the bank (its online
    banking, or the sandbox's stand-in); the TPP learns of it by a consent-authorization-revoked event."""

    PsuId: Annotated[str, StringConstraints(min_length=1, max_length=40)]


# --- accounts -----------------------------------------------------------------------------------------------

class CashAccount(_Doc):
    SchemeName: AccountScheme
    Identification: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    Name: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    SecondaryIdentification: Annotated[str, StringConstraints(min_length=1, max_length=34)] | None = None


class Agent(_Doc):
    SchemeName: Literal["UK.OBIE.BICFI"]
    Identification: Annotated[str, StringConstraints(min_length=1, max_length=35)]


class OBAccount6(_Doc):
    AccountId: AccountIdStr
    Status: Literal["Deleted", "Disabled", "Enabled", "Pending", "ProForma"] | None = None
    StatusUpdateDateTime: ObDateTime | None = None
    Currency: CurrencyCode | None = None
    AccountType: Literal["Business", "Personal"] | None = None
    AccountSubType: Literal["ChargeCard", "CreditCard", "CurrentAccount", "EMoney", "Loan", "Mortgage",
                            "PrePaidCard", "Savings", "Wallet"] | None = None
    Description: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    Nickname: Annotated[str, StringConstraints(min_length=1, max_length=70)] | None = None
    OpeningDate: ObDateTime | None = None
    MaturityDate: ObDateTime | None = None
    Account: list[CashAccount] | None = None
    Servicer: Agent | None = None


class AccountData(_Doc):
    Account: list[OBAccount6]


class OBReadAccount6(_Doc):
    Data: AccountData
    Links: OBLinks
    Meta: OBMeta


# --- balances -----------------------------------------------------------------------------------------------

class Money(BaseModel):
    Amount: AmountStr
    Currency: CurrencyCode


class OBCreditLine(_Doc):
    Included: bool
    Type: Literal["Available", "Credit", "Emergency", "Pre-Agreed", "Temporary"] | None = None
    Amount: Money | None = None


class OBBalance(BaseModel):
    AccountId: AccountIdStr
    CreditDebitIndicator: CreditDebit
    Type: BalanceType
    DateTime: ObDateTime
    Amount: Money
    CreditLine: list[OBCreditLine] | None = None


class BalanceData(BaseModel):
    Balance: list[OBBalance] = Field(min_length=1)


class OBReadBalance1(_Doc):
    Data: BalanceData
    Links: OBLinks
    Meta: OBMeta


# --- transactions -------------------------------------------------------------------------------------------

class OBBankTransactionCode(BaseModel):
    Code: str
    SubCode: str


class OBProprietaryBankTransactionCode(_Doc):
    Code: Annotated[str, StringConstraints(min_length=1, max_length=35)]
    Issuer: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None


class TransactionBalance(_Doc):
    CreditDebitIndicator: CreditDebit
    Type: BalanceType
    Amount: Money


class OBMerchantDetails(BaseModel):
    MerchantName: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    MerchantCategoryCode: Annotated[str, StringConstraints(min_length=3, max_length=4)] | None = None


class TransactionParty(BaseModel):
    """OBCashAccount6: every field optional."""

    SchemeName: AccountScheme | None = None
    Identification: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    Name: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    SecondaryIdentification: Annotated[str, StringConstraints(min_length=1, max_length=34)] | None = None


class OBTransaction6(_Doc):
    AccountId: AccountIdStr
    TransactionId: Annotated[str, StringConstraints(min_length=1, max_length=210)] | None = None
    TransactionReference: Annotated[str, StringConstraints(min_length=1, max_length=210)] | None = None
    CreditDebitIndicator: CreditDebit
    Status: Literal["Booked", "Pending", "Rejected"]
    BookingDateTime: ObDateTime
    ValueDateTime: ObDateTime | None = None
    TransactionInformation: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    Amount: Money
    BankTransactionCode: OBBankTransactionCode | None = None
    ProprietaryBankTransactionCode: OBProprietaryBankTransactionCode | None = None
    Balance: TransactionBalance | None = None
    MerchantDetails: OBMerchantDetails | None = None
    CreditorAccount: TransactionParty | None = None
    DebtorAccount: TransactionParty | None = None


class TransactionData(_Doc):
    Transaction: list[OBTransaction6]


class OBReadTransaction6(_Doc):
    Data: TransactionData
    Links: OBLinks
    Meta: OBMeta


# --- beneficiaries, standing orders, direct debits ----------------------------------------------------------

ReferenceStr = Annotated[str, StringConstraints(min_length=1, max_length=35)]


class OBBeneficiary5(_Doc):
    AccountId: AccountIdStr | None = None
    BeneficiaryId: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    BeneficiaryType: Literal["Trusted", "Ordinary"] | None = None
    Reference: ReferenceStr | None = None
    CreditorAgent: Agent | None = None
    CreditorAccount: CashAccount | None = None


class BeneficiaryData(BaseModel):
    Beneficiary: list[OBBeneficiary5]


class OBReadBeneficiary5(_Doc):
    Data: BeneficiaryData
    Links: OBLinks
    Meta: OBMeta


FREQUENCY_PATTERN = (r"^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$"
                     r"|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$"
                     r"|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$"
                     r"|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$")


class OBStandingOrder6(_Doc):
    AccountId: AccountIdStr
    StandingOrderId: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    Frequency: Annotated[str, StringConstraints(pattern=FREQUENCY_PATTERN)]
    Reference: ReferenceStr | None = None
    FirstPaymentDateTime: ObDateTime | None = None
    NextPaymentDateTime: ObDateTime | None = None
    LastPaymentDateTime: ObDateTime | None = None
    FinalPaymentDateTime: ObDateTime | None = None
    NumberOfPayments: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    StandingOrderStatusCode: Literal["Active", "Inactive"] | None = None
    FirstPaymentAmount: Money | None = None
    NextPaymentAmount: Money | None = None
    LastPaymentAmount: Money | None = None
    FinalPaymentAmount: Money | None = None
    CreditorAgent: Agent | None = None
    CreditorAccount: CashAccount | None = None


class StandingOrderData(BaseModel):
    StandingOrder: list[OBStandingOrder6]


class OBReadStandingOrder6(_Doc):
    Data: StandingOrderData
    Links: OBLinks
    Meta: OBMeta


class OBDirectDebit2(BaseModel):
    AccountId: AccountIdStr
    DirectDebitId: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    MandateIdentification: Annotated[str, StringConstraints(min_length=1, max_length=35)]
    DirectDebitStatusCode: Literal["Active", "Inactive"] | None = None
    Name: Annotated[str, StringConstraints(min_length=1, max_length=70)]
    PreviousPaymentDateTime: ObDateTime | None = None
    Frequency: Literal["UK.OBIE.Annual", "UK.OBIE.Daily", "UK.OBIE.Fortnightly", "UK.OBIE.HalfYearly",
                       "UK.OBIE.Monthly", "UK.OBIE.NotKnown", "UK.OBIE.Quarterly", "UK.OBIE.Weekly"] | None = None
    PreviousPaymentAmount: Money | None = None


class DirectDebitData(BaseModel):
    DirectDebit: list[OBDirectDebit2]


class OBReadDirectDebit2(_Doc):
    Data: DirectDebitData
    Links: OBLinks
    Meta: OBMeta


# --- party and product --------------------------------------------------------------------------------------

PhoneStr = Annotated[str, StringConstraints(pattern=r"\+[0-9]{1,3}-[0-9()+\-]{1,30}")]


class PartyAddress(BaseModel):
    AddressType: Literal["Business", "Correspondence", "DeliveryTo", "MailTo", "POBox", "Postal", "Residential",
                         "Statement"] | None = None
    AddressLine: list[Annotated[str, StringConstraints(min_length=1, max_length=70)]] | None = Field(None, max_length=5)
    StreetName: Annotated[str, StringConstraints(min_length=1, max_length=70)] | None = None
    BuildingNumber: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    PostCode: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    TownName: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    CountrySubDivision: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    Country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,2}$")]


class OBParty2(_Doc):
    PartyId: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    PartyNumber: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None
    PartyType: Literal["Delegate", "Joint", "Sole"] | None = None
    Name: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    FullLegalName: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    LegalStructure: str | None = None
    BeneficialOwnership: bool | None = None
    AccountRole: str | None = None
    EmailAddress: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    Phone: PhoneStr | None = None
    Mobile: PhoneStr | None = None
    Address: list[PartyAddress] | None = None


class PartyData(BaseModel):
    Party: OBParty2 | None = None


class OBReadParty2(_Doc):
    Data: PartyData
    Links: OBLinks
    Meta: OBMeta


class OBProduct(BaseModel):
    ProductName: Annotated[str, StringConstraints(min_length=1, max_length=350)] | None = None
    ProductId: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    AccountId: AccountIdStr
    SecondaryProductId: Annotated[str, StringConstraints(min_length=1, max_length=70)] | None = None
    ProductType: Literal["BusinessCurrentAccount", "CommercialCreditCard", "Other", "PersonalCurrentAccount",
                         "SMELoan"]
    MarketingStateId: Annotated[str, StringConstraints(min_length=1, max_length=35)] | None = None


class ProductData(BaseModel):
    Product: list[OBProduct]


class OBReadProduct2(_Doc):
    Data: ProductData
    Links: OBLinks
    Meta: OBMeta


def links_meta(self_url: str, **meta: Any) -> dict[str, Any]:
    """`Links` and `Meta` of a single-page answer."""
    return {"Links": {"Self": self_url}, "Meta": {"TotalPages": 1, **meta}}
