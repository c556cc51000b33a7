"""`mcpgov demo`: the Quickstart's main job, end to end on a real HTTP server.

Starts the suite with the example policy on the embedded SQLite default, calls
it as an agent would with the MCP SDK client, shows a governed call, two
refusals and the audit trail, then stops the server it started.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from rich.console import Console
from rich.table import Table

from governance.audit import AuditStore, verify_chain
from governance.policy import default_policy_path

EXAMPLE_POLICY = default_policy_path().with_name("example.yaml")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base: str, server: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} before it was ready")
        try:
            if httpx2.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {base}/healthz within {deadline_s:.0f}s")


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def _agent_session(url: str, console: Console) -> None:
    async with Client(url) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        console.print(f"[bold]Tools visible to this caller[/] (anonymous, role website-widget): {tools}")

        console.rule("1. A governed call")
        result = await client.call_tool("search_articles", {"query": "reset password", "limit": 3})
        for hit in (result.structured_content or {}).get("hits", []):
            console.print(f"  • {hit['title']}  [dim]({hit['collection']})[/]")
        provenance = (result.meta or {}).get("mcpgov/provenance")
        console.print(f"  provenance: {provenance}")

        console.rule("2. Refused: an argument outside the policy's range")
        result = await client.call_tool("search_articles", {"query": "refund", "limit": 500})
        console.print(f"  isError={result.is_error}: {_text(result)}")

        console.rule("3. Refused: a tool this caller may not see")
        result = await client.call_tool("get_article", {"article_id": 1})
        console.print(f"  isError={result.is_error}: {_text(result)}")


def _show_audit(db_url: str, console: Console) -> bool:
    with AuditStore.open(db_url, create=False) as store:
        table = Table(title="Audit trail (newest last)")
        for column in ("seq", "principal", "method", "tool", "decision", "outcome", "error"):
            table.add_column(column)
        for stored in store.tail(8):
            r = stored.record
            table.add_row(
                str(stored.seq), r.principal, r.method, r.tool or "", r.decision or "", r.outcome, r.error_code or ""
            )
        console.print(table)
        report = verify_chain(store)
    console.print(
        f"audit verify: {'[green]chain intact[/]' if report.ok else '[red]' + report.detail + '[/]'}"
        f" ({report.checked} records)"
    )
    return report.ok


def run_demo(state_dir: Path) -> int:
    """Run the demo; returns the process exit code."""
    console = Console()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{(state_dir / 'mcpgov.db').resolve()}"
    command = [
        sys.executable, "-m", "mcpgov", "serve", "--transport", "http", "--port", str(port),
        "--policy", str(EXAMPLE_POLICY), "--state-dir", str(state_dir),
    ]  # fmt: skip
    console.print(f"[bold]Starting the suite[/] on {base} with {EXAMPLE_POLICY.name} (state in {state_dir}/)")
    server = subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments, no shell
    try:
        _wait_healthy(base, server)
        anyio.run(_agent_session, f"{base}/mcp/knowledge_base", console)
    finally:
        server.terminate()
        server.wait(timeout=15)
    console.rule("The audit trail")
    return 0 if _show_audit(db_url, console) else 1
