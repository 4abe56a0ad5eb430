"""`/domestic-payments`: submit the payment order of an authorised consent, read it and its status details."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from ..common.bodies import parse_json, raw_body, validate_model
from ..common.context import Caller, forbidden
from ..common.errors import ErrorCode, bad_request, unknown_resource
from .consents import PaymentsCaller, owned_consent
from .deps import Deps, PisDeps
from .documents import payment_details_document, payment_document, respond
from .idempotency import fingerprint, validate_key
from .models import ConsentStatus, OBWriteDomestic2
from .store import ConsentStateConflict, Payment, new_payment_id

router = APIRouter()
#: The `StatusReasonDescription` of a payment refused for want of funds.
INSUFFICIENT_FUNDS = "the debtor account's available balance does not cover the instructed amount"


def _invalid_status(status: ConsentStatus | None) -> Exception:
    shown = status.value if status is not None else "unknown"
    return bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                       f"a payment needs an Authorised consent; this one is {shown}", "Data.ConsentId")


def _submit(deps: PisDeps, caller: Caller, payment_id: str, order: OBWriteDomestic2) -> Payment:
    consent = owned_consent(deps, caller, order.Data.ConsentId, "Data.ConsentId")
    if consent.status is not ConsentStatus.AUTHORISED:
        raise _invalid_status(consent.status)
    if order.Data.Initiation.model_dump(mode="json", exclude_none=True) != consent.initiation:
        raise bad_request(ErrorCode.RESOURCE_CONSENT_MISMATCH,
                          "the Initiation differs from the Initiation of the consent", "Data.Initiation")
    if order.Risk.model_dump(mode="json", exclude_none=True) != consent.risk:
        raise bad_request(ErrorCode.RESOURCE_CONSENT_MISMATCH, "the Risk differs from the Risk of the consent", "Risk")
    # as a bank would: an order the debtor account cannot cover is accepted as a resource, and Rejected
    rejection = None if deps.funds.funds_available(consent) else INSUFFICIENT_FUNDS
    try:
        return deps.store.create_payment(payment_id, consent, rejection)
    except ConsentStateConflict as conflict:  # another payment consumed the consent first
        raise _invalid_status(conflict.consent.status if conflict.consent else None) from None


@router.post("/domestic-payments", status_code=201)
def create_payment(caller: PaymentsCaller, deps: Deps, body: Annotated[bytes, Depends(raw_body)],
                   x_idempotency_key: Annotated[str | None, Header()] = None,
                   x_jws_signature: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = validate_key(x_idempotency_key)
    deps.verifier.verify(x_jws_signature, body, caller.tpp_id)
    document = parse_json(body)
    order = validate_model(OBWriteDomestic2, document)
    if caller.consent_id != order.Data.ConsentId:
        raise forbidden("the access token was not issued for the consent of this payment")
    outcome = deps.idempotency.execute(
        tpp_id=caller.tpp_id, operation="domestic-payments", key=key, digest=fingerprint(document),
        new_id=new_payment_id, create=lambda payment_id: _submit(deps, caller, payment_id, order),
        load=deps.store.get_payment)
    return respond(payment_document(outcome.resource, deps.base_url), 201)


def owned_payment(deps: PisDeps, caller: Caller, payment_id: str) -> Payment:
    payment = deps.store.get_payment(payment_id)
    if payment is None or payment.tpp_id != caller.tpp_id:
        raise unknown_resource("domestic payment", "DomesticPaymentId")
    return payment


@router.get("/domestic-payments/{DomesticPaymentId}")
def get_payment(DomesticPaymentId: str, caller: PaymentsCaller, deps: Deps) -> JSONResponse:
    return respond(payment_document(owned_payment(deps, caller, DomesticPaymentId), deps.base_url))


@router.get("/domestic-payments/{DomesticPaymentId}/payment-details")
def get_payment_details(DomesticPaymentId: str, caller: PaymentsCaller, deps: Deps) -> JSONResponse:
    return respond(payment_details_document(owned_payment(deps, caller, DomesticPaymentId), deps.base_url))
