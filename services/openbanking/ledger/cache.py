"""Read-through Redis cache of ledger reads, one Redis hash per account, invalidated as a whole.

Layout: `<prefix>acct:{<AccountId>}` is a hash holding an `_epoch` token and one field per cached read
(`balances`, `tx|<window>|<page>|<size>`, ...). The hash expires `ttl` seconds after it was created, so no
entry outlives the TTL; ingestion deletes the hash after it commits a change to the account.

The epoch closes the classic read-through race: a reader that loaded from PostgreSQL *before* an
ingestion commit must not store its stale result *after* the invalidation. A reader notes the epoch
before it loads and stores only if the hash still carries that epoch (an atomic Lua compare-and-set);
the invalidation removed the hash, so the late write is dropped. All keys of one script are in the same
hash, so it also works on Redis Cluster.

Redis trouble never fails a read: the cache is skipped and the ledger answers (logged).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")

_EPOCH = "_epoch"

#: Create the hash with a fresh epoch and its TTL if it does not exist; answer the current epoch.
_OPEN = """
if redis.call('HSETNX', KEYS[1], '_epoch', ARGV[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HGET', KEYS[1], '_epoch')
"""

#: Store a field only if the hash still carries the epoch the reader started with.
_STORE = """
if redis.call('HGET', KEYS[1], '_epoch') == ARGV[1] then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


def cache_prefix(environment: str) -> str:
    """The key prefix every writer and invalidator of one environment's ledger cache shares."""
    return f"ob:{environment}:ledger:"


class LedgerCache:
    """`get(account_id, field, loader)`: the cached value, or `loader()`'s (stored for next time)."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._open = redis.register_script(_OPEN)
        self._store = redis.register_script(_STORE)

    def key(self, account_id: str) -> str:
        # the braces make the account id the cluster hash tag
        return f"{self.prefix}acct:{{{account_id}}}"

    def get(self, account_id: str, field: str, loader: Callable[[], T]) -> T:
        key = self.key(account_id)
        try:
            epoch, cached = self.redis.hmget(key, [_EPOCH, field])  # type: ignore[misc]
            if epoch is not None and cached is not None:
                return json.loads(cached)
            if epoch is None:
                epoch = self._open(keys=[key], args=[uuid.uuid4().hex, self.ttl_seconds])
        except RedisError:
            log.warning("ledger cache unavailable; reading %s of %s from the ledger", field, account_id, exc_info=True)
            return loader()
        value = loader()
        try:
            self._store(keys=[key], args=[epoch, field, json.dumps(value, separators=(",", ":"))])
        except RedisError:
            log.warning("ledger cache unavailable; %s of %s not stored", field, account_id, exc_info=True)
        return value

    def invalidate(self, *account_ids: str) -> None:
        """Forget everything cached for these accounts. Raises `RedisError`: the caller decides whether a
        failed invalidation must be retried (ingestion does: it requeues the message)."""
        if account_ids:
            self.redis.delete(*(self.key(a) for a in account_ids))

    def cached_fields(self, account_id: str) -> set[str]:
        """What is cached for an account (for operators and tests)."""
        raw: dict[Any, Any] = self.redis.hgetall(self.key(account_id))  # type: ignore[assignment]
        return {(k.decode() if isinstance(k, bytes) else str(k)) for k in raw} - {_EPOCH}
