"""`create_app`: a FastAPI application with the OBIE error handlers, the FAPI middleware, a health
endpoint, the caller resolver and the service's dependency container, so each service only adds its routers.

Every service builds its container (`AisDeps`, `PisDeps`, `EventsDeps`: a frozen dataclass in `<service>/deps.py`)
in `build_app` and hands it here; it lives on `app.state.deps`, and routes reach it through the service's `Deps`
annotation (`deps: Deps`)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request

from .body_limits import BodyLimitMiddleware
from .context import Caller, gateway_caller
from .errors import install_error_handlers
from .fapi import FapiMiddleware, authenticated_fapi_headers
from .metrics import RequestMetrics

_heap_frozen = False


def freeze_startup_heap() -> None:
    """Move what start-up built (botocore's service models, pydantic schemas, routes: ~170k objects) out of the
    cyclic collector's reach, once per process. Otherwise every full collection walks all of it and stalls the
    request that triggered it by 60-80 ms on this class of machine (the services' p99); after freezing, a full
    collection sees only request garbage. Reference counting still frees frozen objects as usual."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


def _freezing(lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None
              ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def started(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            freeze_startup_heap()
            yield
            return
        async with lifespan(app):
            freeze_startup_heap()
            yield

    return started


def create_app(title: str, routers: Iterable[tuple[str, APIRouter]], *, deps: object = None,
               caller_resolver: Callable[[Request], Caller] = gateway_caller,
               lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
               body_media_types: Iterable[str] = ("application/json",),
               request_metrics: tuple[str, str] | None = None) -> FastAPI:
    """`routers` are (base path, router) pairs, e.g. ("/open-banking/v3.1/aisp", accounts.router): every route of
    them authenticates its caller (`caller_resolver`) before anything else is answered; `deps` is the
    service's dependency container (`app.state.deps`); `request_metrics` is (environment, service) when each
    request is to be written as an embedded-metric line (:mod:`openbanking.common.metrics`)."""
    app = FastAPI(title=title, lifespan=_freezing(lifespan), docs_url=None, redoc_url=None)
    app.state.caller_resolver = caller_resolver
    app.state.deps = deps
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)  # type: ignore[arg-type]  # inside FAPI's: its refusals carry the id
    app.add_middleware(FapiMiddleware, body_media_types=tuple(body_media_types))  # type: ignore[arg-type]
    if request_metrics is not None:  # outermost: it times the whole request, error handling included
        environment, service = request_metrics
        app.add_middleware(RequestMetrics, environment=environment, service=service)  # type: ignore[arg-type]

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """The load balancer's and the container's health check: the process answers."""
        return {"status": "ok"}

    for prefix, router in routers:  # every route authenticates its caller before FAPI header problems are answered
        app.include_router(router, prefix=prefix, dependencies=[Depends(authenticated_fapi_headers)])
    return app
