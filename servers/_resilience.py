"""Circuit breakers and read retries for the servers' upstream dependencies (SMTP, HTTP, databases).

A `Breaker` counts consecutive failures of one upstream; at `failures` it opens,
and for `reset_seconds` every call fails at once with `UpstreamUnavailable`
("SMTP server mail:587 unavailable; circuit open for 27 more seconds") instead
of waiting on a dependency that is down. Then one call is let through
(half-open): success closes the circuit, failure opens it again. The state
machine is purgatory's (sync and async, typed, optional Redis-shared state);
this wrapper adds a lock, because tools run in worker threads and purgatory's
in-memory breaker is not thread-safe, and the message with the time left.

`Breaker.read` retries an idempotent read with exponential backoff and jitter
(stamina) on the errors the caller names, each attempt through the breaker; an
open circuit is never retried. Writes go through `Breaker.call`: no retry, ever,
since a write that failed halfway may have happened.
"""

from __future__ import annotations

import functools
import math
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import stamina
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = [
    "DATABASE_CONNECTION_ERRORS",
    "Breaker",
    "BreakerGroup",
    "UpstreamUnavailable",
    "is_database_trouble",
    "is_sqlite_trouble",
    "read_method",
]

T = TypeVar("T")
P = ParamSpec("P")
ErrorTypes = type[Exception] | tuple[type[Exception], ...]

FAILURES = 5  # consecutive failures that open a circuit
RESET_SECONDS = 30.0  # how long it stays open before one call may try again
READ_ATTEMPTS = 3
READ_RETRY_SECONDS = 5.0  # all retries of one read give up after this long


class UpstreamUnavailable(ToolError):
    """An upstream's circuit is open: the call failed at once, without contacting it."""

    def __init__(self, upstream: str, retry_in: float, failures: int) -> None:
        self.upstream = upstream
        self.retry_in = retry_in
        seconds = max(1, math.ceil(retry_in))
        super().__init__(
            f"{upstream} unavailable; circuit open for {seconds} more seconds after {failures} failures in a row. "
            "Nothing was sent to it. Try again after that, or tell a person if it keeps happening."
        )


def _any_error(error: BaseException) -> bool:
    return isinstance(error, Exception)


class Breaker:
    """The circuit breaker of one upstream dependency, safe to share between threads and the event loop."""

    def __init__(
        self,
        upstream: str,
        *,
        failures: int = FAILURES,
        reset_seconds: float = RESET_SECONDS,
        is_failure: Callable[[BaseException], bool] = _any_error,
    ) -> None:
        """A closed breaker for `upstream`, the name its errors use (e.g. "SMTP server mail:587").

        Args:
            upstream: What the dependency is, as a person would name it.
            failures: Consecutive failures that open the circuit.
            reset_seconds: How long it stays open before one call may try again.
            is_failure: Which errors count against the upstream; the others (a refused
                recipient, a bad query, a cancelled call) pass through uncounted.
        """
        # Imported here: purgatory loads a Redis client on import (~0.1 s), paid only by servers with a breaker.
        from purgatory import SyncCircuitBreakerFactory
        from purgatory.domain.model import OpenedState

        self.upstream = upstream
        self.failures = failures
        self._opened: type[Exception] = OpenedState
        # purgatory counts an error unless an exclusion matches it; this one matches what is not a failure.
        factory = SyncCircuitBreakerFactory(
            default_threshold=failures,
            default_ttl=reset_seconds,
            exclude=[(BaseException, lambda error: not is_failure(error))],
        )
        self._breaker = factory.get_breaker(upstream)
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """closed, opened or half-opened."""
        return self._breaker.context.state

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a call try again (0 when it is not open)."""
        context = self._breaker.context
        if context.state != "opened" or context.opened_at is None:
            return 0.0
        return max(0.0, context.opened_at + context.ttl - time.time())

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run the block as one call to the upstream; an error the breaker counts is re-raised.

        Raises:
            UpstreamUnavailable: the circuit is open; the block did not run.
        """
        with self._lock:
            try:
                self._breaker.__enter__()
            except self._opened:
                raise UpstreamUnavailable(self.upstream, self.retry_in(), self.failures) from None
        # The call itself runs outside the lock: only the bookkeeping is serialized.
        try:
            yield
        except BaseException as error:
            with self._lock:
                self._breaker.__exit__(type(error), error, error.__traceback__)
            raise
        with self._lock:
            self._breaker.__exit__(None, None, None)

    def call(self, action: Callable[[], T]) -> T:
        """`action()` through the breaker, once (for writes)."""
        with self.guard():
            return action()

    def read(self, action: Callable[[], T], *, retry_on: ErrorTypes) -> T:
        """`action()`, an idempotent read, retried with backoff on `retry_on`, each attempt through the breaker.

        Raises:
            UpstreamUnavailable: the circuit is (or became) open; not retried.
        """
        for attempt in stamina.retry_context(
            on=retry_on, attempts=READ_ATTEMPTS, timeout=READ_RETRY_SECONDS, wait_initial=0.1, wait_max=1.0
        ):
            with attempt, self.guard():
                return action()
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


class BreakerGroup:
    """One breaker per key (a web host), for the most recently used `size` keys.

    A host that is down must not take every other host's fetches with it, and an
    agent fetching many hosts must not grow memory without bound: the least
    recently used breaker is forgotten (a forgotten open circuit starts closed).
    """

    def __init__(
        self,
        describe: Callable[[str], str],
        *,
        size: int = 512,
        failures: int = FAILURES,
        reset_seconds: float = RESET_SECONDS,
        is_failure: Callable[[BaseException], bool] = _any_error,
    ) -> None:
        """Breakers named `describe(key)`, each configured as `Breaker` is."""
        self._describe = describe
        self._size = size
        self._failures, self._reset_seconds, self._is_failure = failures, reset_seconds, is_failure
        self._breakers: OrderedDict[str, Breaker] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Breaker:
        with self._lock:
            breaker = self._breakers.get(key)
            if breaker is None:
                breaker = self._breakers[key] = Breaker(
                    self._describe(key),
                    failures=self._failures,
                    reset_seconds=self._reset_seconds,
                    is_failure=self._is_failure,
                )
                if len(self._breakers) > self._size:
                    self._breakers.popitem(last=False)
            else:
                self._breakers.move_to_end(key)
            return breaker


class _HasBreaker(Protocol):
    breaker: Breaker


Owner = TypeVar("Owner", bound=_HasBreaker)


def read_method(
    *, retry_on: ErrorTypes
) -> Callable[[Callable[Concatenate[Owner, P], T]], Callable[Concatenate[Owner, P], T]]:
    """Make a method an idempotent read through its object's `breaker` (see `Breaker.read`)."""

    def decorate(method: Callable[Concatenate[Owner, P], T]) -> Callable[Concatenate[Owner, P], T]:
        @functools.wraps(method)
        def read(owner: Owner, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return owner.breaker.read(lambda: method(owner, *args, **kwargs), retry_on=retry_on)

        return read

    return decorate


# The connection failed or broke: a read may try again (a constraint or a bad query would fail the same way).
DATABASE_CONNECTION_ERRORS = (OperationalError, InterfaceError)


def is_database_trouble(error: BaseException) -> bool:
    """The database could not be reached or broke the connection (not: a constraint, a bad query)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_sqlite_trouble(error: BaseException) -> bool:
    """SQLite could not open or read the file (the query's own errors are reported otherwise)."""
    return isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
        error, sqlite3.IntegrityError | sqlite3.ProgrammingError
    )
