"""Pydantic models of the domestic-payment resources, field for field as in the v3.1.11 OpenAPI file.

Requests reject unknown fields (the schemas say `additionalProperties: false`); responses are serialised with
`exclude_none`, because OBIE wants optional fields omitted rather than sent empty.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Max35 = Annotated[str, StringConstraints(min_length=1, max_length=35)]
Max70 = Annotated[str, StringConstraints(min_length=1, max_length=70)]
AmountText = Annotated[str, StringConstraints(pattern=r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3,3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,2}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ConsentStatus(StrEnum):
    AWAITING_AUTHORISATION = "AwaitingAuthorisation"
    AUTHORISED = "Authorised"
    REJECTED = "Rejected"
    CONSUMED = "Consumed"


class PaymentStatus(StrEnum):
    PENDING = "Pending"
    REJECTED = "Rejected"
    ACCEPTED_SETTLEMENT_IN_PROCESS = "AcceptedSettlementInProcess"
    ACCEPTED_SETTLEMENT_COMPLETED = "AcceptedSettlementCompleted"
    ACCEPTED_WITHOUT_POSTING = "AcceptedWithoutPosting"
    ACCEPTED_CREDIT_SETTLEMENT_COMPLETED = "AcceptedCreditSettlementCompleted"


class OBInstructedAmount(_Strict):
    Amount: AmountText
    Currency: CurrencyCode


class OBDebtorAccount(_Strict):
    SchemeName: str = Field(min_length=1, max_length=40)
    Identification: str = Field(min_length=1, max_length=256)
    Name: str | None = Field(default=None, min_length=1, max_length=350)
    SecondaryIdentification: str | None = Field(default=None, min_length=1, max_length=34)


class OBCreditorAccount(_Strict):
    SchemeName: str = Field(min_length=1, max_length=40)
    Identification: str = Field(min_length=1, max_length=256)
    Name: str = Field(min_length=1, max_length=350)
    SecondaryIdentification: str | None = Field(default=None, min_length=1, max_length=34)


class OBPostalAddress(_Strict):
    AddressType: Literal["Business", "Correspondence", "DeliveryTo", "MailTo", "POBox", "Postal", "Residential",
                         "Statement"] | None = None
    Department: Max70 | None = None
    SubDepartment: Max70 | None = None
    StreetName: Max70 | None = None
    BuildingNumber: str | None = Field(default=None, min_length=1, max_length=16)
    PostCode: str | None = Field(default=None, min_length=1, max_length=16)
    TownName: Max35 | None = None
    CountrySubDivision: Max35 | None = None
    Country: CountryCode | None = None
    AddressLine: list[Max70] | None = Field(default=None, max_length=7)


class OBRemittanceInformation(_Strict):
    Unstructured: str | None = Field(default=None, min_length=1, max_length=140)
    Reference: Max35 | None = None


class OBInitiation(_Strict):
    """`OBWriteDomestic2.Data.Initiation`, shared by the consent and the payment (they must be identical)."""

    InstructionIdentification: Max35
    EndToEndIdentification: Max35
    LocalInstrument: str | None = Field(default=None, min_length=1, max_length=50)
    InstructedAmount: OBInstructedAmount
    DebtorAccount: OBDebtorAccount | None = None
    CreditorAccount: OBCreditorAccount
    CreditorPostalAddress: OBPostalAddress | None = None
    RemittanceInformation: OBRemittanceInformation | None = None
    SupplementaryData: dict[str, Any] | None = None


class OBAuthorisation(_Strict):
    AuthorisationType: Literal["Any", "Single"]
    CompletionDateTime: datetime | None = None


class OBSCASupportData(_Strict):
    RequestedSCAExemptionType: Literal["BillPayment", "ContactlessTravel", "EcommerceGoods", "EcommerceServices",
                                       "Kiosk", "Parking", "PartyToParty"] | None = None
    AppliedAuthenticationApproach: Literal["CA", "SCA"] | None = None
    ReferencePaymentOrderId: str | None = Field(default=None, min_length=1, max_length=40)


class OBDeliveryAddress(_Open):
    AddressLine: list[Max70] | None = Field(default=None, max_length=2)
    StreetName: Max70 | None = None
    BuildingNumber: str | None = Field(default=None, min_length=1, max_length=16)
    PostCode: str | None = Field(default=None, min_length=1, max_length=16)
    TownName: Max35
    CountrySubDivision: Max35 | None = None
    Country: CountryCode


class OBRisk(_Strict):
    """`OBRisk1`: kept as sent and returned unchanged."""

    PaymentContextCode: Literal[
        "BillingGoodsAndServicesInAdvance", "BillingGoodsAndServicesInArrears", "PispPayee",
        "EcommerceMerchantInitiatedPayment", "FaceToFacePointOfSale", "TransferToSelf", "TransferToThirdParty",
        "BillPayment", "EcommerceGoods", "EcommerceServices", "Other", "PartyToParty"] | None = None
    MerchantCategoryCode: str | None = Field(default=None, min_length=3, max_length=4)
    MerchantCustomerIdentification: str | None = Field(default=None, min_length=1, max_length=70)
    ContractPresentInidicator: bool | None = None
    BeneficiaryPrepopulatedIndicator: bool | None = None
    PaymentPurposeCode: str | None = Field(default=None, min_length=3, max_length=4)
    BeneficiaryAccountType: Literal[
        "Business", "BusinessSavingsAccount", "Charity", "Collection", "Corporate", "Ewallet", "Government",
        "Investment", "ISA", "JointPersonal", "Pension", "Personal", "PersonalSavingsAccount", "Premier",
        "Wealth"] | None = None
    DeliveryAddress: OBDeliveryAddress | None = None


class DomesticConsentData(_Strict):
    ReadRefundAccount: Literal["No", "Yes"] | None = None
    Initiation: OBInitiation
    Authorisation: OBAuthorisation | None = None
    SCASupportData: OBSCASupportData | None = None


class OBWriteDomesticConsent4(_Strict):
    Data: DomesticConsentData
    Risk: OBRisk


class DomesticPaymentData(_Strict):
    ConsentId: str = Field(min_length=1, max_length=128)
    Initiation: OBInitiation


class OBWriteDomestic2(_Strict):
    Data: DomesticPaymentData
    Risk: OBRisk


class OBLinks(_Strict):
    Self: str


class OBMeta(_Strict):
    TotalPages: int | None = None


class DomesticConsentResponseData(_Strict):
    ConsentId: str
    CreationDateTime: str
    Status: ConsentStatus
    StatusUpdateDateTime: str
    ReadRefundAccount: Literal["No", "Yes"] | None = None
    CutOffDateTime: str | None = None
    ExpectedExecutionDateTime: str | None = None
    ExpectedSettlementDateTime: str | None = None
    Initiation: dict[str, Any]
    Authorisation: dict[str, Any] | None = None
    SCASupportData: dict[str, Any] | None = None
    Debtor: dict[str, Any] | None = None


class OBWriteDomesticConsentResponse5(_Strict):
    Data: DomesticConsentResponseData
    Risk: dict[str, Any]
    Links: OBLinks
    Meta: OBMeta


class OBFundsAvailableResult(_Strict):
    FundsAvailableDateTime: str
    FundsAvailable: bool


class FundsConfirmationData(_Strict):
    FundsAvailableResult: OBFundsAvailableResult | None = None


class OBWriteFundsConfirmationResponse1(_Strict):
    Data: FundsConfirmationData
    Links: OBLinks
    Meta: OBMeta


class DomesticPaymentResponseData(_Strict):
    DomesticPaymentId: str
    ConsentId: str
    CreationDateTime: str
    Status: PaymentStatus
    StatusUpdateDateTime: str
    ExpectedExecutionDateTime: str | None = None
    ExpectedSettlementDateTime: str | None = None
    Initiation: dict[str, Any]
    Debtor: dict[str, Any] | None = None


class OBWriteDomesticResponse5(_Strict):
    Data: DomesticPaymentResponseData
    Links: OBLinks
    Meta: OBMeta


class OBPaymentStatusDetail(_Strict):
    LocalInstrument: str | None = None
    Status: str = Field(min_length=1, max_length=128)
    StatusReason: Literal["Cancelled", "PendingFailingSettlement", "PendingSettlement", "Proprietary",
                          "ProprietaryRejection", "Suspended", "Unmatched"] | None = None
    StatusReasonDescription: str | None = Field(default=None, min_length=1, max_length=256)


class OBPaymentStatusEntry(_Strict):
    PaymentTransactionId: str = Field(min_length=1, max_length=210)
    Status: str
    StatusUpdateDateTime: str
    StatusDetail: OBPaymentStatusDetail | None = None


class PaymentDetailsData(_Strict):
    PaymentStatus: list[OBPaymentStatusEntry]


class OBWritePaymentDetailsResponse1(_Strict):
    Data: PaymentDetailsData
    Links: OBLinks
    Meta: OBMeta


class ConsentAuthorisation(_Strict):
    """The IdP's verdict on a consent after the PSU's authentication (internal endpoint, services.md)."""

    Status: Literal["Authorised", "Rejected"]
    PsuId: str = Field(min_length=1, max_length=128)
    AccountId: str | None = Field(default=None, min_length=1, max_length=40,
                                  description="the ledger account the PSU chose to pay from")


class PaymentStatusUpdate(_Strict):
    """Core banking reports a payment's progress (internal endpoint)."""

    Status: PaymentStatus
