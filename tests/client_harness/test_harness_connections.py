"""Connections: one SDK client per (server, principal), from host config entries, in both protocol eras."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

from client_harness.config import HarnessConfig, HarnessConfigError, HttpEntry, InProcessEntry, StdioEntry
from client_harness.connections import ConnectionFailed, Connections
from client_harness.scripted_provider import serve_in_thread

pytestmark = pytest.mark.anyio
ERAS = ["legacy", "auto"]


def echo_server(name: str) -> MCPServer:
    server = MCPServer(name=name)

    @server.tool()
    def whoami() -> str:
        """Say which server answered."""
        return name

    return server


class RecordHeaders:
    """Pure ASGI wrapper that keeps the headers of every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


@pytest.fixture
def http_server() -> Iterator[tuple[str, RecordHeaders]]:
    recorder = RecordHeaders(echo_server("remote").streamable_http_app())
    with serve_in_thread(recorder) as base:
        yield f"{base}/mcp", recorder


@pytest.mark.parametrize("mode", ERAS)
async def test_one_client_per_server_and_principal_is_opened_on_first_use(mode: str) -> None:
    config = HarnessConfig(
        {
            "a": InProcessEntry(echo_server("a"), principals={"bob": echo_server("a-as-bob")}),
            "b": InProcessEntry(echo_server("b")),
        }
    )
    with anyio.fail_after(10):
        async with Connections(config, mode=mode) as connections:  # type: ignore[arg-type]
            first = await connections.client("a")
            assert await connections.client("a") is first
            answers = [
                (await (await connections.client(s, p)).call_tool("whoami", {})).structured_content
                for s, p in [("a", None), ("a", "bob"), ("b", None)]
            ]
    assert answers == [{"result": "a"}, {"result": "a-as-bob"}, {"result": "b"}]


@pytest.mark.parametrize("mode", ERAS)
async def test_http_entries_send_their_headers_and_a_principals_headers_with_env_expanded(
    mode: str, http_server: tuple[str, RecordHeaders], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, recorder = http_server
    monkeypatch.setenv("BOB_TOKEN", "tok-bob")
    entry = HttpEntry.model_validate(
        {
            "url": url,
            "headers": {"X-Team": "support"},
            "principals": {"bob": {"headers": {"Authorization": "Bearer ${env:BOB_TOKEN}"}}},
        }
    )
    with anyio.fail_after(10):
        async with Connections(HarnessConfig({"remote": entry}), mode=mode) as connections:  # type: ignore[arg-type]
            plain = await (await connections.client("remote")).call_tool("whoami", {})
            seen_plain = len(recorder.seen)
            as_bob = await (await connections.client("remote", "bob")).call_tool("whoami", {})
    assert plain.structured_content == as_bob.structured_content == {"result": "remote"}
    assert all(h.get("x-team") == "support" and "authorization" not in h for h in recorder.seen[:seen_plain])
    assert any(h.get("authorization") == "Bearer tok-bob" for h in recorder.seen[seen_plain:])


async def test_acting_as_a_principal_over_http_needs_the_entry_to_say_how() -> None:
    config = HarnessConfig({"remote": HttpEntry(url="http://127.0.0.1:9/mcp")}, source="mcp.json")
    async with Connections(config) as connections:
        with pytest.raises(HarnessConfigError, match=r"to act as .bob., add `principals: .*headers"):
            await connections.client("remote", "bob")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (StdioEntry(command="/nonexistent/mcp-server"), "cannot connect to 'broken'"),
        (StdioEntry(command=sys.executable, args=["-c", "import sys; sys.exit(3)"]), "cannot connect to 'broken'"),
    ],
)
async def test_a_server_that_cannot_start_is_a_connection_failure_not_a_hang(
    entry: StdioEntry, message: str, tmp_path: Path
) -> None:
    with anyio.fail_after(30):
        async with Connections(HarnessConfig({"broken": entry}), log_dir=tmp_path, connect_timeout_s=20) as connections:
            with pytest.raises(ConnectionFailed, match=message) as caught:
                await connections.client("broken")
    assert str(caught.value).endswith(f"(its stderr: {tmp_path / 'broken.log'})")
