"""`POST /events`: aggregated polling (draft-ietf-secevent-http-poll as profiled by OBIE).

The TPP acknowledges what it received (`ack`), reports what it could not process (`setErrs`) and asks for
up to `maxEvents` more; both kinds of acknowledgement remove the event from its queue. With
`returnImmediately: false` the call waits (bounded) for an event to arrive.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ..common.bodies import parse_json, raw_body, validate_model
from .deps import Deps, EventCaller
from .models import OBEventPolling1

router = APIRouter()
log = logging.getLogger(__name__)
_LONG_POLL_STEP_SECONDS = 0.5


@router.post("/events")
async def poll_events(caller: EventCaller, deps: Deps, body: Annotated[bytes, Depends(raw_body)]) -> JSONResponse:
    request = validate_model(OBEventPolling1, parse_json(body))
    tpp_id = caller.tpp_id
    for jti, error in (request.setErrs or {}).items():
        log.warning("TPP %s could not process event %s: %s (%s)", tpp_id, jti, error.err, error.description)
    done = [*(request.ack or []), *(request.setErrs or {})]
    if done:
        await anyio.to_thread.run_sync(deps.events.remove, tpp_id, done)
    limit = deps.max_events if request.maxEvents is None else min(request.maxEvents, deps.max_events)
    pending, more = await anyio.to_thread.run_sync(deps.events.pending, tpp_id, limit)
    if not pending and limit > 0 and request.returnImmediately is False:
        deadline = time.monotonic() + deps.long_poll_seconds
        while not pending and time.monotonic() < deadline:
            await anyio.sleep(min(_LONG_POLL_STEP_SECONDS, max(deadline - time.monotonic(), 0)))
            pending, more = await anyio.to_thread.run_sync(deps.events.pending, tpp_id, limit)
    sets = {event.jti: deps.set_signer.sign(event.claims) for event in pending}
    return JSONResponse({"moreAvailable": more, "sets": sets})
