"""Resources -> OBIE response documents (validated against the response models before they leave)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..common.links import PIS_BASE_PATH, payment_consent_link, payment_link
from .models import (
    OBWriteDomesticConsentResponse5,
    OBWriteDomesticResponse5,
    OBWriteFundsConfirmationResponse1,
    OBWritePaymentDetailsResponse1,
)
from .store import Consent, Payment

BASE_PATH = PIS_BASE_PATH
consent_link = payment_consent_link


def respond(document: BaseModel, status_code: int = 200) -> JSONResponse:
    """Optional fields are omitted, never sent empty."""
    return JSONResponse(document.model_dump(mode="json", exclude_none=True), status_code=status_code)


def consent_document(consent: Consent, base_url: str) -> OBWriteDomesticConsentResponse5:
    data: dict[str, Any] = {
        "ConsentId": consent.consent_id, "CreationDateTime": consent.creation, "Status": consent.status,
        "StatusUpdateDateTime": consent.status_update, **consent.data}
    return OBWriteDomesticConsentResponse5.model_validate({
        "Data": data, "Risk": consent.risk, "Links": {"Self": consent_link(base_url, consent.consent_id)}, "Meta": {}})


def funds_document(consent: Consent, available: bool, checked_at: str, base_url: str) -> OBWriteFundsConfirmationResponse1:
    return OBWriteFundsConfirmationResponse1.model_validate({
        "Data": {"FundsAvailableResult": {"FundsAvailableDateTime": checked_at, "FundsAvailable": available}},
        "Links": {"Self": f"{consent_link(base_url, consent.consent_id)}/funds-confirmation"}, "Meta": {}})


def payment_document(payment: Payment, base_url: str) -> OBWriteDomesticResponse5:
    return OBWriteDomesticResponse5.model_validate({
        "Data": {"DomesticPaymentId": payment.payment_id, "ConsentId": payment.consent_id,
                 "CreationDateTime": payment.creation, "Status": payment.status,
                 "StatusUpdateDateTime": payment.status_update, "Initiation": payment.initiation},
        "Links": {"Self": payment_link(base_url, payment.payment_id)}, "Meta": {}})


def payment_details_document(payment: Payment, base_url: str) -> OBWritePaymentDetailsResponse1:
    """The status history, oldest first; each step is one entry of the payment's transaction."""
    local_instrument = payment.initiation.get("LocalInstrument")
    entries = []
    for step in payment.history:
        detail: dict[str, Any] = {"Status": step["Status"]}
        if local_instrument:
            detail["LocalInstrument"] = local_instrument
        for reason in ("StatusReason", "StatusReasonDescription"):
            if step.get(reason):
                detail[reason] = step[reason]
        entries.append({"PaymentTransactionId": payment.payment_id, "Status": step["Status"],
                        "StatusUpdateDateTime": step["StatusUpdateDateTime"], "StatusDetail": detail})
    return OBWritePaymentDetailsResponse1.model_validate({
        "Data": {"PaymentStatus": entries},
        "Links": {"Self": f"{payment_link(base_url, payment.payment_id)}/payment-details"}, "Meta": {}})
