"""`create_app`: a FastAPI application with the OBIE error handlers, the FAPI middleware, a health
endpoint and the caller resolver, so each service only adds its routers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI, Request

from .context import Caller, gateway_caller
from .errors import install_error_handlers
from .fapi import FapiMiddleware


def create_app(title: str, routers: Iterable[tuple[str, APIRouter]], *,
               caller_resolver: Callable[[Request], Caller] = gateway_caller,
               lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
               body_media_types: Iterable[str] = ("application/json",)) -> FastAPI:
    """`routers` are (base path, router) pairs, e.g. ("/open-banking/v3.1/aisp", accounts.router)."""
    app = FastAPI(title=title, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.caller_resolver = caller_resolver
    install_error_handlers(app)
    app.add_middleware(FapiMiddleware, body_media_types=tuple(body_media_types))  # type: ignore[arg-type]

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """The load balancer's and the container's health check: the process answers."""
        return {"status": "ok"}

    for prefix, router in routers:
        app.include_router(router, prefix=prefix)
    return app
