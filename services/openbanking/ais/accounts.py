"""`/accounts`, `/accounts/{AccountId}` and the per-account resources, read through the ledger cache."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request

from openbanking.common.errors import ErrorCode, bad_request, unknown_resource
from openbanking.ledger import queries
from openbanking.ledger.queries import TransactionWindow

from . import projection
from .access import ConsentAccess
from .deps import AisDeps, Deps
from .permissions import Permission as P
from .schemas import (
    OBReadAccount6,
    OBReadBalance1,
    OBReadBeneficiary5,
    OBReadDirectDebit2,
    OBReadParty2,
    OBReadProduct2,
    OBReadStandingOrder6,
    OBReadTransaction6,
    links_meta,
)

router = APIRouter()
T = TypeVar("T")

AccountIdPath = Path(alias="AccountId", min_length=1, max_length=40)


def _cached(deps: AisDeps, account_id: str, field: str, load: Callable[[Any], T]) -> T:
    def loader() -> T:
        with deps.session() as session:
            return load(session)
    return deps.cache.get(account_id, field, loader)


@router.get("/accounts", response_model=OBReadAccount6, response_model_exclude_none=True)
def get_accounts(request: Request, access: ConsentAccess, deps: Deps) -> dict[str, Any]:
    access.grants.require(P.READ_ACCOUNTS_BASIC, P.READ_ACCOUNTS_DETAIL)
    docs = [_cached(deps, account_id, "account", lambda s, a=account_id: queries.account(s, a))
            for account_id in access.consent.account_ids]
    return {"Data": {"Account": [projection.account(d, access.grants) for d in docs if d is not None]},
            **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}", response_model=OBReadAccount6, response_model_exclude_none=True)
def get_account(request: Request, access: ConsentAccess, deps: Deps, account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_ACCOUNTS_BASIC, P.READ_ACCOUNTS_DETAIL)
    doc = _cached(deps, access.account(account_id), "account", lambda s: queries.account(s, account_id))
    if doc is None:  # consented, but closed and removed from the ledger since
        raise unknown_resource("Account", "AccountId")
    return {"Data": {"Account": [projection.account(doc, access.grants)]}, **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}/balances", response_model=OBReadBalance1, response_model_exclude_none=True)
def get_balances(request: Request, access: ConsentAccess, deps: Deps, account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_BALANCES)
    docs = _cached(deps, access.account(account_id), "balances", lambda s: queries.balances(s, account_id))
    return {"Data": {"Balance": docs}, **links_meta(deps.url(request))}


def booking_time(value: str | None, name: str) -> datetime | None:
    """A booking-date filter: ISO 8601 date or date-time; any timezone is ignored (the spec says so), the
    wall-clock time is taken as UTC."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_request(ErrorCode.FIELD_INVALID_DATE, f"{name} must be an ISO 8601 date-time", name) from None
    return parsed.replace(tzinfo=UTC)


def _consent_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _page_url(deps: AisDeps, request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(page))]
    return f"{deps.settings.base_url.rstrip('/')}{request.url.path}?{urlencode(params)}"


@router.get("/accounts/{AccountId}/transactions", response_model=OBReadTransaction6, response_model_exclude_none=True)
def get_transactions(request: Request, access: ConsentAccess, deps: Deps, account_id: str = AccountIdPath,
                     from_booking: str | None = Query(None, alias="fromBookingDateTime"),
                     to_booking: str | None = Query(None, alias="toBookingDateTime"),
                     page: int = Query(1, ge=1, le=1_000_000)) -> dict[str, Any]:
    """Newest first, `page` of `settings.page_size`; the consent's transaction window and direction
    (Credits/Debits) bound what the filters can reach."""
    grants = access.grants
    grants.require(P.READ_TRANSACTIONS_BASIC, P.READ_TRANSACTIONS_DETAIL)
    access.account(account_id)
    query = TransactionWindow(booking_time(from_booking, "fromBookingDateTime"),
                              booking_time(to_booking, "toBookingDateTime"))
    if query.from_time and query.to_time and query.from_time > query.to_time:
        raise bad_request(ErrorCode.FIELD_INVALID_DATE, "fromBookingDateTime must not be after toBookingDateTime",
                          "fromBookingDateTime")
    window = TransactionWindow(_consent_time(access.consent.transaction_from),
                               _consent_time(access.consent.transaction_to), grants.transaction_direction())
    size = deps.settings.page_size
    field = f"tx|{window.key()}|{query.key()}|{page}|{size}"
    result = _cached(deps, account_id, field,
                     lambda s: queries.transactions_page(s, account_id, window, query, page, size))
    total_pages = max(1, math.ceil(result["Total"] / size))
    if page > total_pages:
        raise bad_request(ErrorCode.FIELD_INVALID, f"page {page} is beyond the last page ({total_pages})", "page")
    links: dict[str, str] = {"Self": deps.url(request), "First": _page_url(deps, request, 1),
                             "Last": _page_url(deps, request, total_pages)}
    if page > 1:
        links["Prev"] = _page_url(deps, request, page - 1)
    if page < total_pages:
        links["Next"] = _page_url(deps, request, page + 1)
    meta: dict[str, Any] = {"TotalPages": total_pages}
    for name in ("FirstAvailableDateTime", "LastAvailableDateTime"):
        if result[name]:
            meta[name] = result[name]
    return {"Data": {"Transaction": [projection.transaction(t, grants) for t in result["Transactions"]]},
            "Links": links, "Meta": meta}


@router.get("/accounts/{AccountId}/beneficiaries", response_model=OBReadBeneficiary5,
            response_model_exclude_none=True)
def get_beneficiaries(request: Request, access: ConsentAccess, deps: Deps,
                      account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_BENEFICIARIES_BASIC, P.READ_BENEFICIARIES_DETAIL)
    docs = _cached(deps, access.account(account_id), "beneficiaries", lambda s: queries.beneficiaries(s, account_id))
    return {"Data": {"Beneficiary": [projection.beneficiary(d, access.grants) for d in docs]},
            **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}/standing-orders", response_model=OBReadStandingOrder6,
            response_model_exclude_none=True)
def get_standing_orders(request: Request, access: ConsentAccess, deps: Deps,
                        account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_STANDING_ORDERS_BASIC, P.READ_STANDING_ORDERS_DETAIL)
    docs = _cached(deps, access.account(account_id), "standing-orders",
                   lambda s: queries.standing_orders(s, account_id))
    return {"Data": {"StandingOrder": [projection.standing_order(d, access.grants) for d in docs]},
            **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}/direct-debits", response_model=OBReadDirectDebit2,
            response_model_exclude_none=True)
def get_direct_debits(request: Request, access: ConsentAccess, deps: Deps,
                      account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_DIRECT_DEBITS)
    docs = _cached(deps, access.account(account_id), "direct-debits", lambda s: queries.direct_debits(s, account_id))
    return {"Data": {"DirectDebit": docs}, **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}/party", response_model=OBReadParty2, response_model_exclude_none=True)
def get_account_party(request: Request, access: ConsentAccess, deps: Deps,
                      account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_PARTY)
    doc = _cached(deps, access.account(account_id), "party", lambda s: queries.account_party(s, account_id))
    return {"Data": {"Party": doc} if doc else {}, **links_meta(deps.url(request))}


@router.get("/accounts/{AccountId}/product", response_model=OBReadProduct2, response_model_exclude_none=True)
def get_product(request: Request, access: ConsentAccess, deps: Deps, account_id: str = AccountIdPath) -> dict[str, Any]:
    access.grants.require(P.READ_PRODUCTS)
    doc = _cached(deps, access.account(account_id), "product", lambda s: queries.product(s, account_id))
    return {"Data": {"Product": [doc] if doc else []}, **links_meta(deps.url(request))}


@router.get("/party", response_model=OBReadParty2, response_model_exclude_none=True)
def get_psu_party(request: Request, access: ConsentAccess, deps: Deps) -> dict[str, Any]:
    """The PSU who authorised the consent (`ReadPartyPSU`); read straight from the ledger (not per account)."""
    access.grants.require(P.READ_PARTY_PSU)
    psu_id = access.consent.psu_id
    with deps.session() as session:
        doc = queries.psu_party(session, psu_id) if psu_id else None
    return {"Data": {"Party": doc} if doc else {}, **links_meta(deps.url(request))}
