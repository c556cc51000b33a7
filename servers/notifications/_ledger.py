"""The outbox ledger: every send is recorded before delivery, so no message is ever sent twice.

A send first commits a ``pending`` row (its id is the message's identity, and an
``idempotency_key``, when given, is unique), then delivers, then marks the row ``delivered`` or
``failed``. A second call with the same key finds the row and gets its outcome back without
sending. That is at-most-once delivery: a row that stays ``pending`` because its process died is
never re-sent blindly, since an SMTP server may have accepted the message just before the crash,
and a duplicate e-mail to a customer cannot be taken back while a missing one can be sent by hand.

Who settles an interrupted send. Several processes may share the ledger (two stdio hosts on one
data directory, or gateway replicas on one database), so "pending at start-up" does not mean
"interrupted": another process may be delivering it right now. Each pending row therefore carries
a lease (``lease_until``), longer than any delivery can take; only a row whose lease ran out is
settled (`Ledger.settle_interrupted`, run at start-up and before each send):

- outbox transport: the ``.eml`` file appears by an atomic rename, which is the commit point, so
  the file tells exactly what happened: present means ``delivered``, absent means ``failed``
  (nothing was written). This is exactly-once.
- SMTP: the server's reply to the end of DATA is the commit point, and a crash can fall between
  its acceptance and our record, so the row becomes ``unknown`` and list_outbox shows it for a
  person to check (the Message-ID is in the row, to search the mail server's log).

If the original sender was merely slow and finishes after all, its real outcome replaces ``unknown``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, Text, and_, func, not_, or_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Field, SQLModel, col, select

from servers._sql import UtcDateTime, create_store_engine, read_session, write_session
from servers.notifications._addresses import MessageRuleError
from servers.notifications._compose import Draft
from servers.notifications._models import DeliveryStatus, OutboxEntry, Transport

__all__ = ["Ledger", "MessageRow"]

_INTERRUPTED_SMTP = (
    "Delivery was interrupted (the sending process stopped): the SMTP server may or may not have "
    "accepted the message. It is not re-sent automatically; search the mail server's log for "
    "Message-ID {header} before sending it again."
)
_UNSETTLED = (
    "Delivery was interrupted (the sending process stopped or is stuck); it is not re-sent automatically. "
    "The next start or send_email settles it."
)
_INTERRUPTED_OUTBOX = "Delivery was interrupted before the message reached the outbox; nothing was sent."


class MessageRow(SQLModel, table=True):
    """One message the server was asked to send, and what became of it."""

    __tablename__ = "notifications_message"

    id: str = Field(primary_key=True, max_length=32)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=128)
    draft_id: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    transport: str = Field(max_length=16)
    sender: str = Field(max_length=254)
    to_addrs: str = Field(sa_type=Text)
    cc_addrs: str = Field(sa_type=Text)
    subject: str = Field(sa_type=Text)
    message_id_header: str = Field(max_length=300)
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    lease_until: datetime = Field(sa_type=UtcDateTime)


_TABLE = cast(Table, MessageRow.__table__)  # type: ignore[attr-defined]  # SQLModel's stubs lack it


class Ledger:
    """The notifications_message table: reserve, finish, settle and list messages."""

    def __init__(self, engine: Engine) -> None:
        """Use the ledger table in ``engine`` (see `open`)."""
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Open the ledger at ``url`` (any SQLAlchemy URL), creating its table if missing."""
        engine = create_store_engine(url, store="the notifications ledger")
        for attempt in range(3):
            try:
                SQLModel.metadata.create_all(engine, tables=[_TABLE])
                break
            except DBAPIError:  # another process created it at the same moment
                if attempt == 2:
                    raise
        return cls(engine)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def reserve(
        self,
        draft: Draft,
        *,
        message_id: str,
        key: str | None,
        transport: Transport,
        now: datetime,
        lease: timedelta,
    ) -> tuple[OutboxEntry, bool]:
        """Record a message as ``pending`` under ``message_id`` before it is delivered.

        Returns:
            The message's entry, and True if this call reserved it (and must deliver it), or
            False if an earlier call with the same ``key`` already did (nothing to deliver).

        Raises:
            MessageRuleError: ``key`` was used before for a different message.
        """
        for attempt in range(2):
            try:
                with write_session(self._engine) as session:
                    if key is not None:
                        earlier = session.exec(select(MessageRow).where(col(MessageRow.idempotency_key) == key)).first()
                        if earlier is not None:
                            if earlier.draft_id != draft.draft_id:
                                raise MessageRuleError(
                                    f"idempotency_key {key!r} was already used for a different message. "
                                    "Repeat the original message to get its outcome, or use a new key."
                                )
                            return _entry(earlier, now), False
                    row = MessageRow(
                        id=message_id,
                        idempotency_key=key,
                        draft_id=draft.draft_id,
                        status="pending",
                        transport=transport,
                        sender=draft.from_address,
                        to_addrs=json.dumps(draft.to),
                        cc_addrs=json.dumps(draft.cc),
                        subject=draft.subject,
                        message_id_header=draft.message_id_header(message_id),
                        created_at=now,
                        updated_at=now,
                        lease_until=now + lease,
                    )
                    session.add(row)
                    session.flush()
                    return _entry(row, now), True
            except IntegrityError:
                # A concurrent call inserted the same key first (PostgreSQL; SQLite serializes
                # writers, so its check above already sees the row): the retry finds and replays it.
                if key is None or attempt == 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def finish(self, message_id: str, status: DeliveryStatus, error: str | None, now: datetime) -> OutboxEntry:
        """Record a delivery's outcome (over ``pending``, or over ``unknown`` if it came late)."""
        with write_session(self._engine) as session:
            session.exec(
                update(MessageRow)
                .where(col(MessageRow.id) == message_id, col(MessageRow.status).in_(("pending", "unknown")))
                .values(status=status, error=error, updated_at=now)
            )
            row = session.get(MessageRow, message_id)
            assert row is not None
            return _entry(row, now)

    def settle_interrupted(self, now: datetime, in_outbox: Callable[[str], bool]) -> list[OutboxEntry]:
        """Settle every ``pending`` message whose lease ran out (see the module docstring).

        Args:
            now: The current time.
            in_outbox: Whether the outbox holds the file of the message with this id.

        Returns:
            The messages settled.
        """
        settled: list[OutboxEntry] = []
        with write_session(self._engine) as session:
            expired = session.exec(
                select(MessageRow).where(col(MessageRow.status) == "pending", col(MessageRow.lease_until) < now)
            ).all()
            for row in expired:
                if row.transport == "outbox":
                    row.status = "delivered" if in_outbox(row.id) else "failed"
                    row.error = None if row.status == "delivered" else _INTERRUPTED_OUTBOX
                else:
                    row.status, row.error = "unknown", _INTERRUPTED_SMTP.format(header=row.message_id_header)
                row.updated_at = now
                session.add(row)
                settled.append(_entry(row, now))
        return settled

    def list(
        self, *, status: DeliveryStatus | None, limit: int, now: datetime
    ) -> tuple[list[OutboxEntry], Counter[str]]:
        """The newest messages (optionally of one status) and how many the ledger holds in each status.

        A ``pending`` message whose lease ran out is shown as ``unknown`` even before it is settled.
        """
        pending, expired = col(MessageRow.status) == "pending", col(MessageRow.lease_until) < now
        shown_as = {
            "pending": and_(pending, not_(expired)),
            "unknown": or_(col(MessageRow.status) == "unknown", and_(pending, expired)),
        }
        query = select(MessageRow).order_by(col(MessageRow.created_at).desc(), col(MessageRow.id)).limit(limit)
        if status is not None:
            query = query.where(shown_as.get(status, col(MessageRow.status) == status))
        with read_session(self._engine) as session:
            entries = [_entry(row, now) for row in session.exec(query).all()]
            counts: Counter[str] = Counter(
                dict(session.exec(select(MessageRow.status, func.count()).group_by(MessageRow.status)).all())
            )
            stale = session.exec(select(func.count()).select_from(MessageRow).where(pending, expired)).one()
        if stale:
            counts["pending"] -= stale
            counts["unknown"] += stale
        return entries, +counts


def _entry(row: MessageRow, now: datetime) -> OutboxEntry:
    status = cast(DeliveryStatus, row.status)
    error = row.error
    if status == "pending" and row.lease_until < now:
        # Not settled yet (that happens on the next send or start), but no longer in flight.
        status, error = "unknown", _UNSETTLED
    return OutboxEntry(
        message_id=row.id,
        message_id_header=row.message_id_header,
        status=status,
        transport=cast(Transport, row.transport),
        to=json.loads(row.to_addrs),
        cc=json.loads(row.cc_addrs),
        subject=row.subject,
        draft_id=row.draft_id,
        error=error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
