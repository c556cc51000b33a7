"""In-process call cost: ``mcp.Client(server)`` against the same server bare and governed.

This is how tests and embedded hosts call a server: no HTTP, no process
boundary, so governance's share of a call is as large as it ever gets. Run as
``python -m bench.inprocess --calls N --rounds R --db URL``; prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import orjson
from mcp import Client
from mcp.server.mcpserver import MCPServer

from bench.toolsets import POLICY_PATH, TOOLSETS, ToolSet


async def time_calls(server: MCPServer, toolset: ToolSet, calls: int, warmup: int) -> tuple[float, int]:
    """Microseconds per ``tools/call`` over ``calls`` sequential calls, and how many succeeded."""
    async with Client(server) as client:
        for _ in range(warmup):
            await client.call_tool(toolset.tool, toolset.arguments)
        ok = 0
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            result = await client.call_tool(toolset.tool, toolset.arguments)
            ok += not result.is_error
        elapsed = time.perf_counter() - start
    return elapsed / calls * 1e6, ok + warmup


def build(toolset: ToolSet, governed: bool, data_dir: Path, db_url: str) -> tuple[MCPServer, Any]:
    server = toolset.build(data_dir)
    if not governed:
        return server, None
    from governance import AuditStore, Governance, Policy, govern

    audit = AuditStore.open(db_url)
    govern(server, Governance(policy=Policy.load(POLICY_PATH), audit=audit, transport="memory"))
    return server, audit


async def run(toolset: ToolSet, *, calls: int, rounds: int, data_dir: Path, db_dir: Path) -> dict[str, Any]:
    from governance.logs import configure_logging

    configure_logging()
    bare_us: list[float] = []
    governed_us: list[float] = []
    records_expected = 0
    records_found = 0
    for round_index in range(rounds):
        order = ("bare", "governed") if round_index % 2 == 0 else ("governed", "bare")
        for mode in order:
            db_url = f"sqlite:///{db_dir / f'inprocess-{toolset.name}-{round_index}.db'}"
            server, audit = build(toolset, mode == "governed", data_dir, db_url)
            per_call, ok = await time_calls(server, toolset, calls, warmup=max(10, calls // 10))
            if audit is not None:
                with audit.engine.connect() as conn:
                    from sqlalchemy import text

                    records_found += conn.execute(
                        text("SELECT count(*) FROM audit_record WHERE json_extract(body, '$.method') = 'tools/call'")
                    ).scalar_one()
                records_expected += ok
                audit.close()
            (governed_us if mode == "governed" else bare_us).append(per_call)
    bare, governed = statistics.median(bare_us), statistics.median(governed_us)
    return {
        "toolset": toolset.name,
        "calls_per_round": calls,
        "bare_us_per_call": bare_us,
        "governed_us_per_call": governed_us,
        "bare_us": bare,
        "governed_us": governed,
        "added_us": governed - bare,
        "ratio": governed / bare,
        "audit_records": records_found,
        "calls_ok": records_expected,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--toolset", choices=sorted(TOOLSETS), default="fixture")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--db-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    result = anyio.run(
        lambda: run(
            TOOLSETS[args.toolset],
            calls=args.calls,
            rounds=args.rounds,
            data_dir=args.data_dir,
            db_dir=args.db_dir,
        )
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
