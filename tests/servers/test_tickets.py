"""The tickets server, governed, through the real SDK client: reads, the workflow, idempotent writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from governance.audit import AuditStore
from governance.provenance import read_provenance
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers._sql import StoreConfigurationError
from servers.tickets import TicketsSettings, build_server
from servers.tickets._seed import generate_tickets
from servers.tickets._workflow import TicketRuleError, check_transition

pytestmark = pytest.mark.anyio
pytest_plugins = ["postgres"]

ERAS = ["legacy", "auto"]
WRITES = ("create_ticket", "add_comment", "update_status", "assign_ticket")
POLICY = "principals:\n  alice: {roles: [agent]}\nroles:\n  agent:\n    allow: ['tickets.*']\ntools:\n" + "".join(
    f"  tickets.{tool}: {{approval: never}}\n" for tool in WRITES
)
# Some tests repeat one keyed write on purpose, six at once: more than the default loop threshold (5).
POLICY += "limits:\n  loop: {max_repeats: 10}\n"
FOLLOW_UP = {
    "subject": "Check the refund landed for INV-2026-4821",
    "description": "Customer was refunded $129.00 on Nov 18; confirm with them it arrived.",
    "category": "billing",
    "priority": "high",
    "customer_name": "Olivia Bennett",
    "customer_email": "olivia@mapleandrye.example",
}


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def tickets_server(
    data_dir: Path, audit: AuditStore, db_url: str | None = None, settings: TicketsSettings | None = None
) -> MCPServer:
    server = build_server(ServerConfig(data_dir=data_dir, db_url=db_url), settings)
    return governed_server(server, POLICY, audit, principal="alice")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(data_dir: Path, audit: AuditStore) -> MCPServer:
    return tickets_server(data_dir, audit)


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the tickets database through a connection of its own, as another process would."""
    with sqlite3.connect(data_dir / "tickets.db") as db:
        return db.execute(sql, params).fetchall()


def count(data_dir: Path, table: str) -> int:
    return int(query(data_dir, f"SELECT count(*) FROM {table}")[0][0])


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


def refusals(audit: AuditStore, tool: str) -> list[str | None]:
    return [r.error for r in audit_records(audit) if r.tool == tool and r.outcome == "tool_error"]


async def create(client: Client, **changes: Any) -> dict[str, Any]:
    ticket: dict[str, Any] = data(await client.call_tool("create_ticket", {**FOLLOW_UP, **changes}))["ticket"]
    return ticket


@pytest.mark.parametrize("mode", ERAS)
async def test_each_tool_carries_honest_annotations(mode: str, server: MCPServer) -> None:
    async with Client(server, mode=mode) as client:
        tools = {tool.name: tool.annotations for tool in (await client.list_tools()).tools}
    hints = {
        name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        for name, a in tools.items()
        if a is not None
    }
    assert hints == {
        "search_tickets": (True, False, True, False),
        "get_ticket": (True, False, True, False),
        "create_ticket": (False, False, False, False),
        "add_comment": (False, False, False, False),
        "update_status": (False, False, True, False),
        "assign_ticket": (False, False, True, False),
    }


async def test_an_empty_database_is_seeded_once_with_a_realistic_queue(data_dir: Path, audit: AuditStore) -> None:
    tickets_server(data_dir, audit)
    tickets_server(data_dir, audit)  # a second start finds the queue and leaves it alone
    assert count(data_dir, "tickets_ticket") == 150
    assert count(data_dir, "tickets_agent") == 8
    statuses = dict(query(data_dir, "SELECT status, count(*) FROM tickets_ticket GROUP BY status"))
    assert set(statuses) == {"open", "in_progress", "waiting_on_customer", "resolved", "closed"}
    assert query(data_dir, "SELECT count(*) FROM tickets_ticket WHERE status = 'closed' AND closed_at IS NULL") == [
        (0,)
    ]
    assert count(data_dir, "tickets_comment") > 300
    ids_by_age = [row[0] for row in query(data_dir, "SELECT id FROM tickets_ticket ORDER BY created_at, id")]
    assert ids_by_age == list(range(1, 151))


def test_the_demo_queue_is_the_same_for_the_same_anchor_and_lies_before_it() -> None:
    anchor = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    queue = generate_tickets(anchor)
    assert queue == generate_tickets(anchor)
    assert all(t.created_at <= t.updated_at <= anchor for t in queue)
    assert all(c.created_at <= anchor for t in queue for c in t.comments)
    assert all("{" not in t.subject + t.description for t in queue)


async def test_seeding_can_be_turned_off(data_dir: Path, audit: AuditStore) -> None:
    tickets_server(data_dir, audit, settings=TicketsSettings(seed_demo_data=False))
    assert count(data_dir, "tickets_ticket") == 0


@pytest.mark.parametrize("mode", ERAS)
async def test_search_filters_by_status_priority_and_assignee(mode: str, server: MCPServer) -> None:
    async with Client(server, mode=mode) as client:
        closed = data(await client.call_tool("search_tickets", {"status": "closed", "limit": 50}))
        urgent = data(await client.call_tool("search_tickets", {"priority": "urgent", "limit": 50}))
        priya = data(await client.call_tool("search_tickets", {"assignee": "priya.nair", "limit": 50}))
        queue = data(await client.call_tool("search_tickets", {"assignee": "unassigned", "limit": 3}))
    assert closed["tickets"] and {t["status"] for t in closed["tickets"]} == {"closed"}
    assert urgent["tickets"] and {t["priority"] for t in urgent["tickets"]} == {"urgent"}
    assert priya["tickets"] and {t["assignee"] for t in priya["tickets"]} == {"priya.nair"}
    assert len(queue["tickets"]) == 3 and queue["total_matching"] > 3
    assert {t["assignee"] for t in queue["tickets"]} == {None}
    updated = [t["updated_at"] for t in closed["tickets"]]
    assert updated == sorted(updated, reverse=True)


async def test_search_text_matches_every_word_and_treats_wildcards_literally(server: MCPServer, data_dir: Path) -> None:
    async with Client(server) as client:
        found = data(await client.call_tool("search_tickets", {"text": "REFUND invoice", "limit": 50}))
        wildcard = data(await client.call_tool("search_tickets", {"text": "%", "limit": 50}))
    assert found["tickets"]
    for hit in found["tickets"]:
        ((subject, description),) = query(
            data_dir, "SELECT subject, description FROM tickets_ticket WHERE id = ?", hit["id"]
        )
        text = f"{subject} {description}".lower()
        assert "refund" in text and "invoice" in text
    assert wildcard == {"tickets": [], "total_matching": 0}


async def test_searching_for_an_unknown_assignee_names_the_team(server: MCPServer, audit: AuditStore) -> None:
    async with Client(server) as client:
        result = await client.call_tool("search_tickets", {"assignee": "bob"})
    assert "No team member has the handle 'bob'; use one of: aiko.tanaka" in error_text(result)
    assert len(refusals(audit, "search_tickets")) == 1


@pytest.mark.parametrize("mode", ERAS)
async def test_get_ticket_returns_the_conversation_and_live_provenance(mode: str, server: MCPServer) -> None:
    before = datetime.now(UTC)
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("get_ticket", {"ticket_id": 1})
    after = datetime.now(UTC)
    ticket = data(result)
    assert ticket["status"] == "closed" and ticket["allowed_next_statuses"] == []
    times = [c["created_at"] for c in ticket["comments"]]
    assert times and times == sorted(times)
    provenance = read_provenance({"_meta": result.meta})
    assert provenance is not None and provenance.source == "tickets"
    # The store is the live source: the data is true now, not when the ticket last changed.
    assert before <= provenance.as_of <= after
    assert datetime.fromisoformat(ticket["updated_at"]) < before


async def test_a_missing_ticket_is_an_error_result(server: MCPServer, audit: AuditStore) -> None:
    async with Client(server) as client:
        result = await client.call_tool("get_ticket", {"ticket_id": 9999})
    assert error_text(result).endswith("No ticket has id 9999; use search_tickets to find ticket ids.")
    assert len(refusals(audit, "get_ticket")) == 1


@pytest.mark.parametrize("mode", ERAS)
async def test_a_ticket_moves_through_the_workflow_and_can_be_reopened(mode: str, server: MCPServer) -> None:
    async with Client(server, mode=mode) as client:
        ticket = await create(client)
        assert ticket["status"] == "open" and ticket["id"] == 151

        async def move(status: str, note: str | None = None) -> dict[str, Any]:
            arguments = {"ticket_id": 151, "status": status} | ({"note": note} if note else {})
            return data(await client.call_tool("update_status", arguments))

        assert (await move("in_progress"))["allowed_next_statuses"] == ["waiting_on_customer", "resolved", "open"]
        resolved = await move("resolved", "Refund confirmed by the customer.")
        assert resolved["note"]["author"] == "AI assistant (via MCP)"
        assert (await move("open"))["previous_status"] == "resolved"  # the customer says it is not fixed
        await move("resolved")
        closed = await move("closed")
        detail = data(await client.call_tool("get_ticket", {"ticket_id": 151}))
    assert closed["allowed_next_statuses"] == []
    assert detail["status"] == "closed" and detail["closed_at"] and detail["resolved_at"]
    assert [c["body"] for c in detail["comments"]] == ["Refund confirmed by the customer."]


async def test_a_ticket_cannot_be_closed_twice(server: MCPServer, data_dir: Path, audit: AuditStore) -> None:
    before = query(data_dir, "SELECT updated_at FROM tickets_ticket WHERE id = 1")
    comments = count(data_dir, "tickets_comment")
    async with Client(server) as client:
        result = await client.call_tool("update_status", {"ticket_id": 1, "status": "closed", "note": "again"})
    assert "Ticket #1 is already closed, and a closed ticket is final. File a follow-up with create_ticket" in (
        error_text(result)
    )
    assert query(data_dir, "SELECT updated_at FROM tickets_ticket WHERE id = 1") == before
    assert count(data_dir, "tickets_comment") == comments  # the note was not written either
    assert len(refusals(audit, "update_status")) == 1


async def test_a_move_the_workflow_forbids_names_the_allowed_moves(server: MCPServer, audit: AuditStore) -> None:
    async with Client(server) as client:
        ticket = await create(client)
        skipped = await client.call_tool("update_status", {"ticket_id": ticket["id"], "status": "closed"})
        same = await client.call_tool("update_status", {"ticket_id": ticket["id"], "status": "open"})
    assert "cannot go from open to closed; from open it can move to: in_progress, waiting_on_customer, resolved." in (
        error_text(skipped)
    )
    assert "is already open; from open it can move to: in_progress" in error_text(same)
    assert len(refusals(audit, "update_status")) == 2


async def test_an_unknown_status_is_refused_naming_the_statuses(server: MCPServer, audit: AuditStore) -> None:
    async with Client(server) as client:
        result = await client.call_tool("update_status", {"ticket_id": 5, "status": "done"})
    text = error_text(result)
    assert "'status'" in text and "open" in text and "waiting_on_customer" in text and "closed" in text
    assert len(refusals(audit, "update_status")) == 1
    # The store checks too, naming the moves open to this ticket, for callers that skip the schema.
    with pytest.raises(TicketRuleError, match=r"Unknown status 'done'.*can move to: closed, open"):
        check_transition(5, "resolved", "done")


async def test_a_closed_ticket_takes_no_comment_or_assignment(server: MCPServer, data_dir: Path) -> None:
    comments = count(data_dir, "tickets_comment")
    async with Client(server) as client:
        comment = await client.call_tool("add_comment", {"ticket_id": 1, "body": "Any news?"})
        assign = await client.call_tool("assign_ticket", {"ticket_id": 1, "assignee": "priya.nair"})
    assert "Ticket #1 is closed and takes no more comments" in error_text(comment)
    assert "Ticket #1 is closed and cannot be reassigned" in error_text(assign)
    assert count(data_dir, "tickets_comment") == comments


async def test_assignment_checks_the_handle_and_a_repeat_changes_nothing(server: MCPServer) -> None:
    async with Client(server) as client:
        ticket = await create(client)
        unknown = await client.call_tool("assign_ticket", {"ticket_id": ticket["id"], "assignee": "bob"})
        first = data(await client.call_tool("assign_ticket", {"ticket_id": ticket["id"], "assignee": "marcus.chen"}))
        again = data(await client.call_tool("assign_ticket", {"ticket_id": ticket["id"], "assignee": "marcus.chen"}))
        back = data(await client.call_tool("assign_ticket", {"ticket_id": ticket["id"], "assignee": None}))
    assert "use one of: aiko.tanaka, daniel.kim" in error_text(unknown)
    assert (first["previous_assignee"], first["assignee"], first["changed"]) == (None, "marcus.chen", True)
    assert (again["changed"], again["updated_at"]) == (False, first["updated_at"])
    assert (back["previous_assignee"], back["assignee"]) == ("marcus.chen", None)


async def test_comments_are_written_under_the_configured_author(data_dir: Path, audit: AuditStore) -> None:
    server = tickets_server(data_dir, audit, settings=TicketsSettings(comment_author="Harbor assistant"))
    async with Client(server) as client:
        added = data(await client.call_tool("add_comment", {"ticket_id": 150, "body": "Escalating.", "internal": True}))
    assert added["comment"]["author"] == "Harbor assistant" and added["comment"]["internal"] is True


@pytest.mark.parametrize("mode", ERAS)
async def test_a_write_repeated_with_its_idempotency_key_happens_once(
    mode: str, server: MCPServer, data_dir: Path
) -> None:
    async with Client(server, mode=mode) as client:
        first = await client.call_tool("create_ticket", {**FOLLOW_UP, "idempotency_key": "follow-up-4821"})
        again = await client.call_tool("create_ticket", {**FOLLOW_UP, "idempotency_key": "follow-up-4821"})
    assert data(again)["replayed"] is True and data(first)["replayed"] is False
    assert data(again)["ticket"] == data(first)["ticket"]
    assert count(data_dir, "tickets_ticket") == 151
    # The replay is the original result, so its data was true when the original write ran.
    assert read_provenance({"_meta": again.meta}) == read_provenance({"_meta": first.meta})


async def test_an_idempotency_key_reused_for_other_arguments_is_refused(
    server: MCPServer, data_dir: Path, audit: AuditStore
) -> None:
    async with Client(server) as client:
        await client.call_tool("add_comment", {"ticket_id": 150, "body": "Checking.", "idempotency_key": "k-77"})
        other = await client.call_tool("add_comment", {"ticket_id": 150, "body": "Other.", "idempotency_key": "k-77"})
        tool = await client.call_tool(
            "update_status", {"ticket_id": 150, "status": "resolved", "idempotency_key": "k-77"}
        )
    assert "idempotency_key 'k-77' was already used for other arguments" in error_text(other)
    assert "idempotency_key 'k-77' was already used for a add_comment call" in error_text(tool)
    assert query(data_dir, "SELECT count(*) FROM tickets_comment WHERE ticket_id = 150 AND body = 'Other.'") == [(0,)]
    assert query(data_dir, "SELECT status FROM tickets_ticket WHERE id = 150") == [("open",)]
    assert len(refusals(audit, "add_comment")) == 1 and len(refusals(audit, "update_status")) == 1


async def test_concurrent_calls_with_one_idempotency_key_write_once(server: MCPServer, data_dir: Path) -> None:
    results: list[CallToolResult] = []
    async with Client(server) as client:

        async def call() -> None:
            results.append(await client.call_tool("create_ticket", {**FOLLOW_UP, "idempotency_key": "race-1"}))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(call)
    assert {data(r)["ticket"]["id"] for r in results} == {151}
    assert sorted(data(r)["replayed"] for r in results) == [False] + [True] * 7
    assert count(data_dir, "tickets_ticket") == 151


async def test_a_write_that_fails_halfway_leaves_nothing_behind(
    server: MCPServer, data_dir: Path, audit: AuditStore
) -> None:
    # The status change is made first, then its note: a failing note insert must undo the change.
    with sqlite3.connect(data_dir / "tickets.db") as db:
        db.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON tickets_comment BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    arguments = {"ticket_id": 150, "status": "resolved", "note": "Fixed.", "idempotency_key": "resolve-150"}
    async with Client(server) as client:
        failed = await client.call_tool("update_status", arguments)
        assert failed.is_error
        assert query(data_dir, "SELECT status, resolved_at FROM tickets_ticket WHERE id = 150") == [("open", None)]
        assert count(data_dir, "tickets_idempotency") == 0  # the key was not spent on the failed write
        with sqlite3.connect(data_dir / "tickets.db") as db:
            db.execute("DROP TRIGGER full_disk")
        retried = data(await client.call_tool("update_status", arguments))
    assert (retried["status"], retried["replayed"]) == ("resolved", False)
    assert len(refusals(audit, "update_status")) == 1


def test_an_in_memory_database_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigurationError, match="needs a SQLite file"):
        build_server(ServerConfig(data_dir=tmp_path, db_url="sqlite://"))


async def test_the_store_shares_a_postgresql_database_with_the_audit_log(postgres_url: str, tmp_path: Path) -> None:
    audit = AuditStore.open(postgres_url)
    try:
        server = tickets_server(tmp_path, audit, db_url=postgres_url)
        results: list[CallToolResult] = []
        async with Client(server) as client:

            async def call() -> None:
                results.append(await client.call_tool("create_ticket", {**FOLLOW_UP, "idempotency_key": "pg-race"}))

            with anyio.fail_after(30):
                async with anyio.create_task_group() as group:
                    for _ in range(6):
                        group.start_soon(call)
            moved = data(await client.call_tool("update_status", {"ticket_id": 151, "status": "resolved"}))
            twice = await client.call_tool("update_status", {"ticket_id": 151, "status": "resolved"})
        assert {data(r)["ticket"]["id"] for r in results} == {151}
        assert moved["previous_status"] == "open"
        assert "already resolved" in error_text(twice)
        assert {r.tool for r in audit_records(audit)} >= {"create_ticket", "update_status"}
        assert not (tmp_path / "tickets.db").exists()
    finally:
        audit.close()
