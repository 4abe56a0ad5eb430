"""`/account-access-consents`: create, read and delete, plus the internal PSU-authorisation endpoint the
IdP calls (never routed through API Gateway)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.orm import Session

from openbanking.common.bodies import parse_json, raw_body, validate_model
from openbanking.common.context import Caller, require_scope
from openbanking.common.errors import ErrorCode, OBIEError, bad_request, unknown_resource
from openbanking.common.interaction import interaction_id_of
from openbanking.events.models import EventType, ResourceUpdate
from openbanking.ledger import queries

from .access import AUTHORISATION_SCOPE, AccountsCaller
from .deps import Deps
from .permissions import validate_permissions
from .schemas import ConsentAuthorisation, ConsentRevocation, OBReadConsent1, OBReadConsentResponse1
from .store import AccessConsent, ConsentConflict, iso

log = logging.getLogger(__name__)
router = APIRouter()
internal_router = APIRouter()

AuthorisingCaller = Annotated[Caller, Depends(require_scope(AUTHORISATION_SCOPE))]


def _response(deps: Deps, consent: AccessConsent) -> OBReadConsentResponse1:
    return OBReadConsentResponse1.model_validate({
        "Data": consent.data(), "Risk": {},
        "Links": {"Self": deps.resource_url(f"/account-access-consents/{consent.consent_id}")}, "Meta": {}})


def _owned(deps: Deps, caller: Caller, consent_id: str) -> AccessConsent:
    consent = deps.consents.get(consent_id)
    if consent is None or consent.deleted:
        raise unknown_resource("Account access consent", "ConsentId")
    if consent.tpp_id != caller.tpp_id:
        raise OBIEError.of(403, ErrorCode.RESOURCE_CONSENT_MISMATCH, "the consent belongs to another TPP")
    return consent


def _check_dates(body: OBReadConsent1, now: datetime) -> None:
    data = body.Data
    if data.ExpirationDateTime is not None and data.ExpirationDateTime <= now:
        raise bad_request(ErrorCode.FIELD_INVALID_DATE, "ExpirationDateTime must be in the future",
                          "Data.ExpirationDateTime")
    if (data.TransactionFromDateTime is not None and data.TransactionToDateTime is not None
            and data.TransactionFromDateTime > data.TransactionToDateTime):
        raise bad_request(ErrorCode.FIELD_INVALID_DATE, "TransactionFromDateTime must not be after "
                          "TransactionToDateTime", "Data.TransactionFromDateTime")


def _as_sent(value: datetime | None) -> str | None:
    """The ASPSP must not change ExpirationDateTime (or the transaction window): keep the TPP's instant and offset."""
    return value.isoformat() if value is not None else None


@router.post("/account-access-consents", status_code=201, response_model=OBReadConsentResponse1,
             response_model_exclude_none=True)
def create_consent(caller: AccountsCaller, deps: Deps, raw: Annotated[bytes, Depends(raw_body)]) -> OBReadConsentResponse1:
    body = validate_model(OBReadConsent1, parse_json(raw))  # after authentication: a 401 comes first
    permissions = validate_permissions(body.Data.Permissions)
    _check_dates(body, deps.now())
    consent = deps.consents.create(caller.tpp_id, caller.client_id, [p.value for p in permissions],
                                   _as_sent(body.Data.ExpirationDateTime), _as_sent(body.Data.TransactionFromDateTime),
                                   _as_sent(body.Data.TransactionToDateTime))
    return _response(deps, consent)


@router.get("/account-access-consents/{ConsentId}", response_model=OBReadConsentResponse1,
            response_model_exclude_none=True)
def get_consent(caller: AccountsCaller, deps: Deps,
                consent_id: str = Path(alias="ConsentId", min_length=1, max_length=128)) -> OBReadConsentResponse1:
    return _response(deps, _owned(deps, caller, consent_id))


@router.delete("/account-access-consents/{ConsentId}", status_code=204, response_class=Response)
def delete_consent(request: Request, caller: AccountsCaller, deps: Deps,
                   consent_id: str = Path(alias="ConsentId", min_length=1, max_length=128)) -> Response:
    """The TPP withdraws its own consent: it knows, so no consent-authorization-revoked event is raised (that event
    tells a TPP of the PSU's revocation at the bank, see `revoke_consent`)."""
    consent = _owned(deps, caller, consent_id)
    try:
        deps.consents.delete(consent, interaction_id_of(request))
    except ConsentConflict:
        raise unknown_resource("Account access consent", "ConsentId") from None
    return Response(status_code=204)


@internal_router.post("/internal/aisp/account-access-consents/{ConsentId}/authorisation", status_code=204,
                      response_class=Response, include_in_schema=False)
def authorise_consent(body: ConsentAuthorisation, deps: Deps,
                      _caller: AuthorisingCaller,
                      consent_id: str = Path(alias="ConsentId", min_length=1, max_length=128)) -> Response:
    """The PSU's decision, reported by the IdP: Authorised (with the accounts the PSU selected) or Rejected."""
    consent = deps.consents.get(consent_id)
    if consent is None or consent.deleted:
        raise unknown_resource("Account access consent", "ConsentId")
    if consent.status != "AwaitingAuthorisation":
        raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                          f"the consent is {consent.status}; only AwaitingAuthorisation consents can be decided")
    account_ids = list(dict.fromkeys(body.AccountIds))
    if body.Status == "Authorised":
        if consent.expired(deps.now()):
            raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS, "the consent expired before it was authorised")
        with deps.session() as session:
            _check_accounts(session, body.PsuId, account_ids)
    else:
        account_ids = []
    try:
        deps.consents.decide(consent, body.Status, body.PsuId, account_ids)
    except ConsentConflict as exc:
        status = exc.consent.status if exc.consent and not exc.consent.deleted else "deleted"
        raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                          f"the consent is {status}; only AwaitingAuthorisation consents can be decided") from None
    log.info("consent %s %s by %s at %s", consent_id, body.Status, body.PsuId, iso(deps.now()))
    return Response(status_code=204)


@internal_router.post("/internal/aisp/account-access-consents/{ConsentId}/revocation", status_code=204,
                      response_class=Response, include_in_schema=False)
def revoke_consent(request: Request, body: Annotated[bytes, Depends(raw_body)], deps: Deps,
                   _caller: AuthorisingCaller,
                   consent_id: str = Path(alias="ConsentId", min_length=1, max_length=128)) -> Response:
    """The PSU revokes an Authorised consent at the bank: it becomes Revoked and its TPP is told with a
    consent-authorization-revoked event (through the outbox where deployed, the publisher in the sandbox)."""
    revocation = validate_model(ConsentRevocation, parse_json(body))
    consent = deps.consents.get(consent_id)
    if consent is None or consent.deleted or consent.psu_id != revocation.PsuId:
        raise unknown_resource("Account access consent", "ConsentId")
    try:
        revoked = deps.consents.revoke(consent, interaction_id_of(request))
    except ConsentConflict as exc:
        status = exc.consent.status if exc.consent and not exc.consent.deleted else "deleted"
        raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS,
                          f"the consent is {status}; only an Authorised consent can be revoked", "ConsentId") from None
    if deps.publisher is not None:
        subject = ResourceUpdate.of(revoked.consent_id, "account-access-consent",
                                    deps.resource_url(f"/account-access-consents/{revoked.consent_id}"))
        try:
            deps.publisher.publish(revoked.tpp_id, EventType.CONSENT_AUTHORIZATION_REVOKED.value, subject)
        except Exception:  # the revocation stands; the event is best effort and its failure is visible in logs
            log.exception("could not publish the revocation of consent %s", revoked.consent_id)
    log.info("consent %s revoked by %s", consent_id, revocation.PsuId)
    return Response(status_code=204)


def _check_accounts(session: Session, psu_id: str, account_ids: list[str]) -> None:
    if not account_ids:
        raise bad_request(ErrorCode.FIELD_MISSING, "an authorisation must name at least one account", "AccountIds")
    if not queries.psu_exists(session, psu_id):
        raise bad_request(ErrorCode.FIELD_INVALID, f"PSU {psu_id} is not a customer", "PsuId")
    foreign = sorted(set(account_ids) - queries.account_ids_of_psu(session, psu_id))
    if foreign:
        raise bad_request(ErrorCode.FIELD_INVALID, f"accounts {', '.join(foreign)} are not accounts of {psu_id}",
                          "AccountIds")
