"""The governance pipeline end to end, in-process, through the real SDK client in both protocol eras."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from governance.audit import AuditStore
from governance.testing import audit_records, governed_server, open_audit

pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]

POLICY = """
principals:
  alice: {roles: [agent]}
  bob: {roles: [viewer]}
roles:
  agent:
    allow: ["desk.*"]
    deny: ["desk.internal_*"]
  viewer:
    allow: ["desk.lookup"]
tools:
  desk.lookup:
    params:
      order_id: {maximum: 1000}
      note: {max_length: 20, pattern: "^[a-z ]*$"}
  desk.tag_order:
    approval: never
    params:
      tag: {enum: [vip, fraud-check]}
"""


class Order(BaseModel):
    order_id: int
    status: str


class Desk:
    """A small support-desk server whose side effects the tests can count."""

    def __init__(self) -> None:
        self.refunds: list[int] = []
        self.tags: list[str] = []
        self.server = MCPServer("desk", version="1.2.3")
        read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False)

        @self.server.tool(annotations=read_only)
        def lookup(order_id: int, note: str | None = None) -> Order:
            """Look up an order."""
            return Order(order_id=order_id, status="shipped")

        @self.server.tool(annotations=read_only)
        def internal_debug() -> str:
            """Hidden from agents by the policy."""
            return "debug"

        @self.server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
        def refund(order_id: int) -> str:
            """Refund an order (no approval rule: the default gate applies)."""
            self.refunds.append(order_id)
            return "refunded"

        @self.server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
        def tag_order(order_id: int, tag: str) -> str:
            """Tag an order (the policy lets it run unreviewed)."""
            self.tags.append(tag)
            return "tagged"


@pytest.fixture
def audit(tmp_path: Path) -> Any:
    store = open_audit(tmp_path)
    yield store
    store.close()


def desk_for(principal: str, audit: AuditStore) -> Desk:
    desk = Desk()
    governed_server(desk.server, POLICY, audit, principal=principal)
    return desk


@pytest.mark.requirement("allowlist.hidden-tool-absent")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_tool_the_policy_hides_is_absent_from_the_listing(mode: str, audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server, mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == {"lookup", "refund", "tag_order"}


@pytest.mark.requirement("allowlist.per-principal")
async def test_each_principal_sees_only_its_own_tools(audit: AuditStore) -> None:
    async with Client(desk_for("bob", audit).server) as client:
        assert [tool.name for tool in (await client.list_tools()).tools] == ["lookup"]


@pytest.mark.requirement("allowlist.default-deny")
@pytest.mark.parametrize("mode", ERAS)
async def test_an_unknown_principal_gets_nothing(mode: str, audit: AuditStore) -> None:
    desk = desk_for("mallory", audit)
    async with Client(desk.server, mode=mode) as client:
        assert (await client.list_tools()).tools == []
        result = await client.call_tool("lookup", {"order_id": 1})
    assert result.is_error
    assert result.content[0].text == "Unknown tool: lookup"  # type: ignore[union-attr]


@pytest.mark.requirement("allowlist.hidden-equals-unknown")
@pytest.mark.parametrize("mode", ERAS)
async def test_calling_a_hidden_tool_gets_exactly_the_unknown_tool_answer(mode: str, audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server, mode=mode) as client:
        hidden = await client.call_tool("internal_debug", {})
        missing = await client.call_tool("no_such_tool", {})
    hidden_wire = hidden.model_dump(by_alias=True, exclude_none=True)
    missing_wire = missing.model_dump(by_alias=True, exclude_none=True)
    assert hidden.is_error
    assert hidden_wire["content"][0]["text"] == "Unknown tool: internal_debug"
    hidden_wire["content"][0]["text"] = missing_wire["content"][0]["text"]
    assert hidden_wire == missing_wire


@pytest.mark.requirement("params.schema-field-named")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_wrongly_typed_argument_is_an_error_result_naming_the_field(mode: str, audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server, mode=mode) as client:
        result = await client.call_tool("lookup", {"order_id": "seven"})
    assert result.is_error
    assert result.structured_content == {
        "error": "invalid_arguments",
        "field": "order_id",
        "message": result.content[0].text,  # type: ignore[union-attr]
    }
    assert "'order_id'" in result.content[0].text  # type: ignore[union-attr]
    assert "must be integer" in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.requirement("params.no-extra-properties")
async def test_an_argument_the_tool_does_not_declare_is_refused(audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server) as client:
        result = await client.call_tool("lookup", {"order_id": 1, "include_card_number": True})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "unexpected argument include_card_number" in text
    assert "accepts: note, order_id" in text


@pytest.mark.requirement("params.required")
async def test_a_missing_required_argument_is_named(audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server) as client:
        result = await client.call_tool("lookup", {})
    assert result.is_error
    assert result.structured_content is not None
    assert result.structured_content["field"] == "order_id"


@pytest.mark.requirement("params.policy-constraints")
@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"order_id": 1001}, "order_id", "smaller than or equal to 1000"),
        ({"order_id": 5, "note": "x" * 21}, "note", "shorter than or equal to 20"),
        ({"order_id": 5, "note": "DROP TABLE"}, "note", "match pattern"),
    ],
)
async def test_policy_constraints_on_values_are_enforced(
    arguments: dict[str, Any], field: str, words: str, audit: AuditStore
) -> None:
    async with Client(desk_for("alice", audit).server) as client:
        result = await client.call_tool("lookup", arguments)
    assert result.is_error
    assert result.structured_content is not None
    assert result.structured_content["field"] == field
    assert words in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.requirement("params.policy-constraints")
async def test_an_allowed_value_passes_and_a_value_outside_the_enum_does_not(audit: AuditStore) -> None:
    desk = desk_for("alice", audit)
    async with Client(desk.server) as client:
        ok = await client.call_tool("tag_order", {"order_id": 5, "tag": "vip"})
        refused = await client.call_tool("tag_order", {"order_id": 5, "tag": "free-money"})
    assert not ok.is_error
    assert refused.is_error
    assert desk.tags == ["vip"]


@pytest.mark.requirement("approval.default-for-writes")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_write_tool_without_an_approval_rule_is_refused_and_never_runs(mode: str, audit: AuditStore) -> None:
    desk = desk_for("alice", audit)
    async with Client(desk.server, mode=mode) as client:
        result = await client.call_tool("refund", {"order_id": 9})
    assert result.is_error
    assert result.content[0].text.startswith("Approval required: 'refund'")  # type: ignore[union-attr]
    assert desk.refunds == []


async def test_a_permitted_read_returns_the_tools_own_result(audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server) as client:
        result = await client.call_tool("lookup", {"order_id": 42})
    assert not result.is_error
    assert result.structured_content == {"order_id": 42, "status": "shipped"}


@pytest.mark.requirement("audit.every-request")
async def test_every_request_leaves_one_record_with_its_decision(audit: AuditStore) -> None:
    async with Client(desk_for("alice", audit).server) as client:
        await client.list_tools()
        await client.call_tool("lookup", {"order_id": 42})
        await client.call_tool("internal_debug", {})
        await client.call_tool("lookup", {"order_id": "x"})
    records = [r for r in audit_records(audit) if r.phase == "request"]
    summary = [(r.method, r.tool, r.decision, r.outcome, r.error_code) for r in records]
    assert summary == [
        ("tools/list", None, None, "ok", None),
        ("tools/call", "lookup", "allow", "ok", None),
        ("tools/call", "internal_debug", "deny", "tool_error", "unknown_tool"),
        ("tools/call", "lookup", "allow", "tool_error", "invalid_arguments"),
    ]
    allowed, denied = records[1], records[2]
    assert allowed.policy_ids == ["role:agent:allow:desk.*"]
    assert denied.policy_ids == ["role:agent:deny:desk.internal_*"]
    assert {r.principal for r in records} == {"alice"}
    assert {r.server_version for r in records} == {"1.2.3"}
    assert allowed.args_digest is not None and allowed.arguments == {"order_id": 42}
    assert allowed.latency_ms is not None and allowed.latency_ms > 0


@pytest.mark.requirement("audit.write-ahead")
async def test_a_write_tool_runs_only_after_its_intent_record_is_committed(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    seen_from_another_connection: list[int] = []
    desk = Desk()

    @desk.server.tool(annotations=ToolAnnotations(read_only_hint=False))
    def close_account(account: str) -> str:
        """Reads the audit database from a separate store while it runs."""
        with AuditStore.open(f"sqlite:///{tmp_path / 'audit.db'}", create=False) as reader:
            seen_from_another_connection.extend(
                r.seq for r in reader.iter_records() if r.record.tool == "close_account"
            )
        return "closed"

    policy = POLICY + "  desk.close_account:\n    approval: never\n"
    governed_server(desk.server, policy, audit, principal="alice")
    async with Client(desk.server) as client:
        result = await client.call_tool("close_account", {"account": "a-1"})
    assert not result.is_error
    assert len(seen_from_another_connection) == 1  # the intent, committed before the tool ran
    phases = [(r.phase, r.outcome) for r in audit_records(audit) if r.tool == "close_account"]
    assert phases == [("intent", "started"), ("request", "ok")]
    audit.close()


@pytest.mark.requirement("audit.fail-closed")
async def test_a_write_tool_does_not_run_when_its_record_cannot_be_stored(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    desk = desk_for("alice", audit)
    with audit.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE audit_record")
    async with Client(desk.server) as client:
        with pytest.raises(Exception, match="audit"):
            await client.call_tool("tag_order", {"order_id": 1, "tag": "vip"})
    assert desk.tags == []
    audit.close()


@pytest.mark.requirement("redaction.audit-arguments")
async def test_secrets_in_arguments_are_never_stored_raw(audit: AuditStore) -> None:
    desk = desk_for("alice", audit)
    async with Client(desk.server) as client:
        await client.call_tool("lookup", {"order_id": 1, "note": "AKIAIOSFODNN7EXAMPLE"})
    with audit.engine.connect() as connection:
        bodies = [row[0] for row in connection.exec_driver_sql("SELECT body FROM audit_record")]
    assert bodies
    assert not any("AKIAIOSFODNN7EXAMPLE" in body for body in bodies)
    assert any("[REDACTED]" in body for body in bodies)


VALUE_POLICY = """
principals:
  alice: {roles: [agent]}
roles:
  agent:
    allow: ["outreach.*"]
tools:
  outreach.send:
    approval: never
    params:
      to: {email_domains: [example.com, "*.example.org"]}
      link: {url_hosts: [docs.example.com]}
      sql: {sql_tables: [orders, customers]}
"""


def outreach_server() -> tuple[MCPServer, list[str]]:
    sent: list[str] = []
    server = MCPServer("outreach")

    @server.tool(annotations=ToolAnnotations(read_only_hint=False))
    def send(to: list[str], link: str = "https://docs.example.com/", sql: str = "SELECT 1") -> str:
        """Send a link to people."""
        sent.extend(to)
        return "sent"

    return server, sent


@pytest.mark.requirement("params.policy-constraints")
@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"to": ["ann@example.com", "eve@evil.example"]}, "to", "'eve@evil.example' is not at an allowed domain"),
        ({"to": ["x@notexample.com"]}, "to", "not at an allowed domain"),
        ({"to": ["x@example.org"]}, "to", "not at an allowed domain"),  # the wildcard needs a label
        ({"to": ["bob@example.com (x@evil.example)"]}, "to", "not a bare email address"),
        ({"to": ["Eve <eve@example.com>"]}, "to", "not a bare email address"),
        ({"to": ["a@example.com"], "link": "https://evil.example/docs.example.com"}, "link", "'evil.example'"),
        ({"to": ["a@example.com"], "sql": "SELECT * FROM payroll"}, "sql", "table(s) payroll"),
        ({"to": ["a@example.com"], "sql": "WITH o AS (SELECT * FROM salaries) SELECT * FROM o"}, "sql", "salaries"),
    ],
)
async def test_policy_checks_on_what_a_value_points_at_refuse_before_the_tool_runs(
    arguments: dict[str, Any], field: str, words: str, audit: AuditStore
) -> None:
    server, sent = outreach_server()
    governed_server(server, VALUE_POLICY, audit, principal="alice")
    async with Client(server) as client:
        result = await client.call_tool("send", arguments)
    assert result.is_error
    assert result.structured_content is not None and result.structured_content["field"] == field
    assert words in result.content[0].text  # type: ignore[union-attr]
    assert sent == []


@pytest.mark.requirement("params.policy-constraints")
async def test_values_inside_the_policy_pass(audit: AuditStore) -> None:
    server, sent = outreach_server()
    governed_server(server, VALUE_POLICY, audit, principal="alice")
    arguments = {
        "to": ["ann@example.com", "bo@eu.example.org"],
        "link": "https://docs.example.com/guide",
        "sql": "WITH big AS (SELECT * FROM orders) SELECT * FROM big JOIN customers USING (id)",
    }
    async with Client(server) as client:
        result = await client.call_tool("send", arguments)
    assert not result.is_error, result.content
    assert sent == arguments["to"]


@pytest.mark.requirement("audit.every-request")
async def test_an_error_raised_below_governance_reaches_the_client_unchanged_and_is_recorded_with_its_decision(
    audit: AuditStore,
) -> None:
    from mcp.shared.exceptions import MCPError

    desk = Desk()

    @desk.server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def needs_sampling() -> str:
        """Raises a protocol error the way a tool needing a client capability does."""
        raise MCPError(code=-32021, message="client lacks the sampling capability", data={"required": "sampling"})

    governed_server(desk.server, POLICY, audit, principal="alice")
    async with Client(desk.server) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("needs_sampling", {})
    assert raised.value.error.code == -32021
    assert raised.value.error.data == {"required": "sampling"}
    record = audit_records(audit)[-1]
    assert (record.tool, record.decision, record.outcome, record.error_code) == (
        "needs_sampling",
        "allow",
        "error",
        "-32021",
    )
    assert record.policy_ids == ["role:agent:allow:desk.*"]
