"""Write-operation approvals through the real SDK client: durable, single-use, bound to the exact call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from typer.testing import CliRunner

from governance.approvals import ApprovalStateError, ApprovalStore, ReviewRefused, review
from governance.audit import AuditStore, verify_chain
from governance.policy import Policy
from governance.testing import audit_records, governed_server, open_audit
from mcpgov.cli import app

pytestmark = pytest.mark.anyio
ERAS = ["legacy", "auto"]

POLICY = """
principals:
  alice: {roles: [agent]}
  bob: {roles: [agent]}
  sam: {roles: [supervisor]}
roles:
  agent: {allow: ["desk.*"]}
  supervisor: {allow: ["desk.*"]}
approvals:
  approvers: [supervisor]
tools:
  desk.close_ticket:
    approval:
      when: [{arg: status, in: [closed]}]
  desk.send_email:
    approval:
      wait_seconds: 30
  desk.post_update:
    approval:
      confirm: host
"""


class Desk:
    """Write tools that count how often they really ran."""

    def __init__(self) -> None:
        self.refunds: list[tuple[int, int]] = []
        self.closed: list[int] = []
        self.emails: list[str] = []
        self.server = MCPServer("desk")
        write = ToolAnnotations(read_only_hint=False, destructive_hint=True)

        @self.server.tool(annotations=write)
        async def refund(order_id: int, cents: int) -> str:
            """Refund an order (gated by default: not read-only)."""
            await anyio.lowlevel.checkpoint()  # let a concurrent retry interleave here if it could
            self.refunds.append((order_id, cents))
            return f"refunded {cents} on {order_id}"

        @self.server.tool(annotations=write)
        def close_ticket(ticket_id: int, status: str) -> str:
            """Gated only when closing."""
            self.closed.append(ticket_id)
            return status

        @self.server.tool(annotations=write)
        def send_email(to: str) -> str:
            """Gated, and the caller waits for the decision."""
            self.emails.append(to)
            return "sent"

        self.updates: list[str] = []

        @self.server.tool(annotations=write)
        def post_update(text: str) -> str:
            """Gated, but a host the policy trusts may confirm it with its user."""
            self.updates.append(text)
            return "posted"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[AuditStore, Policy]]:
    audit = open_audit(tmp_path)
    yield audit, Policy.from_text(POLICY)
    audit.close()


def governed(audit: AuditStore, principal: str = "alice") -> Desk:
    desk = Desk()
    governed_server(desk.server, POLICY, audit, principal=principal)
    return desk


def approval_id(result: CallToolResult) -> str:
    assert result.is_error
    assert result.structured_content is not None
    return str(result.structured_content["approval_id"])


def approve(audit: AuditStore, policy: Policy, request: str, reviewer: str = "sam", comment: str | None = None) -> None:
    review(
        ApprovalStore(audit.engine), policy, audit, request,
        reviewer=reviewer, approve=True, comment=comment, transport="cli",
    )  # fmt: skip


@pytest.mark.requirement("approval.pending-until-approved")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_gated_call_does_not_run_until_a_reviewer_approves_it(mode: str, db: tuple[AuditStore, Policy]) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server, mode=mode) as client:
        first = await client.call_tool("refund", {"order_id": 7, "cents": 1500})
        again = await client.call_tool("refund", {"order_id": 7, "cents": 1500})
        assert desk.refunds == []
        assert first.structured_content is not None
        assert first.structured_content["status"] == "pending"
        assert first.structured_content["error"] == "approval_required"
        assert "expires_at" in first.structured_content
        assert approval_id(again) == approval_id(first)  # the same request, not a new one
        approve(audit, policy, approval_id(first))
        ran = await client.call_tool("refund", {"order_id": 7, "cents": 1500})
    assert not ran.is_error
    assert desk.refunds == [(7, 1500)]


@pytest.mark.requirement("approval.single-use")
async def test_an_approved_call_runs_once_and_the_next_identical_call_needs_a_new_approval(
    db: tuple[AuditStore, Policy],
) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server) as client:
        first = approval_id(await client.call_tool("refund", {"order_id": 1, "cents": 100}))
        approve(audit, policy, first)
        assert not (await client.call_tool("refund", {"order_id": 1, "cents": 100})).is_error
        second = await client.call_tool("refund", {"order_id": 1, "cents": 100})
    assert approval_id(second) != first
    assert desk.refunds == [(1, 100)]


@pytest.mark.requirement("approval.single-use")
async def test_two_concurrent_retries_of_one_approval_run_the_tool_exactly_once(
    db: tuple[AuditStore, Policy],
) -> None:
    audit, policy = db
    desk = governed(audit)
    results: list[CallToolResult] = []
    async with Client(desk.server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 2, "cents": 200}))
        approve(audit, policy, request)

        async def retry() -> None:
            results.append(await client.call_tool("refund", {"order_id": 2, "cents": 200}))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(retry)
    assert desk.refunds == [(2, 200)]
    assert sum(not r.is_error for r in results) == 1


@pytest.mark.requirement("approval.bound-to-call")
async def test_changed_arguments_or_another_principal_do_not_reuse_an_approval(
    db: tuple[AuditStore, Policy],
) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 3, "cents": 300}))
        approve(audit, policy, request)
        changed = await client.call_tool("refund", {"order_id": 3, "cents": 30000})
    bob_desk = governed(audit, principal="bob")
    async with Client(bob_desk.server) as client:
        as_bob = await client.call_tool("refund", {"order_id": 3, "cents": 300})
    assert approval_id(changed) != request
    assert approval_id(as_bob) != request
    assert desk.refunds == [] and bob_desk.refunds == []


@pytest.mark.requirement("approval.reviewer-rules")
async def test_the_requester_cannot_approve_their_own_call_and_only_approver_roles_decide(
    db: tuple[AuditStore, Policy],
) -> None:
    audit, policy = db
    desk = governed(audit, principal="sam")  # sam is a supervisor, but requested it
    async with Client(desk.server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 4, "cents": 400}))
    with pytest.raises(ReviewRefused, match="sam requested this call and cannot approve"):
        approve(audit, policy, request, reviewer="sam")
    with pytest.raises(ReviewRefused, match="bob has no approver role"):
        approve(audit, policy, request, reviewer="bob")
    assert ApprovalStore(audit.engine).get(request).status == "pending"  # type: ignore[union-attr]


@pytest.mark.requirement("approval.deny-feedback")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_denial_and_its_comment_reach_the_agent_and_the_next_call_starts_over(
    mode: str, db: tuple[AuditStore, Policy]
) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server, mode=mode) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 5, "cents": 500}))
        review(
            ApprovalStore(audit.engine), policy, audit, request,
            reviewer="sam", approve=False, comment="Refunds over the SLA go through billing", transport="cli",
        )  # fmt: skip
        denied = await client.call_tool("refund", {"order_id": 5, "cents": 500})
        fresh = await client.call_tool("refund", {"order_id": 5, "cents": 500})
    assert denied.structured_content is not None
    assert denied.structured_content["error"] == "approval_denied"
    assert denied.structured_content["comment"] == "Refunds over the SLA go through billing"
    assert "Denied by sam: Refunds over the SLA go through billing" in denied.content[0].text  # type: ignore[union-attr]
    assert approval_id(fresh) != request
    assert desk.refunds == []


@pytest.mark.requirement("approval.expiry")
async def test_an_expired_request_cannot_be_approved_and_the_agent_is_told(db: tuple[AuditStore, Policy]) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 6, "cents": 600}))
        with audit.engine.begin() as connection:  # a day passes
            connection.exec_driver_sql("UPDATE approval SET expires_at = expires_at - 86400")
        with pytest.raises(ApprovalStateError, match="is expired, not pending"):
            approve(audit, policy, request)
        expired = await client.call_tool("refund", {"order_id": 6, "cents": 600})
    assert expired.structured_content is not None
    assert expired.structured_content["error"] == "approval_expired"
    assert desk.refunds == []


@pytest.mark.requirement("approval.conditions")
async def test_a_condition_on_the_arguments_gates_only_the_calls_it_matches(db: tuple[AuditStore, Policy]) -> None:
    audit, _ = db
    desk = governed(audit)
    async with Client(desk.server) as client:
        reopened = await client.call_tool("close_ticket", {"ticket_id": 9, "status": "open"})
        closing = await client.call_tool("close_ticket", {"ticket_id": 9, "status": "closed"})
    assert not reopened.is_error
    assert closing.is_error and closing.structured_content is not None
    assert closing.structured_content["status"] == "pending"
    assert desk.closed == [9]


@pytest.mark.requirement("approval.wait")
async def test_in_wait_mode_the_call_returns_as_soon_as_a_reviewer_decides(db: tuple[AuditStore, Policy]) -> None:
    audit, policy = db
    desk = governed(audit)
    store = ApprovalStore(audit.engine)
    progress: list[float] = []
    results: list[CallToolResult] = []
    waiting = anyio.Event()

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)
        waiting.set()

    async with Client(desk.server) as client:

        async def agent() -> None:
            results.append(
                await client.call_tool("send_email", {"to": "ann@example.com"}, progress_callback=on_progress)
            )

        with anyio.fail_after(10):  # well under the policy's 30 s wait
            async with anyio.create_task_group() as group:
                group.start_soon(agent)
                await waiting.wait()  # the request exists and the caller is waiting on it
                approve(audit, policy, store.list("pending")[0].id)
    assert not results[0].is_error
    assert desk.emails == ["ann@example.com"]
    assert progress[0] >= 0  # the caller heard that we were waiting


@pytest.mark.requirement("approval.durable")
async def test_an_approval_survives_a_restart_between_request_and_decision(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    async with Client(governed(audit).server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 8, "cents": 800}))
    audit.close()  # the server goes away

    reopened = open_audit(tmp_path)
    approve(reopened, Policy.from_text(POLICY), request)
    desk = governed(reopened)  # a new process, the same database
    async with Client(desk.server) as client:
        ran = await client.call_tool("refund", {"order_id": 8, "cents": 800})
    assert not ran.is_error
    assert desk.refunds == [(8, 800)]
    reopened.close()


@pytest.mark.requirement("approval.audited")
async def test_every_step_of_an_approval_is_an_audit_record_linked_by_its_id(db: tuple[AuditStore, Policy]) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 10, "cents": 1}))
        approve(audit, policy, request, comment="customer is right")
        await client.call_tool("refund", {"order_id": 10, "cents": 1})
    steps: list[tuple[Any, ...]] = [
        (r.phase, r.approval_event, r.principal, r.outcome) for r in audit_records(audit) if r.approval_id == request
    ]
    assert steps == [
        ("approval", "requested", "alice", "ok"),
        ("request", None, "alice", "tool_error"),
        ("approval", "approved", "sam", "ok"),
        ("approval", "consumed", "alice", "ok"),
        ("intent", None, "alice", "started"),
        ("approval", "executed", "alice", "ok"),
        ("request", None, "alice", "ok"),
    ]
    assert verify_chain(audit).ok


@pytest.mark.requirement("approval.reviewer-rules")
async def test_the_cli_lists_approves_and_refuses_with_clear_errors(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY)
    async with Client(governed(audit).server) as client:
        request = approval_id(await client.call_tool("refund", {"order_id": 11, "cents": 5}))
    audit.close()
    db_url = f"sqlite:///{tmp_path / 'audit.db'}"
    runner = CliRunner()
    common = ["--db", db_url, "--policy", str(policy_file)]

    listed = runner.invoke(app, ["approvals", "list", "--db", db_url, "--json"])
    assert listed.exit_code == 0 and request in listed.output
    no_comment = runner.invoke(app, ["approvals", "deny", request, "--as", "sam", *common])
    assert no_comment.exit_code == 1 and "a denial needs a comment" in no_comment.output
    own = runner.invoke(app, ["approvals", "approve", request, "--as", "alice", *common])
    assert own.exit_code == 1 and "alice requested this call" in own.output
    unknown = runner.invoke(app, ["approvals", "approve", "apr_nope", "--as", "sam", *common])
    assert unknown.exit_code == 1 and "no approval has id 'apr_nope'" in unknown.output
    ok = runner.invoke(app, ["approvals", "approve", request, "--as", "sam", "--comment", "fine", *common])
    assert ok.exit_code == 0, ok.output
    assert f"{request}: approved by sam" in ok.output
    twice = runner.invoke(app, ["approvals", "approve", request, "--as", "sam", *common])
    assert twice.exit_code == 1 and "is approved, not pending" in twice.output
    missing_db = runner.invoke(app, ["approvals", "list", "--db", f"sqlite:///{tmp_path / 'nope.db'}"])
    assert missing_db.exit_code == 2


def host_user(answer: bool, asked: list[str]) -> Any:
    """An elicitation callback standing for the host's user."""
    from mcp_types import ElicitResult

    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": answer})

    return callback


@pytest.mark.requirement("approval.host-confirmation")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_trusted_host_confirms_with_its_user_and_the_audit_says_it_was_the_host(
    mode: str, db: tuple[AuditStore, Policy]
) -> None:
    audit, _ = db
    desk = governed(audit)
    asked: list[str] = []
    async with Client(desk.server, mode=mode, elicitation_callback=host_user(True, asked)) as client:
        result = await client.call_tool("post_update", {"text": "We are back up"})
    assert not result.is_error, result.content
    assert desk.updates == ["We are back up"]
    assert asked and "desk.post_update" in asked[0]
    confirmations = [r for r in audit_records(audit) if r.approval_event == "confirmed"]
    assert len(confirmations) == 1
    assert "not a reviewer" in (confirmations[0].comment or "")
    assert ApprovalStore(audit.engine).list(None) == []  # no reviewer approval was involved


@pytest.mark.requirement("approval.host-confirmation")
@pytest.mark.parametrize("mode", ERAS)
async def test_when_the_hosts_user_declines_the_call_does_not_run(mode: str, db: tuple[AuditStore, Policy]) -> None:
    audit, _ = db
    desk = governed(audit)
    async with Client(desk.server, mode=mode, elicitation_callback=host_user(False, [])) as client:
        result = await client.call_tool("post_update", {"text": "Outage over"})
    assert result.is_error and result.structured_content is not None
    assert result.structured_content["error"] == "approval_denied"
    assert desk.updates == []


@pytest.mark.requirement("approval.host-confirmation")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_host_that_cannot_ask_its_user_falls_back_to_a_reviewer(
    mode: str, db: tuple[AuditStore, Policy]
) -> None:
    audit, policy = db
    desk = governed(audit)
    async with Client(desk.server, mode=mode) as client:  # no elicitation support
        held = await client.call_tool("post_update", {"text": "Maintenance tonight"})
        approve(audit, policy, approval_id(held))
        ran = await client.call_tool("post_update", {"text": "Maintenance tonight"})
    assert held.structured_content is not None and held.structured_content["status"] == "pending"
    assert not ran.is_error
    assert desk.updates == ["Maintenance tonight"]


@pytest.mark.requirement("limits.loop-detection")
async def test_asking_again_about_a_pending_approval_is_not_a_loop(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    policy_text = POLICY + "limits:\n  loop: {max_repeats: 2, window: 10m}\n"
    desk = Desk()
    governed_server(desk.server, policy_text, audit, principal="alice")
    arguments = {"order_id": 12, "cents": 99}
    async with Client(desk.server) as client:
        polls = [await client.call_tool("refund", arguments) for _ in range(5)]
        approve(audit, Policy.from_text(policy_text), approval_id(polls[0]))
        ran = await client.call_tool("refund", arguments)
    assert {approval_id(p) for p in polls} == {approval_id(polls[0])}
    assert not ran.is_error, ran.content
    assert desk.refunds == [(12, 99)]
    audit.close()
