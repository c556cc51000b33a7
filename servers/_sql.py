"""Databases for the servers that keep a store (tickets, the notifications ledger).

An engine for any SQLAlchemy URL, SQLite tuned for several writers. Each server
prefixes its tables (``tickets_``, ``notifications_``) so stores can share one
database with the audit log, and creates only its own tables, never the whole
SQLModel metadata, which also holds other packages' tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

__all__ = ["StoreConfigurationError", "UtcDateTime", "create_store_engine", "read_session", "write_session"]

_WRITE_OPTION = "mcpgov_store_write"
BUSY_TIMEOUT_MS = 10_000


class StoreConfigurationError(ValueError):
    """A database URL the store cannot use; the message says which to use instead."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone, so UTC is implied there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store takes timezone-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_store_engine(url: str, *, store: str) -> Engine:
    """An engine for a server's tables at ``url``.

    Args:
        url: ``sqlite:///PATH`` (the directory is created) or any other SQLAlchemy URL.
        store: What the store is, for messages ("the tickets store").

    Raises:
        StoreConfigurationError: ``url`` is in-memory SQLite, which each pooled connection would
            see as a different, empty database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise StoreConfigurationError(f"{store} needs a SQLite file, not an in-memory database; use sqlite:///PATH")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session in one write transaction: committed on exit, rolled back whole on any error."""
    with Session(engine.execution_options(**{_WRITE_OPTION: True})) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session in one read transaction, so a read sees a single snapshot."""
    with Session(engine) as session, session.begin():
        yield session


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module so _begin_sqlite_transaction decides its kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Wait for another process's (or thread's) write lock instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer, and the writer never blocks readers.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # A write takes the write lock at its first statement: a deferred transaction that reads
    # (an idempotency key, a row's status) and then upgrades to write would fail with
    # SQLITE_BUSY, without waiting, if another writer committed in between.
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
