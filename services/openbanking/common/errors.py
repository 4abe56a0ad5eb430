"""OBIE error bodies (`OBErrorResponse1`, v3.1.11) and the exception handlers that produce them.

Every error a service returns, from a failed validation to an unexpected exception, leaves as an
`OBErrorResponse1` carrying a `UK.OBIE.*` code and the request's `x-fapi-interaction-id`: a TPP never
sees a traceback or a bare framework error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .interaction import INTERACTION_ID_HEADER, interaction_id_of

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """The `OBError1.ErrorCode` values of v3.1.11 (x-namespaced-enum)."""

    FIELD_EXPECTED = "UK.OBIE.Field.Expected"
    FIELD_INVALID = "UK.OBIE.Field.Invalid"
    FIELD_INVALID_DATE = "UK.OBIE.Field.InvalidDate"
    FIELD_MISSING = "UK.OBIE.Field.Missing"
    FIELD_UNEXPECTED = "UK.OBIE.Field.Unexpected"
    HEADER_INVALID = "UK.OBIE.Header.Invalid"
    HEADER_MISSING = "UK.OBIE.Header.Missing"
    REAUTHENTICATE = "UK.OBIE.Reauthenticate"
    RESOURCE_CONSENT_MISMATCH = "UK.OBIE.Resource.ConsentMismatch"
    RESOURCE_INVALID_CONSENT_STATUS = "UK.OBIE.Resource.InvalidConsentStatus"
    RESOURCE_INVALID_FORMAT = "UK.OBIE.Resource.InvalidFormat"
    RESOURCE_NOT_FOUND = "UK.OBIE.Resource.NotFound"
    RULES_AFTER_CUT_OFF = "UK.OBIE.Rules.AfterCutOffDateTime"
    RULES_DUPLICATE_REFERENCE = "UK.OBIE.Rules.DuplicateReference"
    SIGNATURE_INVALID = "UK.OBIE.Signature.Invalid"
    SIGNATURE_INVALID_CLAIM = "UK.OBIE.Signature.InvalidClaim"
    SIGNATURE_MALFORMED = "UK.OBIE.Signature.Malformed"
    SIGNATURE_MISSING = "UK.OBIE.Signature.Missing"
    SIGNATURE_MISSING_CLAIM = "UK.OBIE.Signature.MissingClaim"
    SIGNATURE_UNEXPECTED = "UK.OBIE.Signature.Unexpected"
    UNEXPECTED_ERROR = "UK.OBIE.UnexpectedError"
    UNSUPPORTED_ACCOUNT_IDENTIFIER = "UK.OBIE.Unsupported.AccountIdentifier"
    UNSUPPORTED_ACCOUNT_SECONDARY_IDENTIFIER = "UK.OBIE.Unsupported.AccountSecondaryIdentifier"
    UNSUPPORTED_CURRENCY = "UK.OBIE.Unsupported.Currency"
    UNSUPPORTED_FREQUENCY = "UK.OBIE.Unsupported.Frequency"
    UNSUPPORTED_LOCAL_INSTRUMENT = "UK.OBIE.Unsupported.LocalInstrument"
    UNSUPPORTED_SCHEME = "UK.OBIE.Unsupported.Scheme"


@dataclass(frozen=True)
class ErrorDetail:
    """One `OBError1`: what is wrong, and where (`path`: the JSON path or header name)."""

    code: ErrorCode
    message: str
    path: str | None = None

    def body(self) -> dict[str, str]:
        out = {"ErrorCode": self.code.value, "Message": _clip(self.message, 500)}
        if self.path:
            out["Path"] = _clip(self.path, 500)  # OBError1.Path: maxLength 500
        return out


@dataclass
class OBIEError(Exception):
    """Raise anywhere in a request to answer with an `OBErrorResponse1`."""

    status: int
    errors: list[ErrorDetail]
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message or "; ".join(e.message for e in self.errors))

    @classmethod
    def of(cls, status: int, code: ErrorCode, message: str, path: str | None = None,
           headers: dict[str, str] | None = None) -> OBIEError:
        return cls(status, [ErrorDetail(code, message, path)], message, headers or {})


def bad_request(code: ErrorCode, message: str, path: str | None = None) -> OBIEError:
    return OBIEError.of(400, code, message, path)


def unknown_resource(kind: str, path: str) -> OBIEError:
    """OBIE answers an unknown resource id with 400, not 404 (read-write data API profile)."""
    return OBIEError.of(400, ErrorCode.RESOURCE_NOT_FOUND, f"{kind} does not exist", path)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_body(status: int, errors: list[ErrorDetail], interaction_id: str | None, message: str = "") -> dict[str, Any]:
    """The `OBErrorResponse1` document: `Code` is the HTTP status line, `Id` the interaction id."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "Code": _clip(f"{status} {phrase}", 40),
        "Message": _clip(message or errors[0].message, 500),
        "Errors": [e.body() for e in errors],
    }
    if interaction_id:
        body["Id"] = _clip(interaction_id, 40)
    return body


def error_response(request_or_id: Request | str | None, error: OBIEError) -> JSONResponse:
    interaction_id = (request_or_id if isinstance(request_or_id, str) or request_or_id is None
                      else interaction_id_of(request_or_id))
    headers = dict(error.headers)
    if interaction_id:
        headers[INTERACTION_ID_HEADER] = interaction_id
    return JSONResponse(error_body(error.status, error.errors, interaction_id, error.message),
                        status_code=error.status, headers=headers)


_MISSING_TYPES = {"missing", "missing_argument", "missing_keyword_argument"}


def _validation_errors(exc: RequestValidationError) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where, rest = (loc[0], loc[1:]) if loc else ("body", [])
        if where == "header":
            path = rest[0] if rest else "header"
            code = ErrorCode.HEADER_MISSING if err.get("type") in _MISSING_TYPES else ErrorCode.HEADER_INVALID
        else:
            path = ".".join(rest) if rest else where
            if err.get("type") in _MISSING_TYPES:
                code = ErrorCode.FIELD_MISSING
            elif err.get("type") in {"extra_forbidden"}:
                code = ErrorCode.FIELD_UNEXPECTED
            elif "date" in str(err.get("type", "")):
                code = ErrorCode.FIELD_INVALID_DATE
            else:
                code = ErrorCode.FIELD_INVALID
        details.append(ErrorDetail(code, str(err.get("msg", "is invalid")), path or None))
    return details or [ErrorDetail(ErrorCode.FIELD_INVALID, "request is invalid")]


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception a request can raise to an `OBErrorResponse1`."""

    async def on_obie_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OBIEError)
        return error_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = _validation_errors(exc)
        return error_response(request, OBIEError(400, details, "the request is not valid"))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        if status == 404:
            code, message = ErrorCode.RESOURCE_NOT_FOUND, "this endpoint is not implemented"
        elif status == 405:
            code, message = ErrorCode.FIELD_UNEXPECTED, "this method is not allowed on this endpoint"
        elif status == 401:
            code, message = ErrorCode.HEADER_INVALID, str(exc.detail or "not authenticated")
        else:
            code, message = ErrorCode.FIELD_INVALID, str(exc.detail or HTTPStatus(status).phrase)
        headers = dict(exc.headers or {})
        return error_response(request, OBIEError.of(status, code, message, headers=headers))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, OBIEError.of(500, ErrorCode.UNEXPECTED_ERROR, "an unexpected error occurred"))

    app.add_exception_handler(OBIEError, on_obie_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
