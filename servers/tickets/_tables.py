"""The tickets tables (all prefixed ``tickets_``, so they can share a database with the audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, Text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Field, SQLModel

from servers._sql import UtcDateTime

__all__ = ["AgentRow", "CommentRow", "IdempotencyRow", "SeedRow", "TicketRow", "create_tables"]


class AgentRow(SQLModel, table=True):
    """A member of the support team who can be assigned tickets."""

    __tablename__ = "tickets_agent"

    handle: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)
    team: str = Field(max_length=64)


class TicketRow(SQLModel, table=True):
    """One ticket."""

    __tablename__ = "tickets_ticket"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=200)
    description: str = Field(sa_type=Text)
    category: str = Field(max_length=32, index=True)
    priority: str = Field(max_length=16, index=True)
    status: str = Field(max_length=32, index=True)
    customer_name: str | None = Field(default=None, max_length=120)
    customer_email: str | None = Field(default=None, max_length=254)
    customer_company: str | None = Field(default=None, max_length=120)
    assignee: str | None = Field(default=None, foreign_key="tickets_agent.handle", index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime, index=True)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CommentRow(SQLModel, table=True):
    """A reply or internal note on a ticket."""

    __tablename__ = "tickets_comment"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets_ticket.id", index=True)
    author: str = Field(max_length=120)
    body: str = Field(sa_type=Text)
    internal: bool = False
    created_at: datetime = Field(sa_type=UtcDateTime)


class IdempotencyRow(SQLModel, table=True):
    """A write done under an idempotency key: what was asked, and the result it gave."""

    __tablename__ = "tickets_idempotency"

    key: str = Field(primary_key=True, max_length=128)
    tool: str = Field(max_length=32)
    args_digest: str = Field(max_length=64)
    result: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)


class SeedRow(SQLModel, table=True):
    """The single row saying the demo data was loaded (its primary key makes seeding happen once)."""

    __tablename__ = "tickets_seed"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seeded_at: datetime = Field(sa_type=UtcDateTime)
    ticket_count: int


# SQLModel's stubs do not declare ``__table__``.
TABLES: list[Table] = [
    cast(Table, row.__table__)  # type: ignore[union-attr]
    for row in (AgentRow, TicketRow, CommentRow, IdempotencyRow, SeedRow)
]


def create_tables(engine: Engine) -> None:
    """Create the tickets tables that are missing (and no other package's)."""
    # Several replicas may open a fresh PostgreSQL database at once: both see no table and both
    # CREATE it. The loser's error means the winner did the work; the retry finds it done.
    for attempt in range(3):
        try:
            SQLModel.metadata.create_all(engine, tables=TABLES)
            return
        except DBAPIError:
            if attempt == 2:
                raise
