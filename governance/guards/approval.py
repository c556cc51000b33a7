"""Approval: a tool that changes things does not run without a reviewer.

The reviewer workflow (durable pending approvals, single use) is its own
issue; until it lands, a call that needs approval is refused with a clear
message and never silently run.
"""

from __future__ import annotations

from governance.errors import ApprovalRequired
from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall
from governance.policy import Policy


class ApprovalGuard:
    """Holds back calls to tools the policy gates."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method == "tools/call" and call.info is not None and self._policy.needs_approval(call.info):
            raise ApprovalRequired(
                f"Approval required: '{call.tool}' changes data and the policy requires a reviewer's "
                "approval before it runs. This deployment has no approval workflow enabled, so the "
                "call was not run; ask an operator to set `approval: never` for this tool in the "
                "policy if it is safe to run unreviewed.",
                call=call,
            )
        return await call_next(call)
