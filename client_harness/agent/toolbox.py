"""The tools a model may call: every tool the principal can see on the chosen servers, under provider-safe names.

Hidden tools are not offered (the servers do not list them), so a model only learns of
them if it guesses; a guessed name that maps to no tool is answered here, without a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mcp.shared.exceptions import MCPError
from mcp_types import Tool

from client_harness.agent.messages import ToolCallRequest, ToolResult, ToolSpec
from client_harness.connections import Connections
from client_harness.namespace import QualifiedTool, provider_names
from client_harness.outcomes import ToolOutcome, from_result, from_rpc_error

_MAX_RESULT_CHARS = 20_000  # what goes back to the model; the log keeps less


@dataclass(frozen=True)
class ToolCallDone:
    """One executed (or refused-before-sending) tool call and what the model is told."""

    request: ToolCallRequest
    tool: QualifiedTool | None
    outcome: ToolOutcome | None
    result: ToolResult


@dataclass(frozen=True)
class Toolbox:
    """Tools of several servers for one principal."""

    connections: Connections
    principal: str | None
    specs: tuple[ToolSpec, ...]
    tools: dict[str, QualifiedTool]

    @classmethod
    async def discover(
        cls, connections: Connections, servers: Sequence[str] | None = None, principal: str | None = None
    ) -> Toolbox:
        """List each server's tools as `principal` and name them for providers.

        Raises:
            HarnessConfigError, ConnectionFailed: a server is unknown or cannot be reached.
        """
        listed: dict[QualifiedTool, Tool] = {}
        for server in servers or list(connections.config.servers):
            key = connections.config.key_for(server)
            for tool in await connections.list_tools(key, principal):
                listed[QualifiedTool(key, tool.name)] = tool
        names = provider_names(listed)
        specs = tuple(
            ToolSpec(name, f"[{tool.server}] {listed[tool].description or tool.tool}", listed[tool].input_schema)
            for name, tool in names.items()
        )
        return cls(connections, principal, specs, names)

    async def call(self, request: ToolCallRequest) -> ToolCallDone:
        """Run the call the model asked for; every failure becomes a result the model can read."""
        tool = self.tools.get(request.name)
        if tool is None:
            text = f"Unknown tool: {request.name}. Use one of the tools provided."
            return ToolCallDone(request, None, None, ToolResult(request.id, text, is_error=True))
        if request.problem is not None:
            return ToolCallDone(request, tool, None, ToolResult(request.id, request.problem, is_error=True))
        client = await self.connections.client(tool.server, self.principal)
        try:
            outcome = from_result(await client.call_tool(tool.tool, dict(request.arguments)))
        except MCPError as error:
            outcome = from_rpc_error(error)
        text = outcome.text if len(outcome.text) <= _MAX_RESULT_CHARS else outcome.text[:_MAX_RESULT_CHARS] + "…"
        return ToolCallDone(request, tool, outcome, ToolResult(request.id, text, is_error=outcome.is_error))
