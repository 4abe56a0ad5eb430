"""FAPI and OBIE request rules that hold for every endpoint, applied once as ASGI middleware.

- `x-fapi-interaction-id` is echoed, or generated, on every response, errors included.
- `x-fapi-auth-date` must be an RFC 7231 HTTP-date naming a real instant (`Sun, 99 Sep 2017 99:99:99 GMT` is not
  one, nor is a weekday that is not the date's), `x-fapi-customer-ip-address` an IP address.
- A body that is not `application/json` is answered 415, an `Accept` that excludes JSON 406.

The middleware finds these problems but does not answer them itself: authentication comes first (behind API Gateway
the authorizer has already run), so a request with bad credentials and a bad optional header gets its 401. The
problem is kept in the request's state and raised by :func:`authenticated_fapi_headers`, a dependency `create_app`
puts on every router, which resolves the caller before it raises. Errors leave as `OBErrorResponse1` bodies, like
every other error of the services.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import CallerDep
from .errors import ErrorCode, OBIEError
from .interaction import INTERACTION_ID_HEADER, STATE_KEY

AUTH_DATE_HEADER = "x-fapi-auth-date"
CUSTOMER_IP_HEADER = "x-fapi-customer-ip-address"

_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
#: The spec's pattern for `x-fapi-auth-date` (an RFC 7231 IMF-fixdate).
AUTH_DATE_PATTERN = re.compile(rf"^({_DAYS}), \d{{2}} ({_MONTHS}) \d{{4}} \d{{2}}:\d{{2}}:\d{{2}} (GMT|UTC)$")

_DAY_NAMES: tuple[str, ...] = tuple(_DAYS.split("|"))
_MONTH_NAMES: tuple[str, ...] = tuple(_MONTHS.split("|"))

_BODY_METHODS = {"POST", "PUT", "PATCH"}
#: Where the middleware keeps a header problem in the ASGI scope's `state` for :func:`authenticated_fapi_headers`.
PROBLEM_KEY = "fapi_header_problem"


def auth_date_problem(value: str) -> str | None:
    """Why `value` is not a valid `x-fapi-auth-date`, or None: the spec's pattern, a real date and time, and the
    weekday of that date."""
    if not AUTH_DATE_PATTERN.match(value):
        return "x-fapi-auth-date must be an RFC 7231 HTTP-date such as 'Sun, 10 Sep 2017 19:43:31 UTC'"
    weekday, day, month, year, clock = value[:3], value[5:7], value[8:11], value[12:16], value[17:25]
    hour, minute, second = (int(part) for part in clock.split(":"))
    try:
        moment = datetime(int(year), _MONTH_NAMES.index(month) + 1, int(day), hour, minute, second)
    except ValueError:
        return f"x-fapi-auth-date {value!r} is not a real date and time"
    if _DAY_NAMES[moment.weekday()] != weekday:
        return f"x-fapi-auth-date {value!r}: {moment:%d %b %Y} is not a {weekday}"
    return None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def accepts(accept: str | None, media_type: str) -> bool:
    """Whether an `Accept` header admits `media_type` (absent or empty admits everything)."""
    if not accept or not accept.strip():
        return True
    kind = media_type.split("/", 1)[0]
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        candidate = parts[0].lower()
        if any(p.replace(" ", "").lower() in {"q=0", "q=0.0", "q=0.00", "q=0.000"} for p in parts[1:]):
            continue
        if candidate in {"*/*", f"{kind}/*", media_type}:
            return True
    return False


class FapiMiddleware:
    """Pure ASGI middleware (so streaming and background work stay untouched)."""

    def __init__(self, app: ASGIApp, body_media_types: Iterable[str] = ("application/json",),
                 response_media_types: Iterable[str] = ("application/json",),
                 exempt_paths: Iterable[str] = ("/health",)) -> None:
        self.app = app
        self.body_media_types = frozenset(m.lower() for m in body_media_types)
        self.response_media_types = tuple(m.lower() for m in response_media_types)
        self.exempt_paths = tuple(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        presented = headers.get(INTERACTION_ID_HEADER)
        interaction_id = presented if presented and _is_uuid(presented) else str(uuid.uuid4())
        scope.setdefault("state", {})[STATE_KEY] = interaction_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != INTERACTION_ID_HEADER.encode()]
                raw.append((INTERACTION_ID_HEADER.encode(), interaction_id.encode()))
                message["headers"] = raw
            await send(message)

        problem = None if scope.get("path", "").startswith(self.exempt_paths) else self._check(scope, headers, presented)
        if problem is not None:  # answered once the caller is authenticated (authenticated_fapi_headers)
            scope["state"][PROBLEM_KEY] = problem
        await self.app(scope, receive, send_with_id)

    def _check(self, scope: Scope, headers: dict[str, str], presented: str | None) -> tuple[int, str, str, str] | None:
        if presented is not None and not _is_uuid(presented):
            return 400, "UK.OBIE.Header.Invalid", "x-fapi-interaction-id must be an RFC 4122 UUID", INTERACTION_ID_HEADER
        auth_date = headers.get(AUTH_DATE_HEADER)
        if auth_date is not None and (problem := auth_date_problem(auth_date)):
            return 400, "UK.OBIE.Header.Invalid", problem, AUTH_DATE_HEADER
        customer_ip = headers.get(CUSTOMER_IP_HEADER)
        if customer_ip is not None:
            try:
                ipaddress.ip_address(customer_ip.strip())
            except ValueError:
                return 400, "UK.OBIE.Header.Invalid", "x-fapi-customer-ip-address must be an IPv4 or IPv6 address", \
                    CUSTOMER_IP_HEADER
        if not any(accepts(headers.get("accept"), m) for m in self.response_media_types):
            return 406, "UK.OBIE.Header.Invalid", \
                f"Accept must admit {' or '.join(self.response_media_types)}", "Accept"
        if scope.get("method", "GET").upper() in _BODY_METHODS:
            content_type = headers.get("content-type")
            has_body = content_type is not None or headers.get("content-length", "0") not in {"", "0"}
            if has_body and (content_type is None or _media_type(content_type) not in self.body_media_types):
                return 415, "UK.OBIE.Header.Invalid", \
                    f"Content-Type must be {' or '.join(sorted(self.body_media_types))}", "Content-Type"
        return None


def authenticated_fapi_headers(request: Request, _: CallerDep) -> None:
    """FastAPI dependency (on every router of `create_app`): once the caller is authenticated, answer the header
    problem the middleware found, if any."""
    problem = request.scope.get("state", {}).get(PROBLEM_KEY)
    if problem is not None:
        status, code, message, path = problem
        raise OBIEError.of(status, ErrorCode(code), message, path)
