"""Which caller resolver a service runs with: the gateway's verdict in AWS; in `local` auth mode the resolver
must be passed in (the sandbox builds it from its token verifier), so a misconfigured service refuses to start."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from .context import Caller, gateway_caller
from .settings import AuthMode, ServiceSettings


def resolve_caller(settings: ServiceSettings,
                   caller_resolver: Callable[[Request], Caller] | None) -> Callable[[Request], Caller]:
    if caller_resolver is not None:
        return caller_resolver
    if settings.auth_mode is AuthMode.GATEWAY:
        return gateway_caller
    raise ValueError("auth mode 'local' needs a caller_resolver (the sandbox passes its token verifier)")
