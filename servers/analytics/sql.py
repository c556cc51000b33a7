"""Which SQL the analytics server runs: one read-only SELECT over named tables, checked with sqlglot.

This is the first of two independent checks (the second is SQLite's own authorizer, in
``_executor.py``, which sees the tables and functions SQLite actually resolved). It exists to refuse
early with a message a model can act on, and to tell the governance layer's params guard which
tables a query reads: `referenced_tables` is a pure function the guard imports.

What passes:

- exactly one statement (trailing semicolons and comments are fine);
- a SELECT, or a compound of SELECTs (UNION, INTERSECT, EXCEPT), with any WITH clause whose
  common table expressions are themselves SELECTs (recursive ones included: the server's time
  cap bounds them);
- calls only to functions in `ALLOWED_FUNCTIONS`;
- base tables by plain name, optionally in schema ``main``.

Everything else is refused with `UnsafeQueryError`: other statements (INSERT, UPDATE, DELETE,
REPLACE, CREATE, DROP, ALTER, ATTACH, DETACH, PRAGMA, VACUUM, COPY, transactions...), a
data-modifying CTE, SELECT ... INTO, RETURNING, bind parameters, table-valued functions
(``pragma_table_info(...)``, ``json_each(...)``), SQLite's internal ``sqlite_*`` tables, other schemas
(``temp.``, attached ones) and SQLite's ``x IN table`` shorthand (which sqlglot reads as a column, so
it would hide a table from this check).

Functions: an allowlist, not a denylist. SQLite's function namespace is open-ended (extensions,
``readfile``/``writefile``/``edit`` from the CLI, ``fts3_tokenizer``, ``load_extension``, whatever a
future build adds), so a denylist is only as good as the day it was written; the allowlist names
the ~100 scalar, aggregate, window, date, math and JSON functions an analyst needs and nothing that
touches files, loads code, reports on the build (``sqlite_*``) or manufactures huge values
(``zeroblob``, ``randomblob``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

__all__ = ["ALLOWED_FUNCTIONS", "ReadQuery", "UnsafeQueryError", "check_read_query", "referenced_tables"]

DIALECT = "sqlite"

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    # core scalar functions
    "abs char coalesce concat concat_ws format glob hex ifnull iif instr length like likelihood "
    "likely lower ltrim max min nullif octet_length printf quote random replace round rtrim sign "
    "substr substring trim typeof unicode unlikely upper "
    # date and time (SQLite reports CURRENT_TIMESTAMP and friends to the authorizer as functions)
    "date time datetime julianday unixepoch strftime timediff current_date current_time current_timestamp "
    # aggregates
    "avg count group_concat string_agg sum total "
    # window functions
    "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value "
    # math
    "ceil ceiling floor ln log log10 log2 exp mod pi pow power sqrt trunc "
    # JSON, for shaping output (the demo tables hold no JSON); -> and ->> are functions to SQLite
    "json json_array json_object json_extract json_type json_valid json_group_array json_group_object "
    "-> ->>".split()
)
"""SQLite functions a query may call, by the lower-case name SQLite resolves."""

# Operators SQLite implements as calls to a function of this name (so its authorizer sees them).
_OPERATOR_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Like: "like",
    exp.Glob: "glob",
    exp.RegexpLike: "regexp",
    exp.Match: "match",
    exp.JSONExtract: "->",
    exp.JSONExtractScalar: "->>",
}

# sqlglot classes under exp.Func that are SQL syntax rather than a call to a named SQLite
# function, or that sqlglot adds while normalising (strftime's argument becomes TsOrDsToTimestamp).
_SYNTAX_NODES: tuple[type[exp.Expr], ...] = (
    exp.Cast,
    exp.Case,
    exp.Exists,
    exp.Collate,
    exp.In,
    exp.Connector,  # AND, OR
    exp.TsOrDsToTimestamp,
    exp.If,
)

# Characters that open a bind parameter in SQLite: ?, ?1, :name, @name, $name.
_PARAMETER_MARKS = ("?", ":", "@", "$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Anything that is not a plain read, wherever it appears in the tree (a CTE included).
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML,  # INSERT, UPDATE, DELETE, MERGE, COPY
    exp.DDL,  # CREATE, INSERT
    exp.Drop,
    exp.Alter,
    exp.Command,  # what sqlglot cannot parse: VACUUM, REPLACE INTO, EXPLAIN...
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Into,
    exp.Returning,
    exp.Analyze,
    exp.Set,
    exp.Use,
    exp.Describe,
    exp.LoadData,
    exp.TruncateTable,
    exp.Lock,
)

Reason = Literal["unparseable", "empty", "multiple_statements", "not_a_read", "function", "table", "parameter"]


class UnsafeQueryError(ValueError):
    """SQL the analytics server will not run; the message says why and what to write instead."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class ReadQuery:
    """A query that passed the check: what it reads, the CTEs it defines and the functions it calls."""

    tables: frozenset[str]
    ctes: frozenset[str]
    functions: frozenset[str]


def referenced_tables(sql: str) -> set[str]:
    """The base tables a read-only query reads, lower-cased, without CTE names.

    Every table referenced anywhere counts (subqueries, CTE bodies, both sides of a UNION). A name
    that might be either a CTE or a table is reported as a table, so the set never under-reports.

    Raises:
        UnsafeQueryError: `sql` is not exactly one read-only SELECT (see the module docstring),
            or cannot be parsed.
    """
    return set(check_read_query(sql).tables)


def check_read_query(sql: str) -> ReadQuery:
    """Check that `sql` is exactly one read-only SELECT and say what it reads.

    Raises:
        UnsafeQueryError: with `reason` naming the rule the query breaks.
    """
    statement = _parse_one(sql)
    if not isinstance(statement, exp.Select | exp.SetOperation):
        raise UnsafeQueryError(
            "not_a_read",
            f"Only SELECT queries are allowed, not {_kind(statement, sql)}; "
            "rewrite it as a single SELECT (WITH ... SELECT and UNION are fine).",
        )
    functions: set[str] = set()
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise UnsafeQueryError(
                "not_a_read",
                f"The query contains {_kind(node, sql)}, which is not a read; only SELECT is allowed "
                "(a CTE must be a SELECT too, and SELECT ... INTO is not allowed).",
            )
        if _is_parameter(node):
            raise UnsafeQueryError(
                "parameter", "The query has a bind parameter; write the values into the SQL as literals."
            )
        if isinstance(node, exp.In) and node.args.get("field") is not None:
            raise UnsafeQueryError(
                "table",
                "'x IN table' is not supported; write 'x IN (SELECT column FROM table)' instead.",
            )
        if (name := _allowed_function_name(node, sql)) is not None:
            functions.add(name)
    ctes = frozenset(cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE))
    return ReadQuery(tables=frozenset(_base_tables(statement, ctes)), ctes=ctes, functions=frozenset(functions))


def _parse_one(sql: str) -> exp.Expr:
    try:
        parsed = sqlglot.parse(sql, read=DIALECT)
    except (SqlglotError, RecursionError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnsafeQueryError(
            "unparseable", f"The SQL could not be parsed ({detail}); check it is valid SQLite SELECT syntax."
        ) from None
    # sqlglot keeps a comment after the last semicolon as a Semicolon node: not a statement.
    statements = [node for node in parsed if node is not None and not isinstance(node, exp.Semicolon)]
    if not statements:
        raise UnsafeQueryError("empty", "The SQL holds no statement; send one SELECT query.")
    if len(statements) > 1:
        raise UnsafeQueryError(
            "multiple_statements",
            f"The SQL holds {len(statements)} statements; send exactly one SELECT query, without "
            "anything after its semicolon.",
        )
    return statements[0]


def _kind(node: exp.Expr, sql: str) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    if isinstance(node, _FORBIDDEN_NODES):
        return node.key.upper()
    # Something sqlglot read as an expression (REINDEX, SAVEPOINT...): name what was written.
    return (sql.split() or ["an empty statement"])[0].upper()


def _is_parameter(node: exp.Expr) -> bool:
    if isinstance(node, exp.Placeholder | exp.Parameter | exp.SessionParameter):
        return True
    # sqlglot reads SQLite's $name parameter as a plain identifier.
    return isinstance(node, exp.Identifier) and not node.quoted and node.name.startswith(_PARAMETER_MARKS)


def _allowed_function_name(node: exp.Expr, sql: str) -> str | None:
    """The SQLite function a node calls, after checking it against `ALLOWED_FUNCTIONS`.

    None for a node that calls no function (columns, CAST, CASE, IN...).

    Raises:
        UnsafeQueryError: the node calls a function outside the allowlist.
    """
    if not isinstance(node, exp.Func) and type(node) not in _OPERATOR_FUNCTIONS:
        return None
    if isinstance(node, exp.Anonymous):
        candidates = [node.name.lower()]
    elif (written := _written_call_name(node, sql)) is not None:
        # sqlglot maps known functions to its own classes (ifnull -> Coalesce); the name as
        # written is what SQLite will call, so check that one.
        candidates = [written]
    elif type(node) in _OPERATOR_FUNCTIONS:
        candidates = [_OPERATOR_FUNCTIONS[type(node)]]
    elif isinstance(node, _SYNTAX_NODES):
        return None
    else:
        # Parsed by a special rule that records no position (trim, char, floor...): accept the
        # class when SQLite knows any of its names; the authorizer checks the one SQLite resolves.
        rendered = node.sql(dialect=DIALECT).split("(", 1)[0].strip().lower()
        candidates = [name.lower() for name in type(node).sql_names()] if isinstance(node, exp.Func) else []
        if _NAME.match(rendered) or not candidates:
            candidates.insert(0, rendered)
    for name in candidates:
        if name in ALLOWED_FUNCTIONS:
            return name
    raise UnsafeQueryError(
        "function",
        f"The function {candidates[0]} is not allowed here; use standard scalar, aggregate, window, "
        "date, math and JSON functions (functions that touch files, load code or describe the "
        "database engine are refused).",
    )


def _written_call_name(node: exp.Expr, sql: str) -> str | None:
    """The function name as written in `sql`, when sqlglot recorded where it is and a call follows."""
    start, end = node.meta.get("start"), node.meta.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    name = sql[start : end + 1].strip('"`[]')
    if not _NAME.match(name) or not sql[end + 1 :].lstrip().startswith("("):
        return None
    return name.lower()


def _base_tables(statement: exp.Expr, cte_names: frozenset[str]) -> set[str]:
    tables = list(statement.find_all(exp.Table))
    for table in tables:
        _check_table_reference(table)
    # sqlglot's scope analysis tells a CTE reference from a base table, with SQL's visibility
    # rules. A Table it does not classify as a base table counts as a CTE only if some CTE has
    # that name; anything else is treated as a table, so doubt never hides a table.
    try:
        classified = {
            id(source)
            for scope in traverse_scope(statement)
            for source in scope.sources.values()
            if isinstance(source, exp.Table)
        }
    except (SqlglotError, RecursionError):
        classified = {id(table) for table in tables}
    return {
        table.name.lower()
        for table in tables
        if id(table) in classified or table.db or table.name.lower() not in cte_names
    }


def _check_table_reference(table: exp.Table) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise UnsafeQueryError(
            "table",
            f"Table-valued functions such as {table.this.sql(dialect=DIALECT)} are not allowed; "
            "query the tables listed by list_tables.",
        )
    if table.catalog or table.db.lower() not in ("", "main"):
        raise UnsafeQueryError(
            "table",
            f"The table {table.sql(dialect=DIALECT)} is outside the main database; "
            "name tables without a schema prefix.",
        )
    if table.name.lower().startswith("sqlite_"):
        raise UnsafeQueryError(
            "table",
            f"{table.name} is SQLite's internal schema, which is not queryable; "
            "use list_tables and describe_table to see the tables and their columns.",
        )


class _DropCommandFallbackNotice(logging.Filter):
    """Drop sqlglot's 'falling back to parsing as a Command' warning.

    We refuse every Command anyway, and the warning quotes the caller's SQL into the logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_DropCommandFallbackNotice())
