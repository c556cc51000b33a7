"""The README's approval flow with real processes: an agent over stdio, a reviewer on the CLI or the admin API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from processes import EXAMPLE_POLICY, mcpgov_command, start_http

from governance.audit import AuditStore, verify_chain

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

OUTSIDE = {"to": ["ann@example.org"], "subject": "Your refund", "body": "It is on its way."}


def notifications_over_stdio(state: Path) -> StdioServerParameters:
    env = {**os.environ, "MCPGOV_STATE_DIR": str(state), "MCPGOV_POLICY": str(EXAMPLE_POLICY)}
    env.pop("MCPGOV_PRINCIPAL", None)
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcpgov", "serve", "notifications", "--transport", "stdio"], env=env
    )


def reviewer(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    db = f"sqlite:///{state / 'mcpgov.db'}"
    command = mcpgov_command("approvals", *args, "--db", db)
    if args[0] in ("approve", "deny"):
        command += ["--policy", str(EXAMPLE_POLICY)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.requirement("approval.pending-until-approved")
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_an_email_outside_the_company_waits_for_a_reviewer_on_the_cli_then_sends_once(
    mode: str, tmp_path: Path
) -> None:
    async with Client(notifications_over_stdio(tmp_path), mode=mode) as agent:
        inside = await agent.call_tool("send_email", {**OUTSIDE, "to": ["bo@example.com"]})
        held = await agent.call_tool("send_email", OUTSIDE)
        assert not inside.is_error, inside.content
        assert held.is_error and held.structured_content is not None
        request = held.structured_content["approval_id"]

        listed = reviewer("list", state=tmp_path)
        assert listed.returncode == 0 and request in listed.stdout
        decided = reviewer("approve", request, "--as", "sam", "--comment", "refund confirmed", state=tmp_path)
        assert decided.returncode == 0, decided.stderr

        sent = await agent.call_tool("send_email", OUTSIDE)
        again = await agent.call_tool("send_email", OUTSIDE)
        outbox = await agent.call_tool("list_outbox", {})
    assert not sent.is_error, sent.content
    assert again.is_error and again.structured_content is not None
    assert again.structured_content["status"] == "pending"  # a new request: the approval was used
    assert outbox.structured_content is not None
    recipients = sorted(str(m["to"]) for m in outbox.structured_content["messages"])
    assert recipients == ["['ann@example.org']", "['bo@example.com']"]
    with AuditStore.open(f"sqlite:///{tmp_path / 'mcpgov.db'}", create=False) as store:
        assert verify_chain(store).ok
        events = [s.record.approval_event for s in store.iter_records() if s.record.approval_id == request]
    assert [e for e in events if e] == ["requested", "approved", "consumed", "executed"]


@pytest.mark.requirement("approval.reviewer-rules")
async def test_the_admin_api_decides_as_its_configured_reviewer_and_refuses_foreign_hosts(tmp_path: Path) -> None:
    server = start_http(tmp_path, "tickets", options=["--admin-as", "sam"])
    try:
        async with Client(server.url("tickets")) as agent:
            await agent.list_tools()
        # anonymous may not see tickets at all; a local stdio agent files the request instead
        env = {**os.environ, "MCPGOV_STATE_DIR": str(server.state_dir), "MCPGOV_POLICY": str(EXAMPLE_POLICY)}
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcpgov", "serve", "tickets", "--transport", "stdio"], env=env
        )
        async with Client(params) as agent:
            resolved = await agent.call_tool("search_tickets", {"status": "resolved", "limit": 1})
            assert resolved.structured_content is not None
            ticket = resolved.structured_content["tickets"][0]["id"]
            held = await agent.call_tool("update_status", {"ticket_id": ticket, "status": "closed"})
            assert held.structured_content is not None
            request = held.structured_content["approval_id"]
            base = f"{server.base_url}/admin/api/approvals"
            async with httpx2.AsyncClient() as http:
                pending = (await http.get(base)).json()["approvals"]
                assert [a["id"] for a in pending] == [request]
                form = await http.post(f"{base}/{request}/approve", content="comment=x")
                assert form.status_code == 415
                foreign = await http.get(base, headers={"Host": "evil.example"})
                assert foreign.status_code == 421
                no_comment = await http.post(f"{base}/{request}/deny", json={})
                assert no_comment.status_code == 403 and "needs a comment" in no_comment.json()["error"]
                approved = await http.post(f"{base}/{request}/approve", json={"comment": "duplicate"})
                assert approved.status_code == 200 and approved.json()["status"] == "approved"
                again = await http.post(f"{base}/{request}/approve", json={})
                assert again.status_code == 409
            closed = await agent.call_tool("update_status", {"ticket_id": ticket, "status": "closed"})
        assert not closed.is_error, closed.content
        assert closed.structured_content is not None and closed.structured_content["status"] == "closed"
    finally:
        server.stop()


def test_the_admin_api_is_refused_on_a_non_loopback_bind(tmp_path: Path) -> None:
    done = subprocess.run(
        mcpgov_command("serve", "--transport", "http", "--host", "0.0.0.0", "--admin-as", "sam"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--admin-as needs --transport http on a loopback --host" in done.stderr
