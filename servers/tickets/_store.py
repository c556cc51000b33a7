"""The ticket store: searches and reads, and the writes the tools make.

Every write runs in a single database transaction, at most once per idempotency key (see
`servers.tickets._idempotency`): a refusal or a crash halfway leaves nothing behind.

Every call goes through the database's circuit breaker (`servers._resilience`); reads are retried
with backoff when the connection fails, writes never are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from servers._resilience import DATABASE_CONNECTION_ERRORS, Breaker, is_database_trouble, read_method
from servers._sql import create_store_engine, read_session
from servers.tickets._idempotency import Written, run_write
from servers.tickets._models import (
    AssignmentChanged,
    Comment,
    CommentAdded,
    StatusChanged,
    TicketCreated,
    TicketDetail,
    TicketList,
    TicketSummary,
)
from servers.tickets._seed import DEFAULT_TICKET_COUNT, load_demo_queue
from servers.tickets._tables import AgentRow, CommentRow, TicketRow, create_tables
from servers.tickets._workflow import TRANSITIONS, Category, Priority, Status, TicketRuleError, check_transition

__all__ = ["UNASSIGNED", "NewTicket", "TicketStore"]

UNASSIGNED = "unassigned"
_MAX_WORDS = 10
Clock = Callable[[], datetime]
Model = TypeVar("Model", bound=BaseModel)


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What create_ticket files."""

    subject: str
    description: str
    category: Category
    priority: Priority = "normal"
    customer_name: str | None = None
    customer_email: str | None = None
    customer_company: str | None = None
    assignee: str | None = None


class TicketStore:
    """Tickets and their comments in a SQL database; safe to share between threads."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        """Use the tickets tables in ``engine`` (see `open` to create and seed them)."""
        self._engine = engine
        self._clock = clock
        self.breaker = Breaker("the tickets database", is_failure=is_database_trouble)

    @classmethod
    def open(cls, url: str, *, seed: bool = True, clock: Clock = utc_now) -> TicketStore:
        """Open the store at ``url``, creating its tables, and seed the demo queue into an empty one.

        Raises:
            StoreConfigurationError: ``url`` is an in-memory SQLite database.
        """
        store = cls(create_store_engine(url, store="the tickets store"), clock=clock)
        create_tables(store._engine)
        if seed:
            store.seed_if_empty()
        return store

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def seed_if_empty(self, anchor: datetime | None = None, count: int = DEFAULT_TICKET_COUNT) -> int:
        """Load the demo team and queue unless the database was seeded or already holds tickets.

        Args:
            anchor: The queue's "now" (default: the clock's now).
            count: How many tickets to generate.

        Returns:
            How many tickets were loaded (0 when the database was not empty).
        """
        return load_demo_queue(self._engine, anchor or self._clock(), count)

    # -- reads ---------------------------------------------------------------------------------

    @read_method(retry_on=DATABASE_CONNECTION_ERRORS)
    def search(
        self,
        *,
        text: str | None = None,
        status: Status | None = None,
        assignee: str | None = None,
        priority: Priority | None = None,
        limit: int = 20,
    ) -> tuple[TicketList, datetime]:
        """Tickets matching every filter, most recently updated first, and when that was true.

        ``text`` matches tickets holding each of its words (case-insensitive) in the subject,
        description, customer name, company or e-mail; ``assignee`` is a handle or ``unassigned``.

        Raises:
            TicketRuleError: ``assignee`` is not a handle of the team.
        """
        conditions: list[Any] = []
        if status is not None:
            conditions.append(col(TicketRow.status) == status)
        if priority is not None:
            conditions.append(col(TicketRow.priority) == priority)
        for word in (text or "").split()[:_MAX_WORDS]:
            searched = (
                TicketRow.subject,
                TicketRow.description,
                TicketRow.customer_name,
                TicketRow.customer_company,
                TicketRow.customer_email,
            )
            # autoescape: % and _ in the caller's words are literal characters, not wildcards.
            conditions.append(or_(*(col(c).icontains(word, autoescape=True) for c in searched)))
        # Read before the snapshot starts: everything committed by as_of is in it, so the claim
        # "true at as_of" errs on the old side, which is the safe side for a recency check.
        as_of = self._clock()
        with read_session(self._engine) as session:
            if assignee == UNASSIGNED:
                conditions.append(col(TicketRow.assignee).is_(None))
            elif assignee is not None:
                conditions.append(col(TicketRow.assignee) == self._known_agent(session, assignee))
            total = session.exec(select(func.count()).select_from(TicketRow).where(*conditions)).one()
            rows = session.exec(
                select(TicketRow)
                .where(*conditions)
                .order_by(col(TicketRow.updated_at).desc(), col(TicketRow.id).desc())
                .limit(limit)
            ).all()
            found = TicketList(tickets=[_summary(row) for row in rows], total_matching=total)
        return found, as_of

    @read_method(retry_on=DATABASE_CONNECTION_ERRORS)
    def get(self, ticket_id: int) -> tuple[TicketDetail, datetime]:
        """One ticket with its comments, and when that was true.

        Raises:
            TicketRuleError: No ticket has this id.
        """
        as_of = self._clock()  # before the snapshot, as in search
        with read_session(self._engine) as session:
            detail = _detail(session, self._ticket(session, ticket_id))
        return detail, as_of

    # -- writes --------------------------------------------------------------------------------

    def create(self, new: NewTicket, *, idempotency_key: str | None = None) -> Written[TicketCreated]:
        """File a new open ticket.

        Raises:
            TicketRuleError: The assignee is unknown, or the key was used for another request.
        """

        def create(session: Session, now: datetime) -> TicketCreated:
            assignee = None if new.assignee is None else self._known_agent(session, new.assignee)
            fields = {**_fields(new), "assignee": assignee}
            ticket = TicketRow(**fields, status="open", created_at=now, updated_at=now)
            session.add(ticket)
            session.flush()
            return TicketCreated(ticket=_detail(session, ticket))

        return self._write("create_ticket", _fields(new), idempotency_key, create, TicketCreated)

    def add_comment(
        self, ticket_id: int, body: str, *, author: str, internal: bool = False, idempotency_key: str | None = None
    ) -> Written[CommentAdded]:
        """Add a reply or internal note to an open (not closed) ticket.

        Raises:
            TicketRuleError: No such ticket, it is closed, or the key was used for another request.
        """

        def comment(session: Session, now: datetime) -> CommentAdded:
            ticket = self._ticket(session, ticket_id, for_update=True)
            if ticket.status == "closed":
                raise TicketRuleError(
                    f"Ticket #{ticket_id} is closed and takes no more comments; file a follow-up with "
                    f"create_ticket and mention #{ticket_id} in it."
                )
            ticket.updated_at = now
            session.add(ticket)
            return CommentAdded(
                ticket_id=ticket_id, comment=_add_comment(session, ticket_id, author, body, internal, now)
            )

        arguments = {"ticket_id": ticket_id, "body": body, "author": author, "internal": internal}
        return self._write("add_comment", arguments, idempotency_key, comment, CommentAdded)

    def update_status(
        self,
        ticket_id: int,
        status: str,
        *,
        author: str,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> Written[StatusChanged]:
        """Move a ticket to ``status`` if the workflow allows it, with an optional note.

        Raises:
            TicketRuleError: No such ticket, a move the workflow forbids, or a reused key.
        """

        def change(session: Session, now: datetime) -> StatusChanged:
            ticket = self._ticket(session, ticket_id, for_update=True)
            previous: Status = ticket.status  # type: ignore[assignment]  # only known statuses are stored
            target = check_transition(ticket_id, previous, status)
            ticket.status, ticket.updated_at = target, now
            if target == "resolved":
                ticket.resolved_at = now
            elif target == "closed":
                ticket.closed_at = now
            elif previous == "resolved":  # a reopen: the earlier resolution no longer stands
                ticket.resolved_at = None
            session.add(ticket)
            written = None if note is None else _add_comment(session, ticket_id, author, note, False, now)
            return StatusChanged(
                ticket_id=ticket_id,
                previous_status=previous,
                status=target,
                allowed_next_statuses=list(TRANSITIONS[target]),
                note=written,
                updated_at=now,
            )

        arguments = {"ticket_id": ticket_id, "status": status, "author": author, "note": note}
        return self._write("update_status", arguments, idempotency_key, change, StatusChanged)

    def assign(
        self, ticket_id: int, assignee: str | None, *, idempotency_key: str | None = None
    ) -> Written[AssignmentChanged]:
        """Give a ticket to a member of the team (``None`` returns it to the queue).

        Raises:
            TicketRuleError: No such ticket, it is closed, the handle is unknown, or a reused key.
        """

        def assign(session: Session, now: datetime) -> AssignmentChanged:
            ticket = self._ticket(session, ticket_id, for_update=True)
            if ticket.status == "closed":
                raise TicketRuleError(
                    f"Ticket #{ticket_id} is closed and cannot be reassigned; file a follow-up with "
                    f"create_ticket and mention #{ticket_id} in it."
                )
            handle = None if assignee is None else self._known_agent(session, assignee)
            previous, changed = ticket.assignee, ticket.assignee != handle
            if changed:
                ticket.assignee, ticket.updated_at = handle, now
                session.add(ticket)
            return AssignmentChanged(
                ticket_id=ticket_id,
                previous_assignee=previous,
                assignee=handle,
                changed=changed,
                updated_at=ticket.updated_at,
            )

        arguments = {"ticket_id": ticket_id, "assignee": assignee}
        return self._write("assign_ticket", arguments, idempotency_key, assign, AssignmentChanged)

    # -- internals -----------------------------------------------------------------------------

    def _write(
        self,
        tool: str,
        arguments: dict[str, Any],
        key: str | None,
        action: Callable[[Session, datetime], Model],
        model: type[Model],
    ) -> Written[Model]:
        # Through the breaker, once: a write that failed may have committed, so it is never retried here.
        return self.breaker.call(lambda: run_write(self._engine, self._clock, tool, arguments, key, action, model))

    def _ticket(self, session: Session, ticket_id: int, *, for_update: bool = False) -> TicketRow:
        # FOR UPDATE: on PostgreSQL two concurrent status changes are serialized on the row;
        # SQLite's BEGIN IMMEDIATE already serializes every writer.
        ticket = session.get(TicketRow, ticket_id, with_for_update=for_update)
        if ticket is None:
            raise TicketRuleError(f"No ticket has id {ticket_id}; use search_tickets to find ticket ids.")
        return ticket

    def _known_agent(self, session: Session, handle: str) -> str:
        if session.get(AgentRow, handle) is None:
            known = ", ".join(session.exec(select(AgentRow.handle).order_by(col(AgentRow.handle))).all())
            raise TicketRuleError(f"No team member has the handle {handle!r}; use one of: {known or 'none'}.")
        return handle


def _fields(new: NewTicket) -> dict[str, Any]:
    return {name: getattr(new, name) for name in NewTicket.__slots__}


def _add_comment(session: Session, ticket_id: int, author: str, body: str, internal: bool, now: datetime) -> Comment:
    row = CommentRow(ticket_id=ticket_id, author=author, body=body, internal=internal, created_at=now)
    session.add(row)
    session.flush()
    return _comment(row)


def _comment(row: CommentRow) -> Comment:
    assert row.id is not None
    return Comment(id=row.id, author=row.author, body=row.body, internal=row.internal, created_at=row.created_at)


def _summary(row: TicketRow) -> TicketSummary:
    return TicketSummary.model_validate(row, from_attributes=True)


def _detail(session: Session, row: TicketRow) -> TicketDetail:
    comments = session.exec(
        select(CommentRow)
        .where(col(CommentRow.ticket_id) == row.id)
        .order_by(col(CommentRow.created_at), col(CommentRow.id))
    ).all()
    status: Status = row.status  # type: ignore[assignment]  # only known statuses are stored
    return TicketDetail.model_validate(
        {
            **row.model_dump(),
            "allowed_next_statuses": list(TRANSITIONS[status]),
            "comments": [_comment(c) for c in comments],
        }
    )
