"""The one file that adapts the governance pipeline onto the MCP SDK.

The SDK's `ServerMiddleware` hook is provisional upstream; if it moves, this
file changes and nothing else in `governance/` does. Here a raw inbound
message becomes a `ToolCall`, the pipeline runs, and its outcome or error
becomes what the SDK puts on the wire.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.context import CallNext as SdkCallNext
from mcp.server.context import HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from governance.approvals import ApprovalStore
from governance.audit import AuditStore
from governance.catalog import ToolCatalog
from governance.errors import ConfirmationRequested, DownstreamFailure, GovernanceError, ToolProblem
from governance.guards._taint import DatabaseTaintStore, TaintStore
from governance.model import (
    HostAnswer,
    HostChannel,
    Outcome,
    ProgressReporter,
    ToolCall,
    Transport,
    arguments_digest,
)
from governance.pipeline import Pipeline, build_pipeline
from governance.policy import Policy

# Lifecycle methods (initialize, server/discover, ping, notifications) pass
# straight through: they touch no tool and no data.
GOVERNED_METHODS = frozenset(
    {
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "prompts/list",
        "prompts/get",
    }
)
SESSION_META_KEY = "mcpgov/session"
CONFIRM_INPUT_KEY = "mcpgov/confirm"  # our key in inputRequests / inputResponses
CONFIRM_STATE_PREFIX = "mcpgov-confirm:"  # requestState we mint; the SDK seals and binds it to the call
CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Allow this call?"}},
    "required": ["confirm"],
}
MODERN_PROTOCOL = "2026-07-28"
ANONYMOUS = "anonymous"

PrincipalResolver = Callable[[ServerRequestContext[Any, Any]], str]


@dataclass(frozen=True)
class Governance:
    """Everything a deployment governs with: the policy, the audit store, the local principal.

    Attributes:
        policy: The loaded policy.
        audit: Where every request's record goes.
        principal: Who is calling over stdio or in-process (HTTP callers are
            `anonymous` until authentication is configured).
        transport: How non-HTTP callers are connected (`stdio` or `memory`).
        approvals: Pending and decided approvals; by default in the audit log's database.
        taints: Who has recently received untrusted content; by default in the audit log's
            database too, so every server process and replica sees the same.
    """

    policy: Policy
    audit: AuditStore
    principal: str = "local"
    transport: Transport = "stdio"
    approvals: ApprovalStore = field(default=None)  # type: ignore[assignment]  # set in __post_init__
    taints: TaintStore = field(default=None)  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        if self.approvals is None:
            # Approvals live next to the audit log: one database per deployment.
            object.__setattr__(self, "approvals", ApprovalStore(self.audit.engine))
        if self.taints is None:
            object.__setattr__(self, "taints", DatabaseTaintStore(self.audit.engine))


def _server_version(server: MCPServer) -> str:
    return server.version or ""


def catalog_of(server: MCPServer) -> ToolCatalog:
    """The server's tools as governance sees them, read from its tool registry once."""
    # The SDK's public `list_tools` is async; its registry read is not, and
    # governing a server must not need an event loop. Only this file may do this.
    listing = [
        {
            "name": info.name,
            "inputSchema": info.parameters,
            "annotations": info.annotations.model_dump(by_alias=True, exclude_none=True) if info.annotations else None,
        }
        for info in server._tool_manager.list_tools()
    ]
    return ToolCatalog.from_listing(server.name, listing)


class GovernanceMiddleware:
    """An SDK `ServerMiddleware` that runs every governed request through the pipeline."""

    def __init__(self, governance: Governance, catalog: ToolCatalog, pipeline: Pipeline) -> None:
        self._governance = governance
        self._catalog = catalog
        self._pipeline = pipeline

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: SdkCallNext) -> HandlerResult:
        if ctx.method not in GOVERNED_METHODS or ctx.request_id is None:
            return await call_next(ctx)
        call = self._to_call(ctx)

        async def tool(final: ToolCall) -> Outcome:
            # Guards may annotate the call but never rewrite what reaches the tool.
            try:
                result = await call_next(ctx)
            except Exception as error:
                raise DownstreamFailure(error, call=final) from error
            return Outcome(call=final, result=result if isinstance(result, Mapping) else {})

        try:
            outcome = await self._pipeline.run(call, tool)
        except DownstreamFailure as failure:
            raise failure.original from None
        except ConfirmationRequested as request:
            return _input_required(request.message, arguments_digest(call.arguments))
        except ToolProblem as problem:
            return _tool_error(problem, ctx.protocol_version)
        except GovernanceError as refusal:
            raise MCPError(code=getattr(refusal, "rpc_code", -32603), message=refusal.message) from None
        return dict(outcome.result)

    def _to_call(self, ctx: ServerRequestContext[Any, Any]) -> ToolCall:
        params = ctx.params or {}
        is_http = ctx.request is not None
        tool = params.get("name") if ctx.method == "tools/call" else None
        arguments = params.get("arguments") if ctx.method == "tools/call" else None
        return ToolCall(
            method=ctx.method,
            server=self._catalog.server,
            principal=ANONYMOUS if is_http else self._governance.principal,
            transport="http" if is_http else self._governance.transport,
            protocol_version=ctx.protocol_version,
            tool=tool if isinstance(tool, str) else None,
            arguments=arguments if isinstance(arguments, Mapping) else {},
            info=self._catalog.get(tool) if isinstance(tool, str) else None,
            request_id=secrets.token_hex(8),
            session_id=_session_id(ctx),
            started_ns=time.perf_counter_ns(),
            started_wall=time.time(),
            progress=_progress_reporter(ctx),
            host=_host_channel(ctx, arguments if isinstance(arguments, Mapping) else {}),
        )


def _session_id(ctx: ServerRequestContext[Any, Any]) -> str | None:
    if ctx.request is not None:
        header = ctx.request.headers.get("mcp-session-id")
        if header:
            return str(header)
    meta = ctx.meta or {}
    value = meta.get(SESSION_META_KEY)
    return value if isinstance(value, str) else None


def _progress_reporter(ctx: ServerRequestContext[Any, Any]) -> ProgressReporter | None:
    # The session's report_progress is a no-op when the caller asked for no
    # progress, and knows each transport's way of delivering it.
    return ctx.session.report_progress if ctx.method == "tools/call" else None


def _host_channel(ctx: ServerRequestContext[Any, Any], arguments: Mapping[str, Any]) -> HostChannel | None:
    """How this caller's host could ask its user, if it can: elicitation (legacy) or input-required (modern)."""
    if ctx.method != "tools/call":
        return None
    params = ctx.params or {}
    if ctx.protocol_version >= MODERN_PROTOCOL:
        answer = _confirmation_answer(params, arguments_digest(arguments))
        capabilities = (ctx.meta or {}).get("io.modelcontextprotocol/clientCapabilities") or {}
        can_ask = isinstance(capabilities, Mapping) and capabilities.get("elicitation") is not None
        return HostChannel(can_request_input=can_ask, answer=answer) if can_ask or answer else None
    client = ctx.session.client_capabilities
    if client is None or client.elicitation is None:
        return None

    async def ask(message: str) -> HostAnswer:
        result = await ctx.session.elicit_form(message, CONFIRM_SCHEMA, related_request_id=ctx.request_id)
        confirmed = result.action == "accept" and (result.content or {}).get("confirm") is True
        return "accept" if confirmed else ("cancel" if result.action == "cancel" else "decline")

    return HostChannel(ask=ask)


def _confirmation_answer(params: Mapping[str, Any], digest: str) -> HostAnswer | None:
    """The user's answer on a modern retry, if this retry answers our own request for these arguments."""
    if params.get("requestState") != CONFIRM_STATE_PREFIX + digest:
        return None
    response = (params.get("inputResponses") or {}).get(CONFIRM_INPUT_KEY)
    if not isinstance(response, Mapping):
        return None
    content = response.get("content") or {}
    if response.get("action") == "accept" and isinstance(content, Mapping) and content.get("confirm") is True:
        return "accept"
    return "cancel" if response.get("action") == "cancel" else "decline"


def _input_required(message: str, digest: str) -> dict[str, Any]:
    """Ask a modern client to have its user confirm, and to retry with the answer."""
    return {
        "resultType": "input_required",
        "inputRequests": {
            CONFIRM_INPUT_KEY: {
                "method": "elicitation/create",
                "params": {"mode": "form", "message": message, "requestedSchema": CONFIRM_SCHEMA},
            }
        },
        "requestState": CONFIRM_STATE_PREFIX + digest,
    }


def _tool_error(problem: ToolProblem, protocol_version: str) -> dict[str, Any]:
    """A tool result with isError, shaped as the SDK shapes its own for this protocol era."""
    result: dict[str, Any] = {"content": [{"type": "text", "text": problem.message}], "isError": True}
    structured = problem.structured()
    if structured is not None:
        result["structuredContent"] = structured
    if protocol_version >= "2026-07-28":
        result["resultType"] = "complete"
    return result


def govern(server: MCPServer, governance: Governance) -> MCPServer:
    """Put `server` behind the governance pipeline and return it.

    The tool set is read now: a tool added to the server afterwards is unknown
    to governance, and every call to it is refused as unknown (fail closed).

    Raises:
        ConfigurationError: the policy does not fit the server's tools (for
            example, it constrains an argument a tool does not have).
    """
    catalog = catalog_of(server)
    pipeline = build_pipeline(
        governance.policy,
        catalog,
        governance.audit,
        governance.approvals,
        server_version=_server_version(server),
        taints=governance.taints,
    )
    server.middleware.append(GovernanceMiddleware(governance, catalog, pipeline))
    return server
