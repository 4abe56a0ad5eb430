"""The cache as the services reach it on ElastiCache: an RBAC user authenticating with a SigV4 IAM token, kept and
renewed inside its 15-minute validity. Against the real Redis: an ACL user whose password is exactly the token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import botocore.session
import pytest
from redis import Redis
from redis.exceptions import AuthenticationError

from openbanking.common.redis_connection import ElastiCacheIamCredentials, redis_from_settings
from openbanking.common.settings import ServiceSettings
from tests.services.ledger.support import REDIS_URL


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def session() -> botocore.session.Session:
    value = botocore.session.Session()
    value.set_credentials("AKIDEXAMPLE", "secret", "session-token")
    return value


def credentials(clock: Clock, **options: object) -> ElastiCacheIamCredentials:
    return ElastiCacheIamCredentials("ob-ais", "ob-dev-cache", "eu-west-2", session=session(), clock=clock,
                                     **options)  # type: ignore[arg-type]


def test_the_token_is_a_presigned_connect_for_the_cache_and_user() -> None:
    user, token = credentials(Clock()).get_credentials()
    assert user == "ob-ais" and not token.startswith("https://")
    parts = urlsplit(f"https://{token}")
    query = parse_qs(parts.query)
    assert parts.hostname == "ob-dev-cache" and parts.path == "/"
    assert query["Action"] == ["connect"] and query["User"] == ["ob-ais"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["900"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/") and \
        query["X-Amz-Credential"][0].endswith("/eu-west-2/elasticache/aws4_request")
    assert query["X-Amz-Security-Token"] == ["session-token"] and len(query["X-Amz-Signature"][0]) == 64
    assert "ResourceType" not in query
    serverless = parse_qs(urlsplit(f"https://{credentials(Clock(), serverless=True).token()}").query)
    assert serverless["ResourceType"] == ["ServerlessCache"]


def test_the_token_is_kept_then_renewed_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    provider = credentials(clock, renew_after=600)
    made = iter(f"token-{n}" for n in range(10))
    monkeypatch.setattr(provider, "token", lambda: next(made))
    assert provider.get_credentials() == ("ob-ais", "token-0")
    clock.now += 599
    assert provider.get_credentials()[1] == "token-0", "kept while young"
    clock.now += 1
    assert provider.get_credentials()[1] == "token-1", "renewed 10 minutes in, 5 before ElastiCache would refuse it"
    assert provider.get_credentials()[1] == "token-1"
    with pytest.raises(ValueError, match="lifetime"):
        credentials(clock, renew_after=900)


@pytest.fixture
def acl_user() -> Iterator[tuple[Redis, str]]:
    admin = Redis.from_url(REDIS_URL)
    name = f"ob-test-{uuid.uuid4().hex[:8]}"
    try:
        yield admin, name
    finally:
        admin.acl_deluser(name)
        admin.close()


def test_a_client_authenticates_as_the_user_with_the_token(acl_user: tuple[Redis, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    admin, name = acl_user
    clock = Clock()
    provider = ElastiCacheIamCredentials(name, "ob-dev-cache", "eu-west-2", session=session(), clock=clock)
    token = provider.get_credentials()[1]
    admin.acl_setuser(name, enabled=True, passwords=[f"+{token}"], keys=[f"ob:{name}:*"],
                      commands=["+ping", "+set", "+acl|whoami"])
    client = Redis.from_url(REDIS_URL, credential_provider=provider)
    assert client.acl_whoami() == name
    assert client.set(f"ob:{name}:k", "v")
    client.close()
    clock.now += 600
    monkeypatch.setattr(provider, "token", lambda: "a-renewed-token-the-acl-does-not-know")
    with pytest.raises(AuthenticationError):  # a new connection asks the provider again and sends what it says
        Redis.from_url(REDIS_URL, credential_provider=provider).ping()


def test_settings_select_iam_over_tls_only() -> None:
    iam = ServiceSettings(redis_url="rediss://master.ob-dev-cache.abc.euw2.cache.amazonaws.com:6379/0",
                          redis_user="ob-ais", redis_iam_auth=True, redis_cache_name="ob-dev-cache")
    client = redis_from_settings(iam)
    kwargs = client.connection_pool.connection_kwargs
    assert isinstance(kwargs["credential_provider"], ElastiCacheIamCredentials)
    assert kwargs["credential_provider"].cache_name == "ob-dev-cache"
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    with pytest.raises(ValueError, match=r"^OB_REDIS_URL: 'redis://cache:6379/0' must be rediss://"):
        redis_from_settings(ServiceSettings(redis_url="redis://cache:6379/0", redis_user="u", redis_iam_auth=True,
                                            redis_cache_name="c"))
    with pytest.raises(ValueError, match=r"^OB_REDIS_USER and OB_REDIS_CACHE_NAME"):
        redis_from_settings(ServiceSettings(redis_url="rediss://cache:6379/0", redis_iam_auth=True))
    local = redis_from_settings(ServiceSettings())
    assert "credential_provider" not in local.connection_pool.connection_kwargs
