"""Which `OB_*` variables a deployable needs in a deployed account, derived from the code rather than listed.

Each deployable's module (:attr:`~openbanking.deployables.Deployable.module`) names the settings classes it reads
in `SETTINGS`; each field whose default only suits local development carries
:class:`~openbanking.common.settings.Deployed` metadata saying for which deployables it matters. The
infrastructure's tests assert that every task definition and Lambda sets (in `environment` or `secrets`) every
name :func:`required_variables` returns, and puts every name of :func:`secret_variables` in `secrets`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic_settings import BaseSettings

from .common.settings import Deployed
from .deployables import DEPLOYABLES, Deployable

#: The core-banking feeds a deployable that `uses_feed` can be wired to.
FEEDS = ("msk", "rabbitmq")


@dataclass(frozen=True)
class Variable:
    """One environment variable a deployed deployable needs."""

    #: The variable, e.g. `OB_DATABASE_HOST`.
    name: str
    #: What it configures (the field's description).
    description: str
    #: Whether it must come from Secrets Manager.
    secret: bool
    #: The settings class it belongs to.
    settings: type[BaseSettings]


def settings_classes(deployable: Deployable) -> tuple[type[BaseSettings], ...]:
    """The settings classes the deployable's module declares it reads (`SETTINGS`)."""
    module = importlib.import_module(deployable.module)
    classes = getattr(module, "SETTINGS", None)
    if not isinstance(classes, tuple) or not all(isinstance(c, type) and issubclass(c, BaseSettings)
                                                 for c in classes):
        raise TypeError(f"{deployable.module}.SETTINGS must be a tuple of the settings classes it reads")
    return classes


def _env_name(settings: type[BaseSettings], field: str) -> str:
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def _markers(settings: type[BaseSettings]) -> Iterator[tuple[str, str, Deployed]]:
    for name, info in settings.model_fields.items():
        for marker in info.metadata:
            if isinstance(marker, Deployed):
                yield name, info.description or "", marker


def variables(deployable: str, *, feed: str | None = None) -> tuple[Variable, ...]:
    """Every variable `deployable` needs in a deployed account, sorted by name. `feed` (`msk` or `rabbitmq`) is
    required for a deployable that consumes the core-banking feed and refused for any other."""
    if deployable not in DEPLOYABLES:
        raise ValueError(f"deployable: {deployable!r} is not one of {', '.join(sorted(DEPLOYABLES))}")
    spec = DEPLOYABLES[deployable]
    if spec.uses_feed and feed not in FEEDS:
        raise ValueError(f"feed: {feed!r} must be one of {', '.join(FEEDS)} ({deployable} consumes the "
                         "core-banking feed)")
    if not spec.uses_feed and feed is not None:
        raise ValueError(f"feed: {feed!r} given, but {deployable} does not consume the core-banking feed")
    found: dict[str, Variable] = {}
    for settings in settings_classes(spec):
        for field, description, marker in _markers(settings):
            if marker.when is not None and not getattr(spec, marker.when):
                continue
            if marker.feed is not None and marker.feed != feed:
                continue
            name = _env_name(settings, field)
            found[name] = Variable(name, description, marker.secret, settings)
    return tuple(found[name] for name in sorted(found))


def required_variables(deployable: str, *, feed: str | None = None) -> frozenset[str]:
    """The env var names `deployable` needs in a deployed account (in `environment` or `secrets`)."""
    return frozenset(v.name for v in variables(deployable, feed=feed))


def secret_variables(deployable: str, *, feed: str | None = None) -> frozenset[str]:
    """The subset of :func:`required_variables` that must come from Secrets Manager (ECS `secrets`)."""
    return frozenset(v.name for v in variables(deployable, feed=feed) if v.secret)
