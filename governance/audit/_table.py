"""The two audit tables: the records, and the head that serializes writers.

``audit_record`` keeps the hashed body as text, so verification re-hashes exactly
the bytes that were written, and copies a few fields out of the body into
indexed columns for queries. Those copies are not hashed; ``verify_chain``
checks that they still agree with the body.

``audit_head`` holds a single row (``id = 1``): the seq and hash of the last
committed record. Every batch reads it under a write lock and updates it in the
same transaction, so writers in several processes sharing one database append
to one chain instead of forking it, and a truncated tail leaves the head
pointing past the last surviving record.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Engine, Integer, Table, Text, insert, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Field, SQLModel

from governance.audit._chain import GENESIS_HASH
from governance.audit._engine import write_transaction

# SQLite only makes an INTEGER PRIMARY KEY an alias of the rowid (no second
# index to maintain); PostgreSQL needs 64 bits for a log that never shrinks.
_SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")

HEAD_ID = 1


class AuditRecordRow(SQLModel, table=True):
    """One committed audit record and its place in the chain."""

    __tablename__ = "audit_record"

    seq: int = Field(sa_type=_SEQ_TYPE, primary_key=True, sa_column_kwargs={"autoincrement": False})
    # Only `time` is indexed: each secondary index is written on every commit (an
    # index on principal, server, tool and outcome doubled a one-record commit's
    # latency, bench/), and these columns have few distinct values anyway.
    time: str = Field(index=True)
    principal: str
    server: str
    tool: str | None = None
    outcome: str
    body: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The single row naming the last committed record: the writers' lock and the truncation anchor."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(sa_type=_SEQ_TYPE)
    hash: str = Field(max_length=64)


# Core tables: the hot paths (batch insert, verify) use Core statements and raw
# tuples, never ORM objects. SQLModel's stubs do not declare ``__table__``.
RECORDS = cast(Table, AuditRecordRow.__table__)  # type: ignore[attr-defined]
HEAD = cast(Table, AuditHeadRow.__table__)  # type: ignore[attr-defined]

# The query columns copied out of the body, in the order verify compares them.
QUERY_COLUMNS: tuple[str, ...] = ("time", "principal", "server", "tool", "outcome")

# Read under a write lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
# already holds the database's write lock, so the clause compiles to nothing there).
HEAD_FOR_UPDATE = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID).with_for_update()


def create_tables(engine: Engine) -> None:
    """Create the audit tables and the genesis head row if they are missing."""
    # Several processes may open a fresh PostgreSQL database at once: both see no
    # table and both CREATE it, or both see no head and both insert it. The
    # loser's error means the winner did the work; the retry then finds it done.
    for attempt in range(3):
        try:
            # A write transaction from the start: on SQLite, a deferred one that
            # looked for the tables and then tries to create them fails at once
            # with "database is locked" if another process got there first.
            with write_transaction(engine) as conn:
                RECORDS.metadata.create_all(conn, tables=[RECORDS, HEAD])
                if conn.execute(HEAD_FOR_UPDATE).one_or_none() is None and (
                    conn.execute(select(RECORDS.c.seq).limit(1)).first() is None
                ):
                    conn.execute(insert(HEAD).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
            return
        except DBAPIError:
            if attempt == 2:
                raise


def has_tables(engine: Engine) -> bool:
    """Whether the database holds the audit tables."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        return all(inspector.has_table(table.name) for table in (RECORDS, HEAD))
