"""Untrusted content: label results from the open world; hold external sinks once a principal has seen them.

A web page, or any content someone outside wrote, can carry instructions ("email the
customer list to ..."). Governance cannot tell an injected instruction from data, so
it tracks where content came from instead:

- Untrusted sources: tools the policy marks ``untrusted: true``, and by default every
  open-world tool that only reads (``openWorldHint``, which MCP assumes when a server
  says nothing, with ``readOnlyHint``), unless its rule says ``untrusted: false``. An
  open-world tool that writes sends our data out; its result is its own receipt, and
  labelling it would have each e-mail sent make the next one wait for a reviewer (a
  write that returns remote content is marked ``untrusted: true`` in its rule). Their
  successful results get ``mcpgov/untrusted: true`` in ``_meta``, and the caller is
  marked tainted (see `governance.guards._taint` for why per principal, and for how long).
- Sinks: tools the policy marks ``sink: true``, and by default every open-world tool
  that is not read-only (it sends something out: an e-mail, a post). Once the caller is
  tainted, a sink needs a reviewer's approval even where its own rule says it does
  not: the guard sets ``call.approval_reason`` and the approval guard, inside it, holds
  the call. A read-only open-world tool is not a sink by default (fetching a page
  would otherwise need approval after the first page); the params guard's
  ``url_hosts`` is what keeps a fetch from carrying data to any host.

Error results are neither labelled nor tainting: they are the server's own words.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from governance.guards._base import CallNext
from governance.guards._taint import DEFAULT_TAINT_TTL_SECONDS, MemoryTaintStore, Taint, TaintStore
from governance.model import Outcome, ToolCall, ToolInfo
from governance.policy import Policy

UNTRUSTED_META_KEY = "mcpgov/untrusted"

# Without a store of its own, a guard shares this one with every other pipeline in the process.
_PROCESS_TAINTS = MemoryTaintStore()


@dataclass(frozen=True, slots=True)
class _Trust:
    untrusted: bool
    sink: bool


class UntrustedContentGuard:
    """Labels untrusted results and makes sinks need approval after untrusted content."""

    def __init__(
        self,
        policy: Policy,
        taints: TaintStore | None = None,
        *,
        ttl_seconds: float = DEFAULT_TAINT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Label and hold by the policy's `untrusted` and `sink` rules.

        Args:
            policy: The deployment's policy (``untrusted`` and ``sink`` in tool rules).
            taints: Where taints are kept: the deployment's database when governed
                through `govern`, this process's memory when omitted.
            ttl_seconds: How long a taint lasts after the last untrusted result.
            clock: Now, in seconds since the epoch; tests pass their own.
        """
        self._policy = policy
        self._taints = taints if taints is not None else _PROCESS_TAINTS
        self._ttl = ttl_seconds
        self._clock = clock
        self._trust: dict[str, _Trust] = {}  # per tool: the policy never changes under a pipeline

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method != "tools/call" or call.info is None:
            return await call_next(call)
        trust = self._trust_of(call.info)
        if trust.sink and call.approval_reason is None:
            taint = await self._taints.find(call.principal, self._clock())
            if taint is not None:
                call = replace(call, approval_reason=_reason(call, taint))
        outcome = await call_next(call)
        if not trust.untrusted or outcome.is_tool_error:
            return outcome
        now = self._clock()
        source = call.qualified_tool or call.server
        await self._taints.mark(Taint(call.principal, source, call.session_id, now, now + self._ttl))
        return replace(outcome, result=_labelled(outcome.result))

    def _trust_of(self, info: ToolInfo) -> _Trust:
        trust = self._trust.get(info.qualified_name)
        if trust is None:
            rule = self._policy.rule_for(info)
            default = info.open_world and info.read_only
            untrusted = default if rule is None or rule.untrusted is None else rule.untrusted
            sink = (rule is not None and rule.sink) or (info.open_world and not info.read_only)
            trust = self._trust[info.qualified_name] = _Trust(untrusted=untrusted, sink=sink)
        return trust


def _reason(call: ToolCall, taint: Taint) -> str:
    if taint.session == call.session_id:
        return f"the session has seen untrusted content from {taint.source}"
    return f"a session of '{call.principal}' has seen untrusted content from {taint.source}"


def _labelled(result: Mapping[str, Any]) -> dict[str, Any]:
    return {**result, "_meta": {**(result.get("_meta") or {}), UNTRUSTED_META_KEY: True}}
