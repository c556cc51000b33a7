"""Who has recently received untrusted content: the memory the untrusted-content guard consults.

Taint is kept per principal, with the session it came from. A session key alone
would not do: over stdio each server is its own process and there is no session id
at all; over HTTP each mounted server hands out its own ``Mcp-Session-Id``, so a page
fetched through ``/mcp/web_fetch`` and an e-mail sent through ``/mcp/notifications``
by the same agent carry different ones; and a client could simply open a fresh session
to shed the taint. The principal is the one key every server sees the same way and
the client cannot choose, so a taint holds for all of the principal's sessions until
it expires. That errs towards asking a reviewer more often, never less.

`DatabaseTaintStore` is what deployments use: a table next to the audit log and the
approvals, so a taint recorded by the web_fetch process holds in the notifications
process and in every replica. `MemoryTaintStore` is the same thing for one process
(tests, embedding without a database).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import anyio.to_thread
from sqlalchemy import Engine, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Field, SQLModel

from governance.audit._engine import write_transaction

DEFAULT_TAINT_TTL_SECONDS = 8 * 3600.0
"""A working day: injected text stays in the agent's context for the rest of its conversation."""


@dataclass(frozen=True, slots=True)
class Taint:
    """A principal received untrusted content from `source` (``server.tool``), in `session` if it had one."""

    principal: str
    source: str
    session: str | None
    marked_at: float
    expires_at: float


class TaintStore(Protocol):
    """Where taints live; both methods are awaited on the event loop."""

    async def mark(self, taint: Taint) -> None:
        """Record `taint`, replacing the principal's previous one (the newest source is the one named)."""
        ...

    async def find(self, principal: str, now: float) -> Taint | None:
        """The principal's taint if it has not expired at `now`."""
        ...


class MemoryTaintStore:
    """Taints in this process only."""

    def __init__(self) -> None:
        self._taints: dict[str, Taint] = {}

    async def mark(self, taint: Taint) -> None:
        self._taints[taint.principal] = taint

    async def find(self, principal: str, now: float) -> Taint | None:
        taint = self._taints.get(principal)
        return taint if taint is not None and taint.expires_at > now else None


class TaintRow(SQLModel, table=True):
    """A principal's most recent taint."""

    __tablename__ = "taint"

    principal: str = Field(primary_key=True)
    source: str
    session: str | None = None
    marked_at: float
    expires_at: float = Field(index=True)


TAINTS = cast(Table, TaintRow.__table__)  # type: ignore[attr-defined]


REFRESH_SECONDS = 60.0


class DatabaseTaintStore:
    """Taints in the deployment's database, shared by every process and replica that uses it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # principal -> when this process last wrote its taint. Every untrusted result
        # would otherwise be a database write; within REFRESH_SECONDS of the last one,
        # the stored taint only loses that little of its hours-long expiry.
        self._written: dict[str, float] = {}
        for attempt in range(3):  # another process may create the table at the same moment
            try:
                with write_transaction(engine) as conn:
                    SQLModel.metadata.create_all(conn, tables=[TAINTS])
                return
            except DBAPIError:
                if attempt == 2:
                    raise

    async def mark(self, taint: Taint) -> None:
        last = self._written.get(taint.principal)
        if last is not None and 0 <= taint.marked_at - last < REFRESH_SECONDS:
            return
        await anyio.to_thread.run_sync(self._mark, taint)
        self._written[taint.principal] = taint.marked_at

    async def find(self, principal: str, now: float) -> Taint | None:
        return await anyio.to_thread.run_sync(self._find, principal, now)

    def _mark(self, taint: Taint) -> None:
        values = {
            "source": taint.source,
            "session": taint.session,
            "marked_at": taint.marked_at,
            "expires_at": taint.expires_at,
        }
        for _ in range(3):  # a concurrent first mark for the same principal may win the insert
            try:
                with write_transaction(self._engine) as conn:
                    update_row = update(TAINTS).where(TAINTS.c.principal == taint.principal).values(**values)
                    if conn.execute(update_row).rowcount:
                        return
                    conn.execute(insert(TAINTS).values(principal=taint.principal, **values))
                    # Expired rows are dead weight; clearing them here keeps the table as small
                    # as the set of principals tainted within one TTL.
                    conn.execute(delete(TAINTS).where(TAINTS.c.expires_at <= taint.marked_at))
                return
            except IntegrityError:
                continue  # the transaction rolled back; the row exists now, so the update will find it

    def _find(self, principal: str, now: float) -> Taint | None:
        query = select(TAINTS).where(TAINTS.c.principal == principal, TAINTS.c.expires_at > now)
        with self._engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        m = row._mapping
        return Taint(m["principal"], m["source"], m["session"], m["marked_at"], m["expires_at"])
