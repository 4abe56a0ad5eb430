"""Request bodies read as raw bytes first (a detached JWS signs the exact bytes), then parsed and validated
into a model, with the same `OBErrorResponse1` errors FastAPI's own validation produces."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from .body_limits import MAX_JSON_DEPTH, json_nesting_exceeds
from .errors import ErrorCode, bad_request

M = TypeVar("M", bound=BaseModel)


async def raw_body(request: Request) -> bytes:
    """FastAPI dependency: the body exactly as received."""
    return await request.body()


def parse_json(body: bytes) -> Any:
    """The JSON document of a body. The services' `BodyLimitMiddleware` has already refused bodies too large or too
    deeply nested; a nesting deep enough to exhaust the parser's recursion is refused here too, never a 500."""
    if not body:
        raise bad_request(ErrorCode.FIELD_MISSING, "the request has no body", "body")
    if json_nesting_exceeds(body):
        raise bad_request(ErrorCode.FIELD_INVALID,
                          f"the JSON body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels", "body")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(ErrorCode.FIELD_INVALID, "the body is not valid JSON", "body") from None


def validate_model(model: type[M], document: Any) -> M:
    """`document` as `model`; errors carry the JSON path of each offending field."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None
