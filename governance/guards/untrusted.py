"""Untrusted content: label results from the open world; hold external sinks once a session has seen them.

(Being built.)
"""

from __future__ import annotations

from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall
from governance.policy import Policy


class UntrustedContentGuard:
    """Labels untrusted results and makes sinks need approval after untrusted content."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        return await call_next(call)
