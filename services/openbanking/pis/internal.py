"""Internal endpoints, never routed through API Gateway (services.md):

- the IdP records the PSU's decision on a consent after SCA;
- core banking reports a payment's progress, which raises a resource-update event for the TPP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ..claims import CONSENT_AUTHORISATION_SCOPE
from ..common.bodies import parse_json, raw_body, validate_model
from ..common.context import Caller, require_scope
from ..common.errors import ErrorCode, bad_request, unknown_resource
from ..common.interaction import interaction_id_of
from ..events.models import ResourceUpdate
from .deps import Deps
from .documents import consent_link, payment_link
from .models import ConsentAuthorisation, ConsentStatus, PaymentStatusUpdate
from .states import InvalidTransition
from .store import ConsentStateConflict, PaymentStatusConflict

router = APIRouter()
AUTHORISATION_SCOPE = CONSENT_AUTHORISATION_SCOPE  # the IdP reports PSU decisions with it (openbanking.claims)
PAYMENT_STATUS_SCOPE = "openbanking:payment-status"


@router.post("/domestic-payment-consents/{ConsentId}/authorisation", status_code=204)
def authorise_consent(ConsentId: str, request: Request, deps: Deps,
                      _: Annotated[Caller, Depends(require_scope(AUTHORISATION_SCOPE))],
                      body: Annotated[bytes, Depends(raw_body)]) -> Response:
    decision = validate_model(ConsentAuthorisation, parse_json(body))
    consent = deps.store.get_consent(ConsentId)
    if consent is None:
        raise unknown_resource("domestic-payment consent", "ConsentId")
    account_id = decision.AccountId
    if decision.Status == ConsentStatus.AUTHORISED.value:
        if consent.status is not ConsentStatus.AWAITING_AUTHORISATION:
            raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                              f"the consent is {consent.status.value}, not AwaitingAuthorisation", "ConsentId")
        # the PSU pays from one of their own accounts: the one they chose, or the consent's DebtorAccount
        account_id = deps.funds.payer_account(decision.PsuId, decision.AccountId,
                                              consent.initiation.get("DebtorAccount"))
    try:
        decided = deps.store.decide_consent(consent, ConsentStatus(decision.Status), decision.PsuId, account_id,
                                            interaction_id_of(request))
    except (InvalidTransition, ConsentStateConflict):
        current = deps.store.get_consent(ConsentId)
        raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                          f"the consent is {current.status.value if current else 'gone'}, not AwaitingAuthorisation",
                          "ConsentId") from None
    deps.resource_updated(decided.tpp_id, ResourceUpdate.of(
        decided.consent_id, "domestic-payment-consent", consent_link(deps.base_url, decided.consent_id)),
        interaction_id_of(request))
    return Response(status_code=204)


@router.post("/domestic-payments/{DomesticPaymentId}/status", status_code=204)
def update_payment_status(DomesticPaymentId: str, request: Request, deps: Deps,
                          _: Annotated[Caller, Depends(require_scope(PAYMENT_STATUS_SCOPE))],
                          body: Annotated[bytes, Depends(raw_body)]) -> Response:
    update = validate_model(PaymentStatusUpdate, parse_json(body))
    payment = deps.store.get_payment(DomesticPaymentId)
    if payment is None:
        raise unknown_resource("domestic payment", "DomesticPaymentId")
    try:
        changed = deps.store.change_payment_status(payment, update.Status, interaction_id_of(request))
    except (InvalidTransition, PaymentStatusConflict):
        current = deps.store.get_payment(DomesticPaymentId)
        shown = current.status.value if current else "gone"
        raise bad_request(ErrorCode.FIELD_INVALID,
                          f"a payment that is {shown} cannot become {update.Status.value}", "Status") from None
    deps.resource_updated(changed.tpp_id, ResourceUpdate.of(
        changed.payment_id, "domestic-payment", payment_link(deps.base_url, changed.payment_id)),
        interaction_id_of(request))
    return Response(status_code=204)
