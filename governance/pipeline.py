"""The governance pipeline: the one place the guards are listed, outermost first.

Read it top to bottom as what happens to every request on the way in; the
audit guard sees everything, including what the guards below it refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from governance.approvals import ApprovalStore
from governance.audit import AuditStore
from governance.catalog import ToolCatalog
from governance.guards._base import CallNext, Guard, compose, run_composed
from governance.guards._taint import TaintStore
from governance.guards.allowlist import AllowlistGuard
from governance.guards.approval import ApprovalGuard
from governance.guards.audit import AuditGuard, WriteAheadGuard
from governance.guards.limits import DeadlineGuard, LimitsGuard, LoopGuard, ResultSizeGuard
from governance.guards.params import ParamsGuard
from governance.guards.recency import RecencyGuard
from governance.guards.redaction import RedactionGuard
from governance.guards.untrusted import UntrustedContentGuard
from governance.model import Outcome, ToolCall
from governance.policy import Policy


@dataclass(frozen=True)
class Pipeline:
    """The guards for one server, composed around the tool."""

    guards: tuple[Guard, ...]
    _chain: CallNext = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_chain", compose(self.guards))

    async def run(self, call: ToolCall, tool: CallNext) -> Outcome:
        return await run_composed(self._chain, call, tool)


def build_pipeline(
    policy: Policy,
    catalog: ToolCatalog,
    audit: AuditStore,
    approvals: ApprovalStore,
    *,
    server_version: str,
    taints: TaintStore | None = None,
) -> Pipeline:
    """Build the guard stack for one server's catalog (validators and decisions are prepared here, once).

    `taints` is where the untrusted-content guard keeps who has seen untrusted content;
    without one, a store in this process's memory.
    """
    versions = {"policy_version": policy.version, "server_version": server_version}
    return Pipeline(
        guards=(
            AuditGuard(audit, **versions),  # outermost: denials and errors are recorded too
            ResultSizeGuard(policy, catalog),  # on the way back: a result over its cap is cut, with a note
            RedactionGuard(),  # on the way back: no secret in a result gets past here
            AllowlistGuard(policy, catalog),  # hidden tools look exactly like unknown ones
            ParamsGuard(policy, catalog),  # strict schema + policy constraints
            LimitsGuard(policy, catalog),  # rates and call budgets
            UntrustedContentGuard(policy, taints),  # after untrusted content, sinks need approval
            ApprovalGuard(policy, approvals, audit),  # gated calls wait for a reviewer, then run once
            LoopGuard(policy),  # the same call again and again: stop (asking about a pending approval is not)
            RecencyGuard(policy),  # on the way back: stale data is blocked or flagged
            WriteAheadGuard(audit, **versions),  # a write's intent is durable before it runs
            DeadlineGuard(policy, catalog),  # innermost: the tool's own time limit, not a person's wait
        )
    )
