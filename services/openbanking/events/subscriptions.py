"""`/event-subscriptions`: a TPP's one subscription (callback URL, event types, version), created, listed,
changed and deleted. POST and PUT bodies are signed (x-jws-signature)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import JSONResponse

from ..common.bodies import parse_json, raw_body, validate_model
from ..common.errors import ErrorCode, OBIEError, bad_request, unknown_resource
from ..common.links import EVENTS_BASE_PATH
from .callbacks import CallbackRefused, ResolutionFailed, vet_callback_url
from .deps import Deps, EventCaller, EventsDeps
from .models import (
    SUPPORTED_EVENT_TYPES,
    SUPPORTED_VERSIONS,
    OBEventSubscription1,
    OBEventSubscriptionResponse1,
    SubscriptionData,
)
from .store import Subscription, SubscriptionExists, new_subscription_id

router = APIRouter()
BASE_PATH = EVENTS_BASE_PATH


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked(data: SubscriptionData, deps: EventsDeps) -> tuple[str | None, tuple[str, ...] | None]:
    if data.Version not in SUPPORTED_VERSIONS:
        raise bad_request(ErrorCode.FIELD_INVALID, f"Version must be one of {', '.join(sorted(SUPPORTED_VERSIONS))}",
                          "Data.Version")
    types = None
    if data.EventTypes is not None:
        unsupported = sorted(set(data.EventTypes) - SUPPORTED_EVENT_TYPES)
        if unsupported:
            raise bad_request(ErrorCode.FIELD_INVALID, f"unsupported event types: {', '.join(unsupported)}",
                              "Data.EventTypes")
        types = tuple(dict.fromkeys(data.EventTypes))
    callback = data.CallbackUrl
    if callback is not None:
        parts = urlsplit(callback)
        secure = parts.scheme == "https" or (
            deps.allow_insecure_callbacks and parts.scheme == "http" and _is_loopback(parts.hostname or ""))
        if not parts.hostname or not secure or parts.query or parts.fragment or parts.username:
            raise bad_request(ErrorCode.FIELD_INVALID,
                              "CallbackUrl must be an https URL without query, fragment or credentials",
                              "Data.CallbackUrl")
        try:  # the delivery Lambda checks again, after its own resolution, and connects to what it checked
            vet_callback_url(callback, deps.name_resolver, allow_loopback=deps.allow_insecure_callbacks,
                             domains=deps.callback_domains)
        except (CallbackRefused, ResolutionFailed) as exc:
            raise bad_request(ErrorCode.FIELD_INVALID, f"CallbackUrl: {exc}", "Data.CallbackUrl") from None
        callback = callback.rstrip("/")
    return callback, types


def _document(sub: Subscription) -> dict[str, Any]:
    data: dict[str, Any] = {"EventSubscriptionId": sub.subscription_id, "Version": sub.version}
    if sub.callback_url is not None:
        data["CallbackUrl"] = sub.callback_url
    if sub.event_types is not None:
        data["EventTypes"] = list(sub.event_types)
    return data


def _link(deps: EventsDeps, subscription_id: str | None = None) -> str:
    base = f"{deps.base_url.rstrip('/')}{BASE_PATH}/event-subscriptions"
    return f"{base}/{subscription_id}" if subscription_id else base


def _owned(deps: EventsDeps, tpp_id: str, subscription_id: str) -> Subscription:
    sub = deps.subscriptions.get(subscription_id)
    if sub is None or sub.tpp_id != tpp_id:
        raise unknown_resource("event subscription", "EventSubscriptionId")
    return sub


@router.post("/event-subscriptions", status_code=201)
def create_subscription(caller: EventCaller, deps: Deps, body: Annotated[bytes, Depends(raw_body)],
                        x_jws_signature: Annotated[str | None, Header()] = None) -> JSONResponse:
    deps.verifier.verify(x_jws_signature, body, caller.tpp_id)
    request = validate_model(OBEventSubscription1, parse_json(body))
    callback, types = _checked(request.Data, deps)
    sub = Subscription(new_subscription_id(), caller.tpp_id, request.Data.Version, callback, types)
    try:
        deps.subscriptions.create(sub)
    except SubscriptionExists:
        existing = deps.subscriptions.of_tpp(caller.tpp_id)
        raise OBIEError.of(409, ErrorCode.FIELD_UNEXPECTED,
                           "this TPP already has an event subscription"
                           + (f" ({existing.subscription_id}); change it with PUT" if existing else "")) from None
    return JSONResponse({"Data": _document(sub), "Links": {"Self": _link(deps, sub.subscription_id)}, "Meta": {}},
                        status_code=201)


@router.get("/event-subscriptions")
def list_subscriptions(caller: EventCaller, deps: Deps) -> JSONResponse:
    sub = deps.subscriptions.of_tpp(caller.tpp_id)
    return JSONResponse({"Data": {"EventSubscription": [_document(sub)] if sub else []},
                         "Links": {"Self": _link(deps)}, "Meta": {}})


@router.put("/event-subscriptions/{EventSubscriptionId}")
def change_subscription(EventSubscriptionId: str, caller: EventCaller, deps: Deps,
                        body: Annotated[bytes, Depends(raw_body)],
                        x_jws_signature: Annotated[str | None, Header()] = None) -> JSONResponse:
    deps.verifier.verify(x_jws_signature, body, caller.tpp_id)
    request = validate_model(OBEventSubscriptionResponse1, parse_json(body))
    if request.Data.EventSubscriptionId != EventSubscriptionId:
        raise bad_request(ErrorCode.FIELD_INVALID, "Data.EventSubscriptionId must equal the id in the path",
                          "Data.EventSubscriptionId")
    current = _owned(deps, caller.tpp_id, EventSubscriptionId)
    callback, types = _checked(request.Data, deps)
    changed = Subscription(current.subscription_id, current.tpp_id, request.Data.Version, callback, types)
    deps.subscriptions.replace(changed)
    return JSONResponse({"Data": _document(changed), "Links": {"Self": _link(deps, changed.subscription_id)},
                         "Meta": {}})


@router.delete("/event-subscriptions/{EventSubscriptionId}", status_code=204)
def delete_subscription(EventSubscriptionId: str, caller: EventCaller, deps: Deps) -> Response:
    deps.subscriptions.delete(_owned(deps, caller.tpp_id, EventSubscriptionId))
    return Response(status_code=204)
