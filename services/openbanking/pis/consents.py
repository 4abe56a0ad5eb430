"""`/domestic-payment-consents`: create, read, and confirm funds for a domestic-payment consent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from ..common.bodies import parse_json, raw_body, validate_model
from ..common.context import Caller, forbidden, require_scope
from ..common.errors import ErrorCode, bad_request, unknown_resource
from .deps import Deps, PisDeps
from .documents import consent_document, funds_document, respond
from .idempotency import fingerprint, validate_key
from .models import ConsentStatus, OBWriteDomesticConsent4
from .store import Consent, iso, new_consent_id
from .supported import check_supported

router = APIRouter()
PaymentsCaller = Annotated[Caller, Depends(require_scope("payments"))]


def owned_consent(deps: PisDeps, caller: Caller, consent_id: str, path: str = "ConsentId") -> Consent:
    """The TPP's own consent; someone else's is as unknown as a missing one (400, OBIE)."""
    consent = deps.store.get_consent(consent_id)
    if consent is None or consent.tpp_id != caller.tpp_id:
        raise unknown_resource("domestic-payment consent", path)
    return consent


@router.post("/domestic-payment-consents", status_code=201)
def create_consent(request: Request, caller: PaymentsCaller, deps: Deps, body: Annotated[bytes, Depends(raw_body)],
                   x_idempotency_key: Annotated[str | None, Header()] = None,
                   x_jws_signature: Annotated[str | None, Header()] = None) -> JSONResponse:
    key = validate_key(x_idempotency_key)
    deps.verifier.verify(x_jws_signature, body, caller.tpp_id)
    document = parse_json(body)
    consent_request = validate_model(OBWriteDomesticConsent4, document)
    check_supported(consent_request.Data.Initiation)
    data = consent_request.Data.model_dump(mode="json", exclude_none=True)
    risk = consent_request.Risk.model_dump(mode="json", exclude_none=True)
    outcome = deps.idempotency.execute(
        tpp_id=caller.tpp_id, operation="domestic-payment-consents", key=key, digest=fingerprint(document),
        new_id=new_consent_id,
        create=lambda consent_id: deps.store.create_consent(consent_id, caller.tpp_id, caller.client_id, data, risk),
        load=deps.store.get_consent)
    return respond(consent_document(outcome.resource, deps.base_url), 201)


@router.get("/domestic-payment-consents/{ConsentId}")
def get_consent(ConsentId: str, caller: PaymentsCaller, deps: Deps) -> JSONResponse:
    return respond(consent_document(owned_consent(deps, caller, ConsentId), deps.base_url))


@router.get("/domestic-payment-consents/{ConsentId}/funds-confirmation")
def confirm_funds(ConsentId: str, caller: PaymentsCaller, deps: Deps) -> JSONResponse:
    if caller.consent_id != ConsentId:
        raise forbidden("the access token was not issued for this consent")
    consent = owned_consent(deps, caller, ConsentId)
    if consent.status is not ConsentStatus.AUTHORISED:
        raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                          f"funds can be confirmed only for an Authorised consent; this one is {consent.status.value}",
                          "ConsentId")
    available = deps.funds.funds_available(consent)
    return respond(funds_document(consent, available, iso(deps.now()), deps.base_url))
