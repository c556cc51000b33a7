"""Allowlist: a principal sees and calls only the tools the policy grants it.

A hidden tool is absent from `tools/list`, and calling it gets exactly the
answer a tool that does not exist gets, so a refusal reveals nothing.
"""

from __future__ import annotations

from dataclasses import replace

from governance.catalog import ToolCatalog
from governance.errors import NotAllowed, UnknownTool
from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall, ToolInfo
from governance.policy import Policy

RESOURCE_METHODS = frozenset({"resources/list", "resources/read", "resources/templates/list"})
PROMPT_METHODS = frozenset({"prompts/list", "prompts/get"})


class AllowlistGuard:
    """Filters listings and refuses calls the policy does not permit."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        self._policy = policy
        self._catalog = catalog
        # Resources and prompts are authorized as one pseudo-tool per kind, so
        # `server.*` grants them and a role scoped to named tools does not.
        self._resources = ToolInfo(catalog.server, "resources", {}, read_only=True)
        self._prompts = ToolInfo(catalog.server, "prompts", {}, read_only=True)

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method == "tools/call":
            return await self._call_tool(call, call_next)
        if call.method == "tools/list":
            return await self._list_tools(call, call_next)
        if call.method in RESOURCE_METHODS or call.method in PROMPT_METHODS:
            pseudo = self._resources if call.method in RESOURCE_METHODS else self._prompts
            decision = self._policy.decide(call.principal, pseudo)
            call = replace(call, decision=decision)
            if not decision.allowed:
                raise NotAllowed(f"{call.method} is not allowed for this principal", call=call)
        return await call_next(call)

    async def _call_tool(self, call: ToolCall, call_next: CallNext) -> Outcome:
        name = call.tool or ""
        info = self._catalog.get(name)
        if info is None:
            raise UnknownTool(name, call=call)
        decision = self._policy.decide(call.principal, info)
        call = replace(call, decision=decision)
        if not decision.allowed:
            raise UnknownTool(name, call=call)
        return await call_next(call)

    async def _list_tools(self, call: ToolCall, call_next: CallNext) -> Outcome:
        outcome = await call_next(call)
        visible = []
        for entry in outcome.result.get("tools", []):
            info = self._catalog.get(entry.get("name", ""))
            if info is not None and self._policy.decide(call.principal, info).allowed:
                visible.append(entry)
        return replace(outcome, result={**outcome.result, "tools": visible})
