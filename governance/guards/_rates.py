"""Rate limits through the `limits` library, in memory or in Redis.

A rate of up to `MOVING_WINDOW_MAX` calls per window uses the moving window:
exact (no burst at a window's edge), at one stored timestamp per call in the
window. Above that the fixed window is used: a constant-size counter, where a
burst of up to twice the rate across a boundary no longer matters and keeping
a hundred thousand timestamps per principal would (memory, and time per call).

In memory the library's synchronous storage is used straight from the event
loop: it holds a thread lock for microseconds and does no I/O, and it is
cheaper than the asyncio variant, whose expiry pass hops to a thread per key.
Redis goes through the asyncio storage (redis-py underneath), so a replica
waiting on Redis never blocks its event loop.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import limits
from limits import RateLimitItem
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError

from governance.errors import ConfigurationError, LimitsUnavailable
from governance.guards._counters import without_password

if TYPE_CHECKING:
    from limits.aio.strategies import RateLimiter as AsyncLimiter
    from limits.strategies import RateLimiter as SyncLimiter


def parse_rate(text: str, *, field: str) -> RateLimitItem:
    """A `limits` rate ('120/minute', '10 per second').

    Raises:
        ConfigurationError: the text is not a rate; names the policy field.
    """
    try:
        return limits.parse(text)
    except ValueError:
        raise ConfigurationError(
            f"policy {field}: {text!r} is not a rate; write it as '120/minute', '10/second' or '1000 per hour'"
        ) from None


def describe_rate(item: RateLimitItem) -> str:
    """'120 calls per minute', '10 calls per 5 seconds'."""
    calls = "1 call" if item.amount == 1 else f"{item.amount} calls"
    unit = item.GRANULARITY.name
    return f"{calls} per {unit}" if item.multiples == 1 else f"{calls} per {item.multiples} {unit}s"


MOVING_WINDOW_MAX = 1000


class RateLimiter:
    """Rate limits shared through the policy's `limits.rate.storage`."""

    def __init__(self, storage: str) -> None:
        self._where = without_password(storage)
        try:
            if storage.startswith("memory://"):
                from limits.storage import MemoryStorage
                from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

                memory = MemoryStorage()
                self._sync: tuple[SyncLimiter, SyncLimiter] | None = (
                    MovingWindowRateLimiter(memory),
                    FixedWindowRateLimiter(memory),
                )
                self._async: tuple[AsyncLimiter, AsyncLimiter] | None = None
            else:
                from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixed
                from limits.aio.strategies import MovingWindowRateLimiter as AsyncMoving
                from limits.storage import storage_from_string

                # "async+redis://...": the same URL the counters use, through redis-py, errors wrapped.
                async_url = storage if storage.startswith("async+") else f"async+{storage}"
                backend = storage_from_string(async_url, implementation="redispy", wrap_exceptions=True)
                self._sync, self._async = None, (AsyncMoving(backend), AsyncFixed(backend))
        except LimitsConfigurationError as error:
            raise ConfigurationError(f"policy limits.rate.storage: {storage!r} cannot be used: {error}") from None

    async def hit(self, item: RateLimitItem, *identifiers: str) -> float | None:
        """Count one request; None when it is within the limit, else the seconds until one is allowed.

        Raises:
            LimitsUnavailable: the shared storage cannot be reached.
        """
        strategy = 0 if item.amount <= MOVING_WINDOW_MAX else 1
        try:
            if self._sync is not None:
                limiter = self._sync[strategy]
                if limiter.hit(item, *identifiers):
                    return None
                reset_time = limiter.get_window_stats(item, *identifiers).reset_time
            else:
                assert self._async is not None
                async_limiter = self._async[strategy]
                if await async_limiter.hit(item, *identifiers):
                    return None
                reset_time = (await async_limiter.get_window_stats(item, *identifiers)).reset_time
        except StorageError as error:
            raise LimitsUnavailable(
                f"The shared rate-limit storage at {self._where} cannot be reached "
                f"({type(error.storage_error).__name__}), so calls are refused until it can be. Try again shortly."
            ) from None
        return max(0.0, reset_time - time.time())
