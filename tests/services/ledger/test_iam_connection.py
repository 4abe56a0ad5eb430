"""The ledger as the services reach it in a deployed account: the cluster's host, the service's role, a fresh IAM
authentication token per new connection, TLS verifying the server. Against the real PostgreSQL (which ignores the
password under trust authentication and has no TLS here, so the real connections run with sslmode=disable; the
verify-full parameters are checked where libpq receives them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from sqlalchemy import event, text

from openbanking.common.settings import ServiceSettings
from openbanking.ledger.db import engine_from_settings
from tests.services.ledger.support import ledger_database


class CountingRds:
    """boto3's RDS client, counting the tokens it signs."""

    def __init__(self) -> None:
        self.client = boto3.client("rds", region_name="eu-west-2", aws_access_key_id="AKIDEXAMPLE",
                                   aws_secret_access_key="secret")
        self.tokens: list[str] = []

    def generate_db_auth_token(self, **params: Any) -> str:
        token = self.client.generate_db_auth_token(**params)
        self.tokens.append(token)
        return token


def cluster_settings(database: str, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {"database_host": "127.0.0.1", "database_port": 5432, "database_name": database,
                              "database_user": "postgres", "database_iam_auth": True, "database_ssl_mode": "disable",
                              "aws_region": "eu-west-2", **overrides}
    return ServiceSettings(**values)


def test_every_new_connection_gets_a_fresh_token_for_its_host_port_and_user() -> None:
    rds = CountingRds()
    with ledger_database("iam") as admin:
        engine = engine_from_settings(cluster_settings(str(admin.url.database)), pool_size=2, rds=rds)
        try:
            first, second = engine.connect(), engine.connect()  # two physical connections
            assert first.execute(text("SELECT current_user")).scalar() == "postgres"
            first.close()
            with engine.connect() as reused:  # from the pool: no new token
                reused.execute(text("SELECT 1"))
            second.close()
            engine.dispose()
            with engine.connect() as fresh:
                fresh.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    assert len(rds.tokens) == 3, "one token per physical connection, none for a pooled one"
    token = urlsplit(f"https://{rds.tokens[0]}")
    query = parse_qs(token.query)
    assert (token.hostname, token.port) == ("127.0.0.1", 5432)
    assert query["Action"] == ["connect"] and query["DBUser"] == ["postgres"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["900"]
    assert "/eu-west-2/rds-db/aws4_request" in query["X-Amz-Credential"][0]


class Captured(Exception):
    pass


def connect_parameters(settings: ServiceSettings) -> dict[str, Any]:
    """What libpq would be given for a new connection (captured after the IAM hook, before connecting)."""
    engine = engine_from_settings(settings, rds=CountingRds())
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise Captured

    with pytest.raises(Captured):
        engine.connect()
    return seen


def test_deployed_connections_verify_the_server_against_the_rds_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "rds-global-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    seen = connect_parameters(ServiceSettings(database_host="ledger.cluster-abc.eu-west-2.rds.amazonaws.com",
                                              database_name="ledger", database_user="ob_ledger_reader",
                                              database_iam_auth=True, database_ssl_root_cert=str(bundle)))
    assert seen["sslmode"] == "verify-full" and seen["sslrootcert"] == str(bundle)
    assert seen["host"] == "ledger.cluster-abc.eu-west-2.rds.amazonaws.com" and seen["dbname"] == "ledger"
    assert seen["user"] == "ob_ledger_reader"
    assert seen["password"].startswith("ledger.cluster-abc.eu-west-2.rds.amazonaws.com:5432/?Action=connect")


def test_a_missing_ca_bundle_or_user_is_a_named_configuration_error() -> None:
    with pytest.raises(ValueError, match=r"^OB_DATABASE_SSL_ROOT_CERT: /nonexistent/ca.pem does not exist"):
        engine_from_settings(ServiceSettings(database_host="db.example", database_user="ob_ledger_reader",
                                             database_ssl_root_cert="/nonexistent/ca.pem"))
    with pytest.raises(ValueError, match=r"^OB_DATABASE_USER: not set"):
        engine_from_settings(ServiceSettings(database_host="db.example"))


def test_locally_the_database_url_still_decides() -> None:
    settings = ServiceSettings(database_url="postgresql+psycopg://someone@127.0.0.1:5432/elsewhere")
    assert engine_from_settings(settings).url.render_as_string() == settings.database_url
