"""Limits: budgets, loop detection, rate limits, timeouts and result size caps (being built)."""

from __future__ import annotations

from governance.catalog import ToolCatalog
from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall
from governance.policy import Policy


class LimitsGuard:
    """Refuses calls over a budget, a rate or a loop threshold; bounds each call's time and result size."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        self._policy = policy
        self._catalog = catalog

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        return await call_next(call)
