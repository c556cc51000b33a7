"""Hard per-session budgets: steps, tokens and cost, charged after every model reply.

The loop asks `exhausted()` before each model call and stops (`escalated`) rather than
spend past a limit; the request's output allowance is capped by the tokens left, so one
reply cannot run far beyond the token budget either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from client_harness.agent.routing import Budgets, Price

EscalationReason = str  # "max_steps" | "max_tokens" | "max_cost" | "retry_budget" | "no_model_answered"


@dataclass
class Budget:
    """What a session has spent against its limits."""

    limits: Budgets
    prices: Mapping[str, Price]
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def charge(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """Record one model reply; returns its cost in USD."""
        cost = self.prices[model].cost(input_tokens, output_tokens)
        self.steps += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost_usd += cost
        return cost

    def exhausted(self) -> EscalationReason | None:
        """The first limit reached, or None while another model call is allowed."""
        if self.steps >= self.limits.max_steps:
            return "max_steps"
        if self.tokens >= self.limits.max_tokens:
            return "max_tokens"
        if self.cost_usd >= self.limits.max_cost_usd:
            return "max_cost"
        return None

    def output_allowance(self, max_output_tokens: int) -> int:
        """How many output tokens the next request may ask for."""
        return max(1, min(max_output_tokens, self.limits.max_tokens - self.tokens))
