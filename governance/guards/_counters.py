"""Counters for call budgets and loop detection: in memory, or in Redis so replicas share them.

Two kinds, both keyed by a tuple of strings and both measured on the caller's
clock (so tests can move time, and every replica agrees on when an hour ends):

- `count`: a counter that lives `ttl` seconds from its first increment; it
  returns the new count and how many seconds it has left (budgets).
- `recent`: records one event now and returns how many events fell within the
  last `window` seconds (loop detection: a sliding window, exact).

Redis is spoken to with redis-py directly rather than through the `limits`
library's storage: that API is built for rate limits on its own clock (it takes
`time.time()` itself and answers yes/no), while budgets need a counter with a
known reset time and loops need a count, both on the guard's clock. redis-py is
the client `limits` itself uses for Redis here, so it is one client library.
"""

from __future__ import annotations

import secrets
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from governance.errors import ConfigurationError, LimitsUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

Key = tuple[str, ...]
SWEEP_EVERY = 60.0  # seconds of clock time between sweeps of expired memory entries
REDIS_PREFIX = "mcpgov:limits:"


class Counters(Protocol):
    """Where budget and loop counts live."""

    async def count(self, key: Key, *, ttl: float, now: float) -> tuple[int, float]:
        """Add one to the counter at `key` (created with `ttl` seconds to live); return it and its seconds left."""
        ...

    async def recent(self, key: Key, *, window: float, now: float) -> int:
        """Record an event at `now` and return how many events at `key` are within the last `window` seconds."""
        ...

    async def aclose(self) -> None:
        """Release connections, if any."""
        ...


class MemoryCounters:
    """Counters in this process: plain dicts and deques, swept of expired entries once a minute."""

    def __init__(self) -> None:
        self._counts: dict[Key, list[float]] = {}  # key -> [count, expires_at]
        self._events: dict[Key, deque[float]] = {}
        self._windows: dict[Key, float] = {}  # each event key's window, for the sweep
        self._next_sweep = 0.0

    async def count(self, key: Key, *, ttl: float, now: float) -> tuple[int, float]:
        self._maybe_sweep(now)
        entry = self._counts.get(key)
        if entry is None or entry[1] <= now:
            entry = self._counts[key] = [0, now + ttl]
        entry[0] += 1
        return int(entry[0]), entry[1] - now

    async def recent(self, key: Key, *, window: float, now: float) -> int:
        self._maybe_sweep(now)
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            self._windows[key] = window
        horizon = now - window
        while events and events[0] <= horizon:
            events.popleft()
        events.append(now)
        return len(events)

    async def aclose(self) -> None:
        return None

    def _maybe_sweep(self, now: float) -> None:
        # Amortized: one pass a minute keeps memory bounded by the keys active in the last window.
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        for key in [key for key, (_, expires_at) in self._counts.items() if expires_at <= now]:
            del self._counts[key]
        for key, events in list(self._events.items()):
            if not events or events[-1] <= now - self._windows[key]:
                del self._events[key]
                del self._windows[key]


class RedisCounters:
    """Counters in Redis, shared by every process that names the same server."""

    def __init__(self, url: str) -> None:
        # Imported here: a deployment without Redis never loads the client.
        try:
            from redis.asyncio import Redis
        except ImportError:
            raise ConfigurationError(
                f"policy limits.rate.storage is {without_password(url)!r}, but the Redis client is not installed; "
                "install it (pip install 'mcpgov[redis]') or use memory://"
            ) from None

        self._redis: Redis = Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        self._where = without_password(url)

    async def count(self, key: Key, *, ttl: float, now: float) -> tuple[int, float]:
        name = _redis_key("count", key)
        ttl_ms = max(1, int(ttl * 1000))
        replies = await self._run(
            lambda pipe: pipe.set(name, 0, px=ttl_ms, nx=True).incr(name).pttl(name),
        )
        count, left_ms = int(replies[1]), int(replies[2])
        return count, (left_ms / 1000 if left_ms > 0 else ttl)

    async def recent(self, key: Key, *, window: float, now: float) -> int:
        name = _redis_key("recent", key)
        member = f"{now!r}:{secrets.token_hex(4)}"  # unique, so two events at the same instant both count
        replies = await self._run(
            lambda pipe: (
                pipe.zremrangebyscore(name, "-inf", now - window)
                .zadd(name, {member: now})
                .zcard(name)
                .pexpire(name, max(1, int(window * 1000)))
            ),
        )
        return int(replies[2])

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _run(self, build: Any) -> list[Any]:
        from redis.exceptions import RedisError

        try:
            # MULTI/EXEC: each read-modify-count is atomic against other replicas.
            async with self._redis.pipeline(transaction=True) as pipe:
                build(pipe)
                return list(await pipe.execute())
        except (RedisError, OSError) as error:
            raise LimitsUnavailable(
                f"The shared limit counters at {self._where} cannot be reached ({type(error).__name__}), so "
                "calls are refused until they can be. Try again shortly; an operator should check Redis."
            ) from None


def _redis_key(kind: str, key: Key) -> str:
    # A JSON array is unambiguous whatever the parts hold (session ids and principals are caller-chosen).
    return f"{REDIS_PREFIX}{kind}:{orjson.dumps(key).decode()}"


def without_password(url: str) -> str:
    """The URL as it may appear in a message: credentials removed."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def open_counters(storage: str) -> Counters:
    """Counters for a `limits.rate.storage` URL: `memory://`, or `redis://` / `rediss://`."""
    if storage.startswith(("redis://", "rediss://", "unix://")):
        return RedisCounters(storage)
    return MemoryCounters()
