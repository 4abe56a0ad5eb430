"""Engine and session factory of the ledger database (PostgreSQL through psycopg 3).

Locally the ledger is `OB_DATABASE_URL`. Deployed it is the Aurora cluster at `OB_DATABASE_HOST`: the services
log in as their role (`OB_DATABASE_USER`) with IAM database authentication, so no password exists anywhere: each
new connection gets a fresh token from `rds.generate_db_auth_token` (signed locally with the task role's
credentials, valid 15 minutes, only needed at connect time), over TLS that verifies the server against the RDS
certificate authorities (`sslmode=verify-full`, `OB_DATABASE_SSL_ROOT_CERT`). The `ledger_migrate` task connects
with the cluster's master credentials instead (:func:`owner_engine`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from openbanking.common.settings import ServiceSettings

_VERIFYING = ("verify-ca", "verify-full")


def create_ledger_engine(url: str | URL, *, pool_size: int = 10, connect_args: dict[str, Any] | None = None) -> Engine:
    """`pool_pre_ping` so a connection the database or a failover closed is replaced, not handed to a request."""
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800,
                         connect_args=connect_args or {})


def _tls(settings: ServiceSettings) -> dict[str, Any]:
    args: dict[str, Any] = {"sslmode": settings.database_ssl_mode}
    if settings.database_ssl_mode in _VERIFYING:
        if not Path(settings.database_ssl_root_cert).is_file():
            raise ValueError(f"OB_DATABASE_SSL_ROOT_CERT: {settings.database_ssl_root_cert} does not exist; "
                             f"sslmode {settings.database_ssl_mode} verifies the server against it")
        args["sslrootcert"] = settings.database_ssl_root_cert
    return args


def _cluster_url(settings: ServiceSettings, user: str, password: str | None = None) -> URL:
    return URL.create("postgresql+psycopg", username=user, password=password, host=settings.database_host,
                      port=settings.database_port, database=settings.database_name)


def install_iam_auth(engine: Engine, rds: Any, *, host: str, port: int, user: str, region: str) -> None:
    """Give every new connection of `engine` a fresh IAM authentication token as its password."""

    @event.listens_for(engine, "do_connect")
    def _fresh_token(dialect: Any, connection_record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["password"] = rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)


def engine_from_settings(settings: ServiceSettings, *, pool_size: int = 10, rds: Any = None) -> Engine:
    """The ledger as the services reach it: `OB_DATABASE_URL` locally; the cluster as `OB_DATABASE_USER` (with IAM
    authentication when `OB_DATABASE_IAM_AUTH`) when `OB_DATABASE_HOST` is set. `rds` overrides the RDS client
    that signs the tokens (tests)."""
    if not settings.database_host:
        return create_ledger_engine(settings.database_url, pool_size=pool_size)
    if not settings.database_user:
        raise ValueError("OB_DATABASE_USER: not set; with OB_DATABASE_HOST the services log in as their role "
                         "(ob_ledger_reader or ob_ledger_writer)")
    engine = create_ledger_engine(_cluster_url(settings, settings.database_user), pool_size=pool_size,
                                  connect_args=_tls(settings))
    if settings.database_iam_auth:
        if rds is None:
            import boto3

            rds = boto3.client("rds", region_name=settings.aws_region)
        install_iam_auth(engine, rds, host=settings.database_host, port=settings.database_port,
                         user=settings.database_user, region=settings.aws_region)
    return engine


def owner_engine(settings: ServiceSettings, username: str, password: str | None) -> Engine:
    """The cluster with its master credentials (the `ledger_migrate` task): same host, database and TLS."""
    if not settings.database_host:
        raise ValueError("OB_DATABASE_HOST: not set; the ledger_migrate task connects to the cluster's writer endpoint")
    return create_ledger_engine(_cluster_url(settings, username, password), pool_size=1, connect_args=_tls(settings))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)
