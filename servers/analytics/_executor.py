"""Running a caller's query: the second, independent line of defence after ``sql.py``.

Whatever the SQL says, it runs on a connection that

- is opened read-only (``mode=ro``) with ``PRAGMA query_only``, so SQLite itself refuses writes;
- has an authorizer that allows only SELECT, recursive CTEs, reads of the allowed tables in the
  ``main`` schema and calls to `ALLOWED_FUNCTIONS`, judged on what SQLite actually resolved (so a
  parser disagreement between sqlglot and SQLite cannot smuggle anything through). SQLite also
  reports a FROM item whose columns go unused (``count(*) FROM cte``) as a read with no column;
  that is allowed for the query's own CTE names too, unless a real table has the name;
- may attach no database and build no string or blob over `MAX_VALUE_BYTES`;
- is stopped by a progress handler once the time limit passes;
- returns at most ``max_rows`` rows and about ``max_result_bytes`` of values.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from servers.analytics._database import connect_read_only
from servers.analytics.sql import ALLOWED_FUNCTIONS

__all__ = ["MAX_VALUE_BYTES", "QueryFailed", "QueryRows", "QueryTimedOut", "execute_read_query"]

MAX_VALUE_BYTES = 100_000
"""Longest string or blob a query may build (SQLITE_LIMIT_LENGTH); bounds printf/replace/group_concat."""
_MAX_SQL_BYTES = 100_000
_PROGRESS_STEPS = 1_000  # virtual-machine steps between deadline checks: ~microseconds

Value = int | float | str | None
Authorizer = Callable[[int, str | None, str | None, str | None, str | None], int]

_ACTION_NAMES = {
    value: name.removeprefix("SQLITE_").lower().replace("_", " ")
    for name, value in vars(sqlite3).items()
    if name.startswith("SQLITE_")
    and isinstance(value, int)
    and not name.startswith(("SQLITE_LIMIT", "SQLITE_DBCONFIG"))
    and name not in ("SQLITE_OK", "SQLITE_DENY", "SQLITE_IGNORE")
}


class QueryFailed(Exception):
    """SQLite refused or could not run the query; the message says why and how to fix it."""


class QueryTimedOut(QueryFailed):
    """The query was stopped at the time limit."""


@dataclass(frozen=True, slots=True)
class QueryRows:
    """What a query returned, capped."""

    columns: list[str]
    rows: list[list[Value]]
    truncated_by: str | None  # "max_rows", "max_result_bytes" or None when complete


def execute_read_query(
    path: Path,
    sql: str,
    *,
    allowed_tables: frozenset[str],
    cte_names: frozenset[str] = frozenset(),
    max_rows: int,
    timeout_seconds: float,
    max_result_bytes: int,
) -> QueryRows:
    """Run one read-only query against the database at `path`.

    Raises:
        QueryFailed: the authorizer denied something, SQLite reported an error, or the SQL holds
            more than one statement.
        QueryTimedOut: the query ran past `timeout_seconds`.
    """
    denials: list[str] = []
    connection = connect_read_only(path)
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, _MAX_SQL_BYTES)
        objects = {str(name).lower() for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
        columnless = allowed_tables | {name for name in cte_names - objects if not name.startswith("sqlite_")}
        connection.set_authorizer(_authorizer(allowed_tables, columnless, denials))
        deadline = time.monotonic() + timeout_seconds
        connection.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
        try:
            cursor = connection.execute(sql)
            columns = [str(column[0]) for column in cursor.description or ()]
            return _collect(cursor, columns, max_rows, max_result_bytes)
        except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as error:
            if time.monotonic() > deadline:
                raise QueryTimedOut(
                    f"The query was stopped after the {timeout_seconds:g} s time limit; narrow it with "
                    "WHERE, aggregate before joining, or add a LIMIT (a recursive CTE needs a stop condition)."
                ) from None
            raise _explain(error, denials, allowed_tables) from None
    finally:
        connection.close()


def _authorizer(allowed_tables: frozenset[str], columnless: frozenset[str], denials: list[str]) -> Authorizer:
    def decide(action: int, arg1: str | None, arg2: str | None, schema: str | None, _: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            table = (arg1 or "").lower()
            if arg2 and table in allowed_tables and schema == "main":
                return sqlite3.SQLITE_OK
            if not arg2 and table in columnless:
                return sqlite3.SQLITE_OK
            denials.append(f"read the table {arg1!r}")
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() in ALLOWED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            denials.append(f"call the function {arg2}()")
            return sqlite3.SQLITE_DENY
        denials.append(f"perform a {_ACTION_NAMES.get(action, str(action))} operation")
        return sqlite3.SQLITE_DENY

    return decide


def _explain(error: Exception, denials: list[str], allowed_tables: frozenset[str]) -> QueryFailed:
    if denials:
        tables = ", ".join(sorted(allowed_tables))
        return QueryFailed(
            f"The query tried to {denials[0]}, which this server does not allow; only SELECT over "
            f"these tables is allowed: {tables}."
        )
    if isinstance(error, sqlite3.Warning | sqlite3.ProgrammingError) and "one statement" in str(error):
        return QueryFailed("The SQL holds more than one statement; send exactly one SELECT query.")
    if isinstance(error, sqlite3.DataError | sqlite3.OperationalError) and "too big" in str(error):
        return QueryFailed(f"The query built a value longer than {MAX_VALUE_BYTES} bytes; return shorter values.")
    # SQLite's own messages name the problem ("no such column: totl") and carry no secrets.
    return QueryFailed(f"SQLite could not run the query: {error}. Fix the SQL and try again.")


def _collect(cursor: sqlite3.Cursor, columns: list[str], max_rows: int, max_result_bytes: int) -> QueryRows:
    rows: list[list[Value]] = []
    size = 0
    # One row at a time, so a query of many huge values stops at the byte cap without holding them all.
    for raw in cursor:
        if len(rows) == max_rows:
            return QueryRows(columns, rows, "max_rows")
        row = [_json_value(value) for value in raw]
        size += sum(len(str(value)) + 4 for value in row)
        if size > max_result_bytes:
            return QueryRows(columns, rows, "max_result_bytes")
        rows.append(row)
    return QueryRows(columns, rows, None)


def _json_value(value: object) -> Value:
    if isinstance(value, bytes):
        return f"x'{value.hex()}'"  # a blob as the SQL literal that would produce it
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'inf', '-inf': JSON has no infinities
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)
