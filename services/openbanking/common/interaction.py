"""The FAPI interaction id of a request (`x-fapi-interaction-id`): set once by the FAPI middleware, read by the
error handlers and by code that ties a change to the interaction that caused it (events' `txn`)."""

from __future__ import annotations

from starlette.requests import Request

INTERACTION_ID_HEADER = "x-fapi-interaction-id"
#: Where the middleware keeps the id in the ASGI scope's `state`.
STATE_KEY = "fapi_interaction_id"


def interaction_id_of(request: Request) -> str | None:
    """The interaction id this request is answered with (set by :class:`~openbanking.common.fapi.FapiMiddleware`)."""
    value = request.scope.get("state", {}).get(STATE_KEY)
    return value if isinstance(value, str) else None
