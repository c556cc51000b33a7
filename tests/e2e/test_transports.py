"""The suite over real transports, in both protocol eras: stdio subprocesses and HTTP under uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from processes import EXAMPLE_POLICY, RunningServer

from governance.audit import AuditStore, verify_chain

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]
ERAS = ["legacy", "auto"]


def stdio_params(state_dir: Path, principal: str | None) -> StdioServerParameters:
    env = {**os.environ, "MCPGOV_STATE_DIR": str(state_dir), "MCPGOV_POLICY": str(EXAMPLE_POLICY)}
    env.pop("MCPGOV_PRINCIPAL", None)
    args = ["-m", "mcpgov", "serve", "knowledge_base", "--transport", "stdio"]
    if principal is not None:
        env["MCPGOV_PRINCIPAL"] = principal
    return StdioServerParameters(command=sys.executable, args=args, env=env)


def records(db_url: str) -> list[tuple[str, str, str, str | None, str]]:
    with AuditStore.open(db_url, create=False) as store:
        assert verify_chain(store).ok
        return [
            (s.record.principal, s.record.transport, s.record.method, s.record.tool, s.record.outcome)
            for s in store.iter_records()
        ]


@pytest.mark.requirement("transport.stdio")
@pytest.mark.parametrize("mode", ERAS)
async def test_stdio_serves_the_governed_knowledge_base_as_the_local_principal(mode: str, tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path, None), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("search_articles", {"query": "password", "limit": 2})
    assert names == {"search_articles", "get_article", "list_collections"}
    assert not result.is_error
    assert result.meta is not None and "mcpgov/provenance" in result.meta
    assert records(f"sqlite:///{tmp_path / 'mcpgov.db'}") == [
        ("local", "stdio", "tools/list", None, "ok"),
        ("local", "stdio", "tools/call", "search_articles", "ok"),
    ]


@pytest.mark.requirement("transport.stdio-principal")
@pytest.mark.parametrize("mode", ERAS)
async def test_the_stdio_principal_comes_from_the_environment(mode: str, tmp_path: Path) -> None:
    async with Client(stdio_params(tmp_path, "anonymous"), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        hidden = await client.call_tool("get_article", {"article_id": 1})
    assert names == {"search_articles", "list_collections"}
    assert hidden.is_error and hidden.content[0].text == "Unknown tool: get_article"  # type: ignore[union-attr]
    assert records(f"sqlite:///{tmp_path / 'mcpgov.db'}")[-1] == (
        "anonymous", "stdio", "tools/call", "get_article", "tool_error",
    )  # fmt: skip


@pytest.mark.requirement("transport.http")
@pytest.mark.parametrize("mode", ERAS)
async def test_http_serves_each_server_at_its_path_with_anonymous_callers(
    mode: str, http_server: RunningServer
) -> None:
    async with Client(http_server.url("knowledge_base"), mode=mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("search_articles", {"query": "invoice", "limit": 3})
        refused = await client.call_tool("search_articles", {"query": "invoice", "limit": 300})
    assert names == {"search_articles", "list_collections"}
    assert not result.is_error
    assert refused.is_error and "'limit'" in refused.content[0].text  # type: ignore[union-attr]
    assert records(http_server.db_url)[-2:] == [
        ("anonymous", "http", "tools/call", "search_articles", "ok"),
        ("anonymous", "http", "tools/call", "search_articles", "tool_error"),
    ]
