"""The analytics server: read-only SQL over the demo database, governed, in both protocol eras."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent

import servers.analytics._database as database_module
from governance.audit import AuditStore
from governance.provenance import read_provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.analytics import AnalyticsSettings, build_server
from servers.analytics._database import DATABASE_FILE, DemoDatabase
from servers.analytics._demo import DemoData
from servers.analytics._executor import QueryFailed, execute_read_query
from servers.analytics._schema import DEMO_TABLES
from servers.analytics.server import QueryResult, TableDescription, TableList
from servers.analytics.sql import UnsafeQueryError, referenced_tables

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
BUILT_AT = datetime(2026, 10, 2, 6, 30, tzinfo=UTC)
POLICY = """
principals:
  alice: {roles: [analyst]}
roles:
  analyst:
    allow: ["analytics.*"]
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Every test only reads, so the module shares one database (and checks it stays unchanged).
    directory = tmp_path_factory.mktemp("analytics")
    DemoDatabase.ensure(directory, clock=lambda: BUILT_AT)
    return directory


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def governed(data_dir: Path, audit: AuditStore, settings: AnalyticsSettings | None = None) -> MCPServer:
    server = build_server(ServerConfig(data_dir=data_dir), settings or AnalyticsSettings())
    return governed_server(server, POLICY, audit, principal="alice")


async def call(server: MCPServer, mode: str, tool: str, **arguments: Any) -> CallToolResult:
    async with Client(server, mode=mode) as client:
        with anyio.fail_after(10):
            return await client.call_tool(tool, arguments)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def snapshot(data_dir: Path) -> tuple[dict[str, int], str]:
    """Row counts of the demo tables and a digest of the database file's bytes."""
    path = data_dir / DATABASE_FILE
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        counts = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DEMO_TABLES}
    finally:
        connection.close()
    return counts, hashlib.sha256(path.read_bytes()).hexdigest()


# -- what callers can do --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ERAS)
async def test_list_tables_shows_the_demo_tables_with_their_sizes_and_provenance(
    mode: str, data_dir: Path, audit: AuditStore
) -> None:
    result = await call(governed(data_dir, audit), mode, "list_tables")

    listing = TableList.model_validate(result.structured_content)
    sizes = {table.name: table.row_count for table in listing.tables}
    assert list(sizes) == list(DEMO_TABLES)
    assert (sizes["customers"], sizes["products"], sizes["orders"]) == (500, 120, 5000)
    assert sizes["order_items"] > 5000
    provenance = read_provenance(result.model_dump(mode="json", by_alias=True))
    assert provenance is not None
    assert (provenance.source, provenance.as_of) == ("analytics", BUILT_AT)


async def test_describe_table_gives_columns_types_meanings_and_row_count(data_dir: Path, audit: AuditStore) -> None:
    result = await call(governed(data_dir, audit), "auto", "describe_table", table="Orders")

    table = TableDescription.model_validate(result.structured_content)
    columns = {column.name: column for column in table.columns}
    assert (table.name, table.row_count) == ("orders", 5000)
    assert columns["id"].primary_key and not columns["id"].nullable
    assert (columns["total"].type, columns["shipped_at"].nullable) == ("REAL", True)
    assert columns["status"].description is not None and "delivered" in columns["status"].description


@pytest.mark.parametrize("table", ["sqlite_master", "dataset_info", "nope"])
async def test_describe_table_refuses_a_table_callers_cannot_see(table: str, data_dir: Path, audit: AuditStore) -> None:
    result = await call(governed(data_dir, audit), "auto", "describe_table", table=table)

    assert f"No table named '{table}'" in error_text(result)
    assert "customers, products, orders, order_items" in error_text(result)


@pytest.mark.parametrize("mode", ERAS)
async def test_run_query_answers_a_question_joining_tables(mode: str, data_dir: Path, audit: AuditStore) -> None:
    sql = """
        WITH revenue AS (
            SELECT c.region, sum(o.total) AS revenue, count(*) AS orders
            FROM orders AS o JOIN customers AS c ON c.id = o.customer_id
            WHERE o.status NOT IN ('cancelled', 'refunded')
            GROUP BY c.region
        )
        SELECT region, round(revenue, 2) AS revenue, orders,
               rank() OVER (ORDER BY revenue DESC) AS position
        FROM revenue ORDER BY position
    """
    result = await call(governed(data_dir, audit), mode, "run_query", sql=sql)

    answer = QueryResult.model_validate(result.structured_content)
    assert answer.columns == ["region", "revenue", "orders", "position"]
    assert answer.tables == ["customers", "orders"]
    assert not answer.truncated and answer.note is None
    with sqlite3.connect(data_dir / DATABASE_FILE) as connection:
        expected = [list(row) for row in connection.execute(sql)]
    assert answer.rows == expected
    assert {row[0] for row in answer.rows} == {"North America", "Europe", "Asia Pacific", "Latin America"}
    provenance = read_provenance(result.model_dump(mode="json", by_alias=True))
    assert provenance is not None and provenance.as_of == BUILT_AT


async def test_run_query_stops_at_max_rows_and_says_the_result_is_truncated(data_dir: Path, audit: AuditStore) -> None:
    result = await call(governed(data_dir, audit), "auto", "run_query", sql="SELECT id FROM orders", max_rows=7)

    answer = QueryResult.model_validate(result.structured_content)
    assert (answer.row_count, answer.truncated) == (7, True)
    assert answer.note is not None and "first 7 rows" in answer.note


async def test_the_max_rows_bound_in_the_schema_follows_the_settings(data_dir: Path, audit: AuditStore) -> None:
    server = governed(data_dir, audit, AnalyticsSettings(max_rows=50))
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("run_query", {"sql": "SELECT 1", "max_rows": 51})

    assert tools["run_query"].input_schema["properties"]["max_rows"]["maximum"] == 50
    assert result.is_error


async def test_every_tool_is_read_only_idempotent_and_closed_world(data_dir: Path, audit: AuditStore) -> None:
    async with Client(governed(data_dir, audit)) as client:
        tools = (await client.list_tools()).tools

    assert {tool.name for tool in tools} == {"list_tables", "describe_table", "run_query"}
    for tool in tools:
        hints = tool.annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint) == (
            True,
            False,
            True,
            False,
        )


async def test_blobs_and_infinities_come_back_as_text(data_dir: Path, audit: AuditStore) -> None:
    result = await call(governed(data_dir, audit), "auto", "run_query", sql="SELECT x'00ff' AS b, 1e999 AS big")

    assert QueryResult.model_validate(result.structured_content).rows == [["x'00ff'", "inf"]]


# -- what callers cannot do -----------------------------------------------------------------------

# (SQL, a fragment the refusal must contain). "{tmp}" is a fresh directory: nothing may appear in it.
ATTACKS = [
    ("SELECT 1; DROP TABLE orders", "2 statements"),
    ("sElEcT 1;/* */ dRoP TABLE orders", "2 statements"),
    ("SELECT count(*) FROM orders;\nDELETE FROM order_items", "2 statements"),
    ("SELECT 1 -- a comment\n; DROP TABLE orders", "2 statements"),
    ("SELECT 1\x00; DROP TABLE orders", "2 statements"),
    ("WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x", "DELETE, which is not a read"),
    ("WITH x AS (UPDATE orders SET total = 0 RETURNING *) SELECT * FROM x", "UPDATE, which is not a read"),
    ("SELECT * INTO orders_copy FROM orders", "SELECT ... INTO"),
    ("ATTACH DATABASE '{tmp}/evil.db' AS evil", "not ATTACH"),
    ("DETACH DATABASE main", "not DETACH"),
    ("PRAGMA writable_schema = ON", "not PRAGMA"),
    ("pragma query_only = off", "not PRAGMA"),
    ("select load_extension('x')", "load_extension is not allowed"),
    ("SELECT load_extension('/tmp/evil.so', 'sqlite3_extension_init')", "load_extension is not allowed"),
    ("SELECT \"LOAD_EXTENSION\"('/tmp/evil')", "load_extension is not allowed"),
    ("VACUUM INTO '{tmp}/copy.db'", "not VACUUM"),
    ("VACUUM", "not VACUUM"),
    ("COPY orders TO '{tmp}/orders.csv'", "not COPY"),
    ("INSERT INTO customers (name) VALUES ('Mallory')", "not INSERT"),
    ("UPDATE orders SET total = 0", "not UPDATE"),
    ("DELETE FROM orders", "not DELETE"),
    ("REPLACE INTO products (id, sku) VALUES (1, 'X')", "not REPLACE"),
    ("CREATE TABLE loot AS SELECT * FROM customers", "not CREATE"),
    ("CREATE TEMP VIEW v AS SELECT 1", "not CREATE"),
    ("DROP TABLE order_items", "not DROP"),
    ("ALTER TABLE orders RENAME TO gone", "not ALTER"),
    ("BEGIN IMMEDIATE", "not TRANSACTION"),
    ("SELECT * FROM sqlite_master", "internal schema"),
    ("SELECT sql FROM SQLITE_SCHEMA", "internal schema"),
    ("SELECT * FROM temp.sqlite_master", "outside the main database"),
    ("SELECT readfile('/etc/passwd')", "readfile is not allowed"),
    ("SELECT writefile('{tmp}/x', 'owned')", "writefile is not allowed"),
    ("SELECT edit('text', 'vi')", "edit is not allowed"),
    ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer is not allowed"),
    ("SELECT sqlite_version()", "sqlite_version is not allowed"),
    ("SELECT zeroblob(1000000000)", "zeroblob is not allowed"),
    ("SELECT * FROM pragma_table_info('orders')", "pragma_table_info is not allowed"),
    ("SELECT * FROM dataset_info", "does not expose"),
    ("SELECT 1 WHERE 'built_at' IN dataset_info", "'x IN table'"),
    ("SELECT * FROM orders WHERE id = ?", "bind parameter"),
    ("SELEC * FROM orders", "could not be parsed"),
]


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(("sql", "fragment"), ATTACKS, ids=[sql for sql, _ in ATTACKS])
async def test_a_query_that_is_not_a_plain_read_is_refused_and_changes_nothing(
    mode: str, sql: str, fragment: str, data_dir: Path, audit: AuditStore, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = snapshot(data_dir)

    result = await call(governed(data_dir, audit), mode, "run_query", sql=sql.format(tmp=scratch))

    assert fragment in error_text(result)
    assert snapshot(data_dir) == before
    assert list(scratch.iterdir()) == []
    record = [r for r in audit_records(audit) if r.tool == "run_query" and r.phase == "request"][-1]
    assert record.outcome == "tool_error"


async def test_a_query_that_runs_forever_is_stopped_at_the_time_limit(data_dir: Path, audit: AuditStore) -> None:
    server = governed(data_dir, audit, AnalyticsSettings(query_timeout_seconds=0.3))
    sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"

    result = await call(server, "auto", "run_query", sql=sql)

    assert "stopped after the 0.3 s time limit" in error_text(result)
    assert [r.outcome for r in audit_records(audit) if r.tool == "run_query"] == ["tool_error"]


async def test_a_table_the_settings_leave_out_is_refused(data_dir: Path, audit: AuditStore) -> None:
    server = governed(data_dir, audit, AnalyticsSettings(allowed_tables=("orders", "order_items")))
    async with Client(server) as client:
        listing = TableList.model_validate((await client.call_tool("list_tables", {})).structured_content)
        result = await client.call_tool("run_query", {"sql": "SELECT o.id FROM orders o JOIN customers c"})

    assert [table.name for table in listing.tables] == ["orders", "order_items"]
    assert "reads customers, which this server does not expose" in error_text(result)


async def test_a_value_longer_than_the_cap_is_refused(data_dir: Path, audit: AuditStore) -> None:
    sql = "SELECT group_concat(placed_at || ' ' || status, '; ') FROM orders"  # ~150 kB

    result = await call(governed(data_dir, audit), "auto", "run_query", sql=sql)

    assert "longer than 100000 bytes" in error_text(result)


# -- the second line of defence, on its own --------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("SELECT * FROM sqlite_master", "read the table 'sqlite_master'"),
        ("SELECT count(*) FROM dataset_info", "read the table 'dataset_info'"),
        ("SELECT 1 WHERE 1 IN dataset_info", "read the table 'dataset_info'"),
        ("SELECT * FROM pragma_table_info('orders')", "not allow"),
        ("SELECT readfile('/etc/passwd')", "no such function"),
        ("SELECT load_extension('x')", "call the function load_extension()"),
        ("SELECT sqlite_version()", "call the function sqlite_version()"),
        ("SELECT zeroblob(10)", "call the function zeroblob()"),
        ("DELETE FROM orders", "perform a delete operation"),
        ("CREATE TEMP TABLE t AS SELECT 1", "not allow"),
        ("ATTACH ':memory:' AS other", "perform a attach operation"),
        ("PRAGMA query_only = OFF", "perform a pragma operation"),
        ("SELECT 1; DELETE FROM orders", "one statement"),
    ],
)
def test_sqlite_refuses_what_the_parser_check_would_have_caught(sql: str, fragment: str, data_dir: Path) -> None:
    before = snapshot(data_dir)

    with pytest.raises(QueryFailed) as refused:
        execute_read_query(
            data_dir / DATABASE_FILE,
            sql,
            allowed_tables=frozenset(DEMO_TABLES),
            max_rows=10,
            timeout_seconds=2,
            max_result_bytes=100_000,
        )

    assert fragment in str(refused.value)
    assert snapshot(data_dir) == before


# -- the helper the params guard imports ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT 1", set()),
        ("select * from ORDERS", {"orders"}),
        ('SELECT * FROM "main"."Customers"', {"customers"}),
        ("SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers)", {"orders", "customers"}),
        ("WITH big AS (SELECT * FROM orders WHERE total > 500) SELECT count(*) FROM big", {"orders"}),
        ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9) SELECT i FROM n", set()),
        ("SELECT id FROM products UNION SELECT product_id FROM order_items", {"products", "order_items"}),
        # A CTE named like a table in one subquery does not hide the real table in another.
        ("SELECT * FROM secrets, (WITH secrets AS (SELECT 1) SELECT * FROM secrets)", {"secrets"}),
    ],
)
def test_referenced_tables_names_every_base_table_and_no_cte(sql: str, tables: set[str]) -> None:
    assert referenced_tables(sql) == tables


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DELETE FROM orders", "not_a_read"),
        ("WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x", "not_a_read"),
        ("SELECT 1; SELECT 2", "multiple_statements"),
        ("SELECT readfile('x')", "function"),
        ("SELECT * FROM json_each('[1]')", "function"),
        ("SELECT * FROM temp.orders", "table"),
        ("SELECT FROM WHERE", "unparseable"),
        ("/* nothing */", "empty"),
    ],
)
def test_referenced_tables_raises_a_value_error_for_anything_but_one_read(sql: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        referenced_tables(sql)

    assert isinstance(refused.value, UnsafeQueryError)
    assert refused.value.reason == reason


# -- the database file ----------------------------------------------------------------------------


def test_an_existing_database_is_reused_with_its_build_time(data_dir: Path) -> None:
    before = snapshot(data_dir)

    reopened = DemoDatabase.ensure(data_dir, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    assert reopened.built_at == BUILT_AT
    assert snapshot(data_dir) == before


def test_two_builds_hold_the_same_rows(tmp_path: Path, data_dir: Path) -> None:
    DemoDatabase.ensure(tmp_path, clock=lambda: datetime(2027, 5, 5, tzinfo=UTC))

    assert snapshot(tmp_path)[0] == snapshot(data_dir)[0]
    assert _table_digest(tmp_path) == _table_digest(data_dir)


def test_an_unreadable_database_file_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / DATABASE_FILE).write_bytes(b"not a database, half written")

    database = DemoDatabase.ensure(tmp_path, clock=lambda: BUILT_AT)

    assert database.built_at == BUILT_AT
    assert snapshot(tmp_path)[0]["orders"] == 5000


def test_a_build_that_fails_leaves_no_database_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = DemoData(customers=[(1, "Ann", "ann@mail.example", None, "consumer", "US", "Austin", "NA", "x")])
    broken.products = [(1, "KIT-1", "Kettle", "Kitchen", 1.0, 0.5, "2024-01-01", None)]
    broken.orders = [(1, 1, "2025-01-01 00:00:00", "lost-in-space")]  # too few columns: the insert fails
    monkeypatch.setattr(database_module, "generate", lambda: broken)

    with pytest.raises(sqlite3.Error):
        DemoDatabase.ensure(tmp_path, clock=lambda: BUILT_AT)

    assert list(tmp_path.iterdir()) == []


def _table_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(directory / DATABASE_FILE) as connection:
        for table in DEMO_TABLES:
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY id"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_sqlite_lets_a_query_count_its_own_cte_but_not_a_table_hiding_behind_one(data_dir: Path) -> None:
    def run(sql: str, ctes: set[str]) -> list[list[Any]]:
        return execute_read_query(
            data_dir / DATABASE_FILE,
            sql,
            allowed_tables=frozenset(DEMO_TABLES),
            cte_names=frozenset(ctes),
            max_rows=10,
            timeout_seconds=2,
            max_result_bytes=100_000,
        ).rows

    assert run("WITH late AS (SELECT id FROM orders WHERE status = 'pending') SELECT count(*) FROM late", {"late"})
    with pytest.raises(QueryFailed, match="read the table 'dataset_info'"):
        run("WITH dataset_info AS MATERIALIZED (SELECT 1) SELECT count(*) FROM dataset_info", {"dataset_info"})
