"""Killing the server mid-load loses no record of a call whose result was returned."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from processes import EXAMPLE_POLICY, start_http

from governance.audit import AuditStore, verify_chain

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

WORKERS = 6
KILL_AFTER = 150


@pytest.mark.requirement("audit.durable-before-result")
async def test_a_killed_server_loses_no_record_of_a_call_whose_result_was_returned(tmp_path: Path) -> None:
    # The example policy's rate limit (120/minute) would refuse this load before the kill.
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY.read_text() + "limits:\n  rate: {per_principal: 100000/minute}\n")
    server = start_http(tmp_path, "knowledge_base", policy=policy)
    returned: list[str] = []
    killed = anyio.Event()

    async def worker(index: int) -> None:
        try:
            async with Client(server.url("knowledge_base")) as client:
                for n in range(10_000):
                    query = f"invoice w{index}n{n}"
                    result = await client.call_tool("search_articles", {"query": query, "limit": 1})
                    if killed.is_set():
                        return  # the answer raced the kill: it may or may not be on record
                    assert not result.is_error
                    returned.append(query)
                    if len(returned) >= KILL_AFTER:
                        server.process.kill()  # SIGKILL: no shutdown hooks, no final flush
                        killed.set()
                        return
        except Exception:
            if not killed.is_set():
                raise

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for index in range(WORKERS):
                    group.start_soon(worker, index)
        assert server.process.wait(timeout=10) == -9  # it really was killed, not shut down
    finally:
        server.stop()

    with AuditStore.open(server.db_url, create=False) as store:
        assert verify_chain(store).ok
        recorded = {
            s.record.arguments.get("query")
            for s in store.iter_records()
            if s.record.tool == "search_articles" and s.record.outcome == "ok"
        }
    assert len(returned) >= KILL_AFTER
    assert set(returned) <= recorded
