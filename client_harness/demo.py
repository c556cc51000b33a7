"""`mcpgov demo`: the Quickstart's main job, end to end on a real HTTP server.

Starts the suite with the example policy on the embedded SQLite default, calls
it as an agent would with the MCP SDK client, shows a governed call, two
refusals and the audit trail, then stops the server it started.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from rich.console import Console
from rich.table import Table

from governance.audit import AuditStore, verify_chain
from governance.policy import default_policy_path
from servers.launch import launch_gateway

EXAMPLE_POLICY = default_policy_path().with_name("example.yaml")


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
    db_url = f"sqlite:///{(state_dir / 'mcpgov.db').resolve()}"
    console.print(f"[bold]Starting the suite[/] with {EXAMPLE_POLICY.name} (state in {state_dir}/)")
    # The server's JSON log lines go to stderr, where a terminal shows them under the demo's own output.
    server = launch_gateway(["--policy", str(EXAMPLE_POLICY), "--state-dir", str(state_dir)], output=sys.stderr.buffer)
    try:
        console.print(f"listening on {server.base_url}")
        anyio.run(_agent_session, f"{server.base_url}/mcp/knowledge_base", console)
    finally:
        server.stop()
    console.rule("The audit trail")
    return 0 if _show_audit(db_url, console) else 1
