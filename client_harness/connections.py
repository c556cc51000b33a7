"""One SDK client per (server, principal), opened on first use and closed together.

A principal is who the server believes is calling. Over stdio that is fixed per
process (``MCPGOV_PRINCIPAL``), so acting as ``bob`` on a stdio server means a
server process of its own with that variable overridden; over HTTP it means
other headers (a bearer token). `principal=None` is the entry exactly as
configured.

Each connection lives in a task of its own inside the `Connections` task group:
the SDK's transports hold task groups and cancel scopes, which must be entered
and left by one task, and a connection opened lazily in the middle of a step
(under that step's deadline) outlives the step. Any task may ask for a client;
the `Connections` block itself is entered and left by one task.
"""

from __future__ import annotations

import re
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Literal, Self, TextIO

import anyio
import httpx2
from anyio.abc import TaskGroup, TaskStatus
from mcp import Client, StdioServerParameters
from mcp.client import Transport
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT
from mcp_types import Tool

from client_harness._expand import expand, expand_all
from client_harness.config import HarnessConfig, HarnessConfigError, InProcessEntry, StdioEntry

Mode = Literal["legacy", "auto"]
Target = MCPServer | StdioServerParameters | str | Transport
PRINCIPAL_ENV = "MCPGOV_PRINCIPAL"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class ConnectionFailed(RuntimeError):
    """A server could not be started or reached, or did not complete the protocol handshake."""


class Connections:
    """Clients for the servers of a `HarnessConfig`, keyed by (config key, principal).

    Args:
        config: The servers.
        mode: `legacy` (initialize handshake, 2025-11-25) or `auto` (2026-07-28 when the server offers it).
        log_dir: Where stdio servers' stderr goes, one file per (server, principal); None inherits stderr.
        connect_timeout_s: How long starting a server and its handshake may take.
    """

    def __init__(
        self,
        config: HarnessConfig,
        *,
        mode: Mode = "auto",
        log_dir: Path | None = None,
        connect_timeout_s: float = 60.0,
    ) -> None:
        self.config = config
        self.mode: Mode = mode
        self._log_dir = log_dir
        self._connect_timeout_s = connect_timeout_s
        self._clients: dict[tuple[str, str | None], Client] = {}
        self._opening = anyio.Lock()
        self._closing = anyio.Event()
        self._group: TaskGroup | None = None

    async def __aenter__(self) -> Self:
        self._group = await anyio.create_task_group().__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closing.set()
        self._clients.clear()
        group, self._group = self._group, None
        if group is not None:
            await group.__aexit__(kind, error, trace)

    async def client(self, server: str, principal: str | None = None) -> Client:
        """The connected client for `server` acting as `principal`, opening it on first use.

        Raises:
            HarnessConfigError: no such server, or no way to act as `principal` on it.
            ConnectionFailed: the server could not be started or reached.
        """
        key = (self.config.key_for(server), principal)
        async with self._opening:
            if key not in self._clients:
                self._clients[key] = await self._open(*key)
        return self._clients[key]

    async def list_tools(self, server: str, principal: str | None = None) -> list[Tool]:
        """Every tool `server` shows `principal`, across pages."""
        client = await self.client(server, principal)
        tools: list[Tool] = []
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools

    async def _open(self, key: str, principal: str | None) -> Client:
        if self._group is None:
            raise RuntimeError("use Connections in `async with` before asking for a client")
        try:
            with anyio.fail_after(self._connect_timeout_s):
                client: Client = await self._group.start(self._hold, key, principal)
        except HarnessConfigError:
            raise
        except Exception as error:
            who = f" as {principal!r}" if principal else ""
            log = self._log_path(key, principal)
            where = f" (its stderr: {log})" if log and isinstance(self.config.servers[key], StdioEntry) else ""
            raise ConnectionFailed(f"cannot connect to {key!r}{who}: {_describe(error)}{where}") from error
        return client

    async def _hold(self, key: str, principal: str | None, *, task_status: TaskStatus[Client]) -> None:
        """Open one connection, hand it over, and keep it open until the `Connections` block ends."""
        started = False
        try:
            async with AsyncExitStack() as stack:
                target = await self._target(stack, key, principal)
                client = await stack.enter_async_context(Client(target, mode=self.mode))
                task_status.started(client)
                started = True
                await self._closing.wait()
        except Exception:
            # Before the hand-over the opener reports it; afterwards the failure is a
            # server that went away while closing, which no caller is left to hear about.
            if not started:
                raise

    async def _target(self, stack: AsyncExitStack, key: str, principal: str | None) -> Target:
        entry = self.config.servers[key]
        where = f"{self.config.source}: server {key!r}"
        if isinstance(entry, InProcessEntry):
            if principal is None:
                return entry.server
            if principal in entry.principals:
                return entry.principals[principal]
            raise HarnessConfigError(f"{where} is in-process and has no server object for principal {principal!r}")
        binding = entry.principals.get(principal) if principal is not None else None
        if isinstance(entry, StdioEntry):
            env = expand_all(entry.env, f"{where}.env")
            if principal is not None:
                env[PRINCIPAL_ENV] = principal
                env |= expand_all(binding.env, f"{where}.principals.{principal}.env") if binding else {}
            params = StdioServerParameters(
                command=expand(entry.command, f"{where}.command"),
                args=[expand(arg, f"{where}.args") for arg in entry.args],
                env=env,
                cwd=entry.cwd,
            )
            return stdio_client(params, errlog=self._errlog(stack, key, principal))
        headers = expand_all(entry.headers, f"{where}.headers")
        if principal is not None:
            if binding is None or not binding.headers:
                raise HarnessConfigError(
                    f"{where} is reached over HTTP, where the caller is whoever its headers say; to act as "
                    f"{principal!r}, add `principals: {{{principal!r}: {{headers: {{Authorization: ...}}}}}}` "
                    "to its entry"
                )
            headers |= expand_all(binding.headers, f"{where}.principals.{principal}.headers")
        url = expand(entry.url, f"{where}.url")
        if entry.transport == "sse":
            return sse_client(url, headers=headers)
        http = httpx2.AsyncClient(
            headers=headers, timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT)
        )
        await stack.enter_async_context(http)
        return streamable_http_client(url, http_client=http)

    def _log_path(self, key: str, principal: str | None) -> Path | None:
        if self._log_dir is None:
            return None
        return self._log_dir / (_SAFE.sub("_", key + (f"-as-{principal}" if principal else "")) + ".log")

    def _errlog(self, stack: AsyncExitStack, key: str, principal: str | None) -> TextIO:
        path = self._log_path(key, principal)
        if path is None:
            return sys.stderr
        path.parent.mkdir(parents=True, exist_ok=True)
        return stack.enter_context(path.open("a", encoding="utf-8"))


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer to the handshake in time"
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in error.exceptions)
    return str(error) or type(error).__name__
