"""Connecting to the cache: plain `redis://` locally; on ElastiCache (Valkey or Redis OSS with RBAC and transit
encryption) `rediss://` as an IAM-enabled RBAC user.

IAM authentication sends, as the user's password, a SigV4-presigned `connect` request for the cache (the AWS
documentation's scheme: `https://<cache name>/?Action=connect&User=<user>`, service `elasticache`, valid 15
minutes, scheme stripped), signed with the task role's credentials; the role needs `elasticache:Connect` on the
cache and the user. A token is only checked when a connection authenticates, so :class:`ElastiCacheIamCredentials`
keeps one and renews it well before it expires; ElastiCache closes IAM-authenticated connections after 12 hours
and redis-py reconnects with a current token. The user's id and name must be the same (an ElastiCache rule for IAM
users).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import botocore.session
from botocore.model import ServiceId
from botocore.signers import RequestSigner
from redis import Redis
from redis.credentials import CredentialProvider

from .settings import ServiceSettings

#: How long ElastiCache accepts a token.
TOKEN_LIFETIME_SECONDS = 900
#: When a kept token is replaced: well inside its lifetime, so a connection never presents an expired one.
RENEW_AFTER_SECONDS = 600


class ElastiCacheIamCredentials(CredentialProvider):
    """redis-py credentials: (user, IAM token), the token renewed `renew_after` seconds after it was made."""

    def __init__(self, user: str, cache_name: str, region: str, *, serverless: bool = False,
                 session: botocore.session.Session | None = None, renew_after: float = RENEW_AFTER_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < renew_after < TOKEN_LIFETIME_SECONDS:
            raise ValueError(f"renew_after must be within the token's {TOKEN_LIFETIME_SECONDS} s lifetime")
        session = session or botocore.session.get_session()
        self.user = user
        self.cache_name = cache_name
        self.region = region
        self.serverless = serverless
        self.renew_after = renew_after
        self._signer = RequestSigner(ServiceId("elasticache"), region, "elasticache", "v4", session.get_credentials(),
                                     session.get_component("event_emitter"))
        self._clock = clock
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A fresh presigned `connect` request for the cache and user, without its scheme."""
        query: dict[str, str] = {"Action": "connect", "User": self.user}
        if self.serverless:
            query["ResourceType"] = "ServerlessCache"
        signed = self._signer.generate_presigned_url(
            {"method": "GET", "url": f"https://{self.cache_name}/?{urlencode(query)}", "body": {}, "headers": {},
             "context": {}}, operation_name="connect", expires_in=TOKEN_LIFETIME_SECONDS, region_name=self.region)
        if not signed:
            raise RuntimeError(f"no AWS credentials to sign the ElastiCache IAM token for {self.cache_name}")
        return signed.removeprefix("https://")

    def get_credentials(self) -> tuple[str, str]:
        with self._lock:
            now = self._clock()
            if self._token is None or now - self._token[1] >= self.renew_after:
                self._token = (self.token(), now)
            return self.user, self._token[0]


def redis_from_settings(settings: ServiceSettings, **options: Any) -> Redis:
    """The cache client of `OB_REDIS_URL`, as `OB_REDIS_USER` with IAM authentication when `OB_REDIS_IAM_AUTH`.
    `options` are redis-py connection options (timeouts, retry)."""
    if settings.redis_iam_auth:
        if urlsplit(settings.redis_url).scheme != "rediss":
            raise ValueError(f"OB_REDIS_URL: {settings.redis_url!r} must be rediss:// (TLS): IAM authentication "
                             "sends a bearer token")
        if not settings.redis_user or not settings.redis_cache_name:
            raise ValueError("OB_REDIS_USER and OB_REDIS_CACHE_NAME: both must be set for IAM authentication (the "
                             "RBAC user and the replication group the token is signed for)")
        options["credential_provider"] = ElastiCacheIamCredentials(
            settings.redis_user, settings.redis_cache_name, settings.aws_region, serverless=settings.redis_serverless)
    elif settings.redis_user:
        options["username"] = settings.redis_user
    return Redis.from_url(settings.redis_url, **options)
