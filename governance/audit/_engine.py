"""Engines for the audit store: SQLite tuned for a durable append-only log, or any other URL as given."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from governance.errors import ConfigurationError

_WRITE_OPTION = "mcpgov_audit_write"

WRITE_OPTIONS: dict[str, Any] = {_WRITE_OPTION: True}
"""Execution options for a connection that is about to extend the chain."""

BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 16_384


def describe_url(url: str | URL) -> str:
    """The URL as it may appear in messages and logs: the password is never shown."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"  # not echoed: it may still hold a password


def driver_message(exc: BaseException) -> str:
    """What went wrong, in the driver's words.

    Never SQLAlchemy's own text: it quotes the statement's parameters, which are audit records.
    """
    if isinstance(exc, DBAPIError):
        return str(exc.orig).strip()
    return f"{type(exc).__name__}: {exc}"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL; None for other backends and for in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_audit_engine(url: str, *, create: bool) -> Engine:
    """An engine for the audit tables at ``url``.

    Args:
        url: A SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
        create: Create the SQLite file's directory if missing. When False, a
            missing SQLite file is an error instead of a new empty database.

    Raises:
        ConfigurationError: The URL is in-memory SQLite, or (``create=False``) the file is missing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre-ping: a gateway replica outlives database restarts; a dead pooled
        # connection must not turn into a failed (fail-closed) audit write.
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_path(parsed)
    if path is None:
        raise ConfigurationError(
            f"the audit log needs a SQLite file, not {describe_url(parsed)!r}: an in-memory database "
            "is private to one connection, and the store writes from its own thread; use sqlite:///PATH"
        )
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise ConfigurationError(f"no audit database at {path}")
    engine = create_engine(parsed)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # Wait for another process's write lock instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # WAL: readers (verify, tail) never block the writer and vice versa.
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a
        # committed batch survives the process being killed (it is in the WAL
        # file the OS already has); only an OS crash or power loss can roll back
        # the last commits. That is the trade that buys the group commit rate.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints are where NORMAL does fsync; at the default (every 1,000
        # pages, about two batches of records) they cap the append rate. Fewer,
        # larger ones: the WAL grows to about 64 MB between them.
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # A writer must hold the write lock from its first statement: a deferred
    # transaction that reads the head and then upgrades to write fails with
    # SQLITE_BUSY (no busy wait) if another process committed in between, and
    # two processes could otherwise both read the same head. Readers stay
    # deferred so they never take the write lock.
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one write transaction (on SQLite, holding the write lock from its first statement)."""
    with engine.connect() as conn:
        conn.execution_options(**WRITE_OPTIONS)
        with conn.begin():
            yield conn
