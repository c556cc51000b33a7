"""The demo database file: built once into the data directory, then only ever opened read-only.

A build writes a temporary file next to the target and renames it into place, so a crash or a
concurrent start never leaves a half-built ``analytics.db``: readers see the old file or the new
one. A file that cannot be read, or that an older generator built, is rebuilt.

Reads go through the database's circuit breaker (`DemoDatabase.breaker`) and are retried with
backoff when SQLite cannot open or read the file; a query's own errors count for neither.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from servers._resilience import Breaker, is_sqlite_trouble, read_method
from servers.analytics._demo import DATA_END, DATA_START, GENERATOR_VERSION, SEED, generate
from servers.analytics._schema import DDL, METADATA_TABLE

__all__ = ["DATABASE_FILE", "ColumnInfo", "DemoDatabase", "TableInfo", "connect_read_only"]

DATABASE_FILE = "analytics.db"


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column as SQLite declares it."""

    name: str
    type: str
    nullable: bool
    primary_key: bool


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A table's columns and how many rows it holds."""

    name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open `path` read-only: SQLite refuses any write on this connection, whatever SQL it runs.

    Raises:
        sqlite3.Error: the file is missing or not a database.
    """
    # as_uri() percent-encodes the path, so '?' or '#' in a directory name cannot add URI options.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only = ON")
        # Never run SQL functions named in the schema (views, triggers) on the schema's say-so.
        connection.execute("PRAGMA trusted_schema = OFF")
    except BaseException:
        connection.close()
        raise
    return connection


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect_read_only(path)
    try:
        yield connection
    finally:
        connection.close()


class DemoDatabase:
    """The analytics demo database in a data directory."""

    def __init__(self, path: Path, built_at: datetime) -> None:
        self.path = path
        self.built_at = built_at
        self.breaker = Breaker("the analytics database", is_failure=is_sqlite_trouble)

    @classmethod
    def ensure(cls, data_dir: Path, *, clock: Callable[[], datetime]) -> DemoDatabase:
        """Open the database in `data_dir`, building it first if it is missing, unreadable or outdated.

        Args:
            data_dir: Where ``analytics.db`` lives (created if needed).
            clock: The time recorded as the build time, when a build happens (aware).
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / DATABASE_FILE
        built_at = _read_build_time(path)
        if built_at is None:
            built_at = clock()
            _build(path, built_at)
        return cls(path, built_at)

    @read_method(retry_on=sqlite3.OperationalError)
    def tables(self) -> list[str]:
        """Names of the tables in the file, metadata excluded."""
        with _reading(self.path) as connection:
            rows = connection.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name != ? ORDER BY name",
                (METADATA_TABLE,),
            ).fetchall()
        return [str(name) for (name,) in rows]

    @read_method(retry_on=sqlite3.OperationalError)
    def table_info(self, name: str) -> TableInfo:
        """Columns and row count of `name`, which the caller has already checked is a real table."""
        quoted = '"' + name.replace('"', '""') + '"'
        with _reading(self.path) as connection:
            columns = tuple(
                ColumnInfo(name=str(column), type=str(kind), nullable=not notnull and not pk, primary_key=bool(pk))
                for _, column, kind, notnull, _, pk in connection.execute("SELECT * FROM pragma_table_info(?)", (name,))
            )
            (count,) = connection.execute(f"SELECT count(*) FROM {quoted}").fetchone()  # noqa: S608
        return TableInfo(name=name, columns=columns, row_count=int(count))


def _read_build_time(path: Path) -> datetime | None:
    """The build time of a usable database at `path`, or None when it must be (re)built."""
    if not path.exists():
        return None
    try:
        with _reading(path) as connection:
            facts = dict(connection.execute(f"SELECT key, value FROM {METADATA_TABLE}").fetchall())  # noqa: S608
        if facts.get("generator_version") != GENERATOR_VERSION:
            return None
        built_at = datetime.fromisoformat(str(facts["built_at"]))
    except (sqlite3.Error, KeyError, ValueError):
        return None
    return built_at if built_at.tzinfo is not None else None


def _build(path: Path, built_at: datetime) -> None:
    data = generate()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".building")
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.executescript(DDL)
            connection.execute("BEGIN")
            for table, rows in (
                ("customers", data.customers),
                ("products", data.products),
                ("orders", data.orders),
                ("order_items", data.order_items),
            ):
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
            connection.executemany(
                f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)",  # noqa: S608
                [
                    ("built_at", built_at.isoformat()),
                    ("generator_version", GENERATOR_VERSION),
                    ("seed", str(SEED)),
                    ("data_from", DATA_START.isoformat()),
                    ("data_until", DATA_END.isoformat()),
                ],
            )
            connection.execute("COMMIT")
            connection.execute("ANALYZE")  # statistics help the planner with callers' joins
        finally:
            connection.close()
        with open(temporary, "rb") as built:
            os.fsync(built.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
