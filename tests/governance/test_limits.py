"""The limits guard: budgets, loops, rates, timeouts and result size caps, through the real SDK client."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from governance.audit import AuditStore
from governance.errors import LIMITED, LIMITS_UNAVAILABLE
from governance.testing import FakeClock, audit_records, fake_clock, governed_server, open_audit

pytest_plugins = ["redis_server"]
pytestmark = pytest.mark.anyio

ERAS = ["legacy", "auto"]
HOUR = 3600
# Thirty seconds before a clock hour, so the hourly budget's reset is in view.
BEFORE_THE_HOUR = 495_834 * HOUR - 30

POLICY = """
principals:
  alice: {roles: [agent]}
  bob: {roles: [agent]}
roles:
  agent:
    allow: ["desk.*"]
    deny: ["desk.internal_*"]
"""


class Page(BaseModel):
    rows: list[str]


class Desk:
    """A server whose tools count their runs, and one that blocks until the test lets it go."""

    def __init__(self) -> None:
        self.lookups = 0
        self.release = threading.Event()
        self.server = MCPServer("desk", version="1.0")
        read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False)

        @self.server.tool(annotations=read_only)
        def lookup(order_id: int) -> str:
            """Look up an order."""
            self.lookups += 1
            return f"order {order_id}: shipped"

        @self.server.tool(annotations=read_only)
        def internal_audit() -> str:
            """Hidden from agents by the policy."""
            return "secret"

        @self.server.tool(annotations=read_only)
        def export(size: int) -> str:
            """Text of `size` characters."""
            return "é" * size

        @self.server.tool(annotations=read_only)
        def report(rows: int) -> Page:
            """Structured rows."""
            return Page(rows=[f"row {n:06d}" for n in range(rows)])

        @self.server.tool(annotations=read_only)
        def stuck() -> str:
            """Waits until the test releases it (a hung upstream)."""
            self.release.wait(30)
            return "finally"

        @self.server.tool(annotations=read_only)
        async def stuck_async() -> str:
            """Waits forever, the async way."""
            await anyio.sleep_forever()
            return "never"


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def desk_with(limits: str, audit: AuditStore, principal: str = "alice", tools: str = "") -> Desk:
    desk = Desk()
    policy = POLICY + (f"tools:\n{tools}" if tools else "") + (f"limits:\n{limits}" if limits else "")
    governed_server(desk.server, policy, audit, principal=principal)
    return desk


def text(result: Any) -> str:
    return str(result.content[0].text)


def session(name: str) -> dict[str, Any]:
    return {"mcpgov/session": name}


# -- budgets ---------------------------------------------------------------------------------


@pytest.mark.requirement("limits.session-budget")
@pytest.mark.parametrize("mode", ERAS)
async def test_calls_within_the_session_budget_pass_and_the_next_is_refused_saying_when_it_resets(
    mode: str, audit: AuditStore
) -> None:
    desk = desk_with("  calls_per_session: 3\n", audit)
    with fake_clock(BEFORE_THE_HOUR):
        async with Client(desk.server, mode=mode) as client:
            for order in range(3):
                assert not (await client.call_tool("lookup", {"order_id": order})).is_error
            with pytest.raises(MCPError) as refused:
                await client.call_tool("lookup", {"order_id": 99})
            hidden = await client.call_tool("internal_audit", {})
    assert refused.value.error.code == LIMITED
    message = refused.value.error.message
    assert "3 tool calls per session" in message
    assert "limits.calls_per_session" in message
    resets = datetime.fromtimestamp(BEFORE_THE_HOUR + 86_400, UTC).isoformat().replace("+00:00", "Z")
    assert f"It resets at {resets} (in 24.0 hours)" in message
    assert desk.lookups == 3
    # A spent budget says nothing about which tools exist: a hidden one is still just unknown.
    assert hidden.is_error and text(hidden) == "Unknown tool: internal_audit"
    assert [r.error_code for r in audit_records(audit) if r.tool == "lookup"][-1] == "budget_exhausted"


@pytest.mark.requirement("limits.session-budget")
async def test_each_session_of_a_principal_has_its_own_budget_and_other_principals_are_separate(
    audit: AuditStore,
) -> None:
    limits = "  calls_per_session: 2\n"
    alice, bob = desk_with(limits, audit), desk_with(limits, audit, principal="bob")
    async with Client(alice.server) as client:
        for order in range(2):
            await client.call_tool("lookup", {"order_id": order}, meta=session("first"))
        with pytest.raises(MCPError, match="2 tool calls per session"):
            await client.call_tool("lookup", {"order_id": 3}, meta=session("first"))
        assert not (await client.call_tool("lookup", {"order_id": 3}, meta=session("second"))).is_error
    async with Client(bob.server) as client:
        # The same session key from another principal is another session.
        assert not (await client.call_tool("lookup", {"order_id": 4}, meta=session("first"))).is_error


@pytest.mark.requirement("limits.session-budget")
async def test_the_session_budget_holds_when_the_policy_leaves_it_out(audit: AuditStore) -> None:
    # Only the rate is raised (its 120/minute default would refuse first); the budget is not mentioned.
    desk = desk_with("  rate: {per_principal: 10000/minute}\n", audit)
    async with Client(desk.server) as client:
        for order in range(500):
            await client.call_tool("lookup", {"order_id": order})
        with pytest.raises(MCPError, match=r"500 tool calls per session"):
            await client.call_tool("lookup", {"order_id": 500})
    assert desk.lookups == 500


@pytest.mark.requirement("limits.principal-hourly-budget")
async def test_the_hourly_budget_refuses_past_its_limit_and_allows_again_after_the_hour(audit: AuditStore) -> None:
    desk = desk_with("  calls_per_principal_per_hour: 2\n", audit)
    with fake_clock(BEFORE_THE_HOUR) as clock:
        async with Client(desk.server) as client:
            # New sessions do not buy more: the hourly budget is the principal's.
            await client.call_tool("lookup", {"order_id": 1}, meta=session("a"))
            await client.call_tool("lookup", {"order_id": 2}, meta=session("b"))
            with pytest.raises(MCPError) as refused:
                await client.call_tool("lookup", {"order_id": 3}, meta=session("c"))
            clock.advance(31)
            after = await client.call_tool("lookup", {"order_id": 3}, meta=session("c"))
    hour = datetime.fromtimestamp(BEFORE_THE_HOUR + 30, UTC).isoformat().replace("+00:00", "Z")
    assert refused.value.error.code == LIMITED
    assert refused.value.error.message.startswith(
        f"Call budget spent: 2 tool calls per hour for principal 'alice' (limits.calls_per_principal_per_hour). "
        f"It resets at {hour} (in 30 seconds)."
    )
    assert not after.is_error
    assert desk.lookups == 3


# -- loops -----------------------------------------------------------------------------------


@pytest.mark.requirement("limits.loop-detection")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_loop_of_identical_calls_is_cut_off_at_the_n_plus_first_with_a_message_to_escalate(
    mode: str, audit: AuditStore
) -> None:
    desk = desk_with("  loop: {max_repeats: 3, window: 60}\n", audit)
    with fake_clock(BEFORE_THE_HOUR) as clock:
        async with Client(desk.server, mode=mode) as client:
            passed = [await client.call_tool("lookup", {"order_id": 7}) for _ in range(3)]
            cut = await client.call_tool("lookup", {"order_id": 7})
            other_arguments = await client.call_tool("lookup", {"order_id": 8})
            other_session = await client.call_tool("lookup", {"order_id": 7}, meta=session("fresh"))
            clock.advance(61)
            after_the_window = await client.call_tool("lookup", {"order_id": 7})
    assert not any(result.is_error for result in passed)
    assert cut.is_error
    assert cut.structured_content == {
        "error": "loop_detected",
        "max_repeats": 3,
        "window_seconds": 60.0,
        "message": text(cut),
    }
    assert "called 4 times with the same arguments within 60 seconds" in text(cut)
    assert "escalate to a human" in text(cut)
    assert not other_arguments.is_error and not other_session.is_error and not after_the_window.is_error
    assert desk.lookups == 6  # three, other arguments, other session, after the window; never the fourth


# -- rates -----------------------------------------------------------------------------------


@pytest.mark.requirement("limits.rate-limit")
@pytest.mark.parametrize("mode", ERAS)
async def test_the_principal_rate_limit_refuses_past_its_rate_naming_it_and_the_retry_after(
    mode: str, audit: AuditStore
) -> None:
    desk = desk_with("  rate: {per_principal: 2/minute}\n", audit)
    async with Client(desk.server, mode=mode) as client:
        allowed = [await client.call_tool("lookup", {"order_id": n}) for n in range(2)]
        with pytest.raises(MCPError) as refused:
            await client.call_tool("lookup", {"order_id": 3})
    assert not any(result.is_error for result in allowed)
    assert refused.value.error.code == LIMITED
    message = refused.value.error.message
    assert message.startswith(
        "Rate limit reached: 2 calls per minute for principal 'alice' (limits.rate.per_principal). Retry after "
    )
    assert 55 <= int(message.rsplit("Retry after ", 1)[1].split()[0]) <= 60
    assert desk.lookups == 2


@pytest.mark.requirement("limits.rate-limit")
async def test_a_tool_rate_limits_that_tool_only(audit: AuditStore) -> None:
    desk = desk_with("", audit, tools="  desk.lookup:\n    limits: {rate: 1/minute}\n")
    async with Client(desk.server) as client:
        await client.call_tool("lookup", {"order_id": 1})
        with pytest.raises(MCPError, match=r"1 call per minute to 'lookup' for principal 'alice'"):
            await client.call_tool("lookup", {"order_id": 2})
        assert not (await client.call_tool("export", {"size": 3})).is_error


@pytest.mark.e2e
@pytest.mark.requirement("limits.shared-through-redis")
async def test_two_server_processes_share_rates_loops_and_budgets_through_redis(redis_url: str, tmp_path: Path) -> None:
    from redis.asyncio import Redis

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "principals: {local: {roles: [reader]}}\n"
        'roles: {reader: {allow: ["knowledge_base.*"]}}\n'
        "limits:\n"
        "  loop: {max_repeats: 2, window: 600}\n"
        f"  rate: {{per_principal: 4/minute, storage: '{redis_url}'}}\n"
    )
    env = {**os.environ, "MCPGOV_STATE_DIR": str(tmp_path / "state"), "MCPGOV_POLICY": str(policy)}
    env.pop("MCPGOV_PRINCIPAL", None)
    serve = ["-m", "mcpgov", "serve", "knowledge_base", "--transport", "stdio"]
    params = StdioServerParameters(command=sys.executable, args=serve, env=env)
    query = {"query": "refund"}
    with anyio.fail_after(60):
        async with Client(params) as first, Client(params) as second:
            assert not (await first.call_tool("search_articles", query)).is_error
            assert not (await second.call_tool("search_articles", query)).is_error
            # The third identical call is a loop, although this process has seen it only once before.
            looped = await first.call_tool("search_articles", query)
            assert not (await second.call_tool("list_collections", {})).is_error
            # Four calls a minute across both processes: the fifth is refused, wherever it lands.
            with pytest.raises(MCPError, match=r"4 calls per minute for principal 'local'"):
                await first.call_tool("list_collections", {})
    assert looped.is_error and "Loop detected" in text(looped)
    redis = Redis.from_url(redis_url)
    try:
        budgets = [key.decode() for key in await redis.keys("mcpgov:limits:count:*")]
    finally:
        await redis.aclose()
    assert any('["session","local"]' in key for key in budgets)
    assert any('"hour","local"' in key for key in budgets)


@pytest.mark.requirement("limits.storage-fail-closed")
async def test_calls_are_refused_while_the_shared_counters_cannot_be_reached(audit: AuditStore) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    desk = desk_with(f"  rate: {{storage: 'redis://127.0.0.1:{port}/0'}}\n", audit)
    async with Client(desk.server) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("lookup", {"order_id": 1})
    assert refused.value.error.code == LIMITS_UNAVAILABLE
    assert f"storage at redis://127.0.0.1:{port}/0 cannot be reached" in refused.value.error.message
    assert desk.lookups == 0


# -- timeouts --------------------------------------------------------------------------------


@pytest.mark.requirement("limits.timeout")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_tool_past_its_timeout_is_answered_at_the_deadline_with_an_error_naming_the_limit(
    mode: str, audit: AuditStore
) -> None:
    tools = "  desk.stuck:\n    limits: {timeout: 0.2}\n  desk.stuck_async:\n    limits: {timeout: 0.2}\n"
    desk = desk_with("", audit, tools=tools)
    try:
        async with Client(desk.server, mode=mode) as client:
            with anyio.fail_after(10):
                in_a_thread = await client.call_tool("stuck", {})
                # Answered while the tool's thread is still blocked: the deadline did not wait for it.
                assert not desk.release.is_set()
                in_the_loop = await client.call_tool("stuck_async", {})
                quick = await client.call_tool("lookup", {"order_id": 1})
    finally:
        desk.release.set()
    for result in (in_a_thread, in_the_loop):
        assert result.is_error
        assert "did not finish within its 0.2-second time limit (limits.timeout)" in text(result)
        assert result.structured_content is not None
        assert result.structured_content["error"] == "timeout"
    assert not quick.is_error  # the deployment's 60 s default leaves a quick call alone


# -- result size -----------------------------------------------------------------------------


@pytest.mark.requirement("limits.result-size-cap")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_result_over_the_size_cap_is_cut_with_a_visible_note(mode: str, audit: AuditStore) -> None:
    tools = "  desk.report:\n    limits: {max_result_bytes: 100000}\n"
    desk = desk_with("  max_result_bytes: 4000\n", audit, tools=tools)
    async with Client(desk.server, mode=mode) as client:
        small = await client.call_tool("export", {"size": 100})
        big = await client.call_tool("export", {"size": 10_000})
        report = await client.call_tool("report", {"rows": 3000})
    assert not small.is_error and text(small) == "é" * 100
    assert "mcpgov/truncated" not in (small.meta or {})
    # The text was cut, at a character boundary, and the note says so; the oversized structured copy went.
    assert big.is_error
    assert set(text(big)) == {"é"} and len(text(big).encode()) < 4000
    note = str(big.content[-1].text)  # type: ignore[union-attr]
    assert note.startswith("[mcpgov] This result was cut: it was ")
    assert "over the 4,000-byte limit for 'export' (limits.max_result_bytes)" in note
    assert f"of {20_000:,} bytes" in note and "structured content" in note
    assert big.structured_content is None
    assert big.meta is not None and big.meta["mcpgov/truncated"]["max_bytes"] == 4000
    # A tool's own cap overrides the deployment's: this 45 kB report passes whole.
    assert not report.is_error and report.structured_content is not None
    assert len(report.structured_content["rows"]) == 3000


@pytest.mark.requirement("limits.result-size-cap")
async def test_structured_content_within_the_cap_is_kept_while_the_text_is_cut(audit: AuditStore) -> None:
    desk = desk_with("  max_result_bytes: 3000\n", audit)
    async with Client(desk.server) as client:
        result = await client.call_tool("report", {"rows": 100})  # ~1.5 kB structured, ~1.7 kB text
    assert not result.is_error
    assert result.structured_content is not None and len(result.structured_content["rows"]) == 100
    assert "the text was cut after" in str(result.content[-1].text)  # type: ignore[union-attr]


def test_the_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(10.0)
    clock.advance(2.5)
    assert clock() == 12.5
