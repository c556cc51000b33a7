"""Recency: data older than the policy allows is blocked or flagged on the way back (being built)."""

from __future__ import annotations

from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall
from governance.policy import Policy


class RecencyGuard:
    """Checks each result's provenance `as_of` against the policy's maximum age."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        return await call_next(call)
