"""The shell of the sandbox's own web services (the CA, the IdP): what every service app has (OBIE error bodies,
request body limits, the interaction id on every response, `/health`) without the API routers' rule that every
route authenticates an OAuth caller, since these endpoints authenticate in their own ways."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

from openbanking.common.body_limits import BodyLimitMiddleware
from openbanking.common.errors import install_error_handlers
from openbanking.common.fapi import FapiMiddleware
from openbanking.common.metrics import RequestMetrics

#: The request bodies these endpoints take: JSON, OAuth token requests, OCSP requests.
BODY_MEDIA_TYPES = ("application/json", "application/x-www-form-urlencoded", "application/ocsp-request")


def sandbox_app(title: str, routers: Iterable[APIRouter], *,
                lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
                request_metrics: tuple[str, str] | None = None) -> FastAPI:
    """`request_metrics` is (environment, service) when each request is written as an embedded-metric line."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)  # type: ignore[arg-type]
    # for the interaction id on every response; its header problems are for the OBIE APIs and are not raised here
    app.add_middleware(FapiMiddleware, body_media_types=BODY_MEDIA_TYPES)  # type: ignore[arg-type]
    if request_metrics is not None:
        environment, service = request_metrics
        app.add_middleware(RequestMetrics, environment=environment, service=service)  # type: ignore[arg-type]

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for router in routers:
        app.include_router(router)
    return app
