"""The analytics MCP server: read-only SQL over a demo store's database.

``list_tables`` and ``describe_table`` show what there is; ``run_query`` runs one SELECT. A query
passes two independent checks: sqlglot (`servers.analytics.sql`: one read-only SELECT, allowlisted
functions, allowed tables) and then SQLite itself (`_executor`: read-only connection, authorizer,
time and size caps). Every result carries provenance: source ``analytics``, ``as_of`` the time the
database was built.
"""

# No `from __future__ import annotations`: run_query's max_rows bound comes from the settings, so
# its annotation must be evaluated where it is written, inside build_server.

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from governance.provenance import Provenance
from servers._config import ServerConfig
from servers.analytics._database import DemoDatabase
from servers.analytics._executor import QueryFailed, execute_read_query
from servers.analytics._schema import COLUMN_NOTES, DEMO_TABLES, TABLE_DESCRIPTIONS
from servers.analytics.sql import UnsafeQueryError, check_read_query

__all__ = ["AnalyticsSettings", "build_server"]

SERVER_NAME = "analytics"
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class AnalyticsSettings(BaseSettings):
    """Settings of the analytics server (environment: ``MCPGOV_ANALYTICS_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="MCPGOV_ANALYTICS_", frozen=True)

    allowed_tables: tuple[str, ...] = Field(
        default=DEMO_TABLES, min_length=1, description="Tables callers may see and query."
    )
    max_rows: int = Field(default=1000, ge=1, le=10_000, description="Most rows one query may return.")
    query_timeout_seconds: float = Field(default=5.0, gt=0, le=120, description="A query is stopped after this.")
    max_result_bytes: int = Field(
        default=1_000_000, ge=1_000, le=50_000_000, description="Rough cap on the values one result carries."
    )

    @field_validator("allowed_tables")
    @classmethod
    def _plain_table_names(cls, tables: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(table.lower() for table in tables))
        for name in names:
            if not _TABLE_NAME.match(name) or name.startswith("sqlite_"):
                raise ValueError(f"{name!r} is not an allowed table name (plain names only, no sqlite_*)")
        return names


class TableSummary(BaseModel):
    """A table a query may read."""

    name: str
    description: str
    row_count: int


class TableList(BaseModel):
    """The tables run_query may read."""

    tables: list[TableSummary]


class ColumnDescription(BaseModel):
    """One column of a table."""

    name: str
    type: str = Field(description="SQLite's declared type: INTEGER, REAL or TEXT.")
    nullable: bool
    primary_key: bool
    description: str | None = None


class TableDescription(BaseModel):
    """A table's columns and size."""

    name: str
    description: str
    row_count: int
    columns: list[ColumnDescription]


class QueryResult(BaseModel):
    """The rows a query returned, at most max_rows of them."""

    columns: list[str]
    rows: list[list[int | float | str | None]] = Field(
        description="One list per row, in column order; blobs as x'hex' text."
    )
    row_count: int = Field(description="Rows in this result (not counting rows cut off).")
    truncated: bool = Field(description="True when the query had more rows than this result carries.")
    note: str | None = Field(default=None, description="Why the result was cut short, and what to do.")
    tables: list[str] = Field(description="The tables the query read.")


def build_server(
    config: ServerConfig,
    settings: AnalyticsSettings | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> MCPServer:
    """Build the analytics server over the demo database in ``config.data_dir``.

    Args:
        config: The suite's common settings; the database lives at ``data_dir / "analytics.db"``
            and is generated there on first start.
        settings: Server settings; read from the environment when omitted.
        clock: Gives the build time recorded when the database is (re)built.

    Returns:
        An MCPServer named ``analytics`` with the tools ``list_tables``, ``describe_table`` and
        ``run_query``.
    """
    settings = settings or AnalyticsSettings()
    database = DemoDatabase.ensure(config.data_dir, clock=clock)
    allowed = frozenset(settings.allowed_tables)
    meta = Provenance(source=SERVER_NAME, as_of=database.built_at).as_meta()
    server = MCPServer(
        name=SERVER_NAME,
        version=version("mcpgov"),
        instructions=(
            "Read-only SQL (SQLite dialect) over an online store's customers, products, orders and "
            "order_items from Oct 2024 to Sep 2026. Call list_tables and describe_table first, then "
            "run_query with one SELECT (WITH, joins, window functions and UNION are fine)."
        ),
    )

    def result(model: BaseModel) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(type="text", text=model.model_dump_json(indent=2))],
            structured_content=model.model_dump(mode="json"),
            _meta=meta,
        )

    def visible_tables() -> list[str]:
        present = set(database.tables())
        return [name for name in settings.allowed_tables if name in present]

    @server.tool(annotations=_READ_ONLY)
    def list_tables() -> Annotated[CallToolResult, TableList]:
        """List the tables run_query may read, with what each holds and its row count."""
        summaries = []
        for name in visible_tables():
            info = database.table_info(name)
            summaries.append(
                TableSummary(name=name, description=TABLE_DESCRIPTIONS.get(name, ""), row_count=info.row_count)
            )
        return result(TableList(tables=summaries))

    @server.tool(annotations=_READ_ONLY)
    def describe_table(
        table: Annotated[str, Field(min_length=1, max_length=64, description="A name from list_tables.")],
    ) -> Annotated[CallToolResult, TableDescription]:
        """Show a table's columns (name, type, nullability, meaning) and its row count."""
        name = table.lower()
        tables = visible_tables()
        if name not in tables:
            raise ToolError(f"No table named {table!r} is available; the tables are: {', '.join(tables)}.")
        info = database.table_info(name)
        notes = COLUMN_NOTES.get(name, {})
        columns = [
            ColumnDescription(
                name=column.name,
                type=column.type,
                nullable=column.nullable,
                primary_key=column.primary_key,
                description=notes.get(column.name),
            )
            for column in info.columns
        ]
        return result(
            TableDescription(
                name=name, description=TABLE_DESCRIPTIONS.get(name, ""), row_count=info.row_count, columns=columns
            )
        )

    @server.tool(annotations=_READ_ONLY)
    def run_query(
        sql: Annotated[
            str,
            Field(
                min_length=1,
                max_length=20_000,
                description='One SQLite SELECT statement, e.g. "SELECT status, count(*) FROM orders '
                'GROUP BY status". Values go inline: no bind parameters.',
            ),
        ],
        max_rows: Annotated[
            int, Field(ge=1, le=settings.max_rows, description="Most rows to return; the rest are cut off.")
        ] = min(100, settings.max_rows),
    ) -> Annotated[CallToolResult, QueryResult]:
        """Run one read-only SELECT and return its rows (SQLite dialect: strftime, date, julianday...).

        Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS'; money is USD. Only SELECT is allowed.
        """
        try:
            checked = check_read_query(sql)
        except UnsafeQueryError as error:
            raise ToolError(str(error)) from None
        outside = sorted(checked.tables - allowed)
        if outside:
            raise ToolError(
                f"The query reads {', '.join(outside)}, which this server does not expose; "
                f"the tables are: {', '.join(settings.allowed_tables)}."
            )
        try:
            # A read: through the database's breaker, retried if SQLite cannot open the file.
            found = database.breaker.read(
                lambda: execute_read_query(
                    database.path,
                    sql,
                    allowed_tables=allowed,
                    cte_names=checked.ctes,
                    max_rows=max_rows,
                    timeout_seconds=settings.query_timeout_seconds,
                    max_result_bytes=settings.max_result_bytes,
                ),
                retry_on=sqlite3.OperationalError,
            )
        except QueryFailed as error:
            raise ToolError(str(error)) from None
        note = None
        if found.truncated_by == "max_rows":
            note = (
                f"Only the first {max_rows} rows are shown; the query returned more. Aggregate, add a "
                f"LIMIT, or raise max_rows (up to {settings.max_rows})."
            )
        elif found.truncated_by == "max_result_bytes":
            note = (
                f"Only the first {len(found.rows)} rows are shown: the result reached the server's "
                f"{settings.max_result_bytes}-byte cap. Select fewer or shorter columns."
            )
        return result(
            QueryResult(
                columns=found.columns,
                rows=found.rows,
                row_count=len(found.rows),
                truncated=found.truncated_by is not None,
                note=note,
                tables=sorted(checked.tables),
            )
        )

    return server
