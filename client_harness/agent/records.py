"""What an agent run leaves behind: one record per step, and the run's outcome.

Records hold what a reviewer of the run needs (model, tokens, cost, latency, tool calls and
their governance outcome) and never an API key; tool arguments and texts are redacted with
governance's own redaction before they are recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from governance.redaction import redact, redact_text

RunStatus = Literal["answered", "escalated"]
_TEXT = 500


@dataclass(frozen=True)
class Attempt:
    """One try of one model for a step; `error` is None for the one that answered."""

    provider: str
    model: str
    latency_s: float
    error: str | None = None


@dataclass(frozen=True)
class ToolCallRecord:
    """A tool call the model made and what governance did with it."""

    tool: str
    provider_name: str
    arguments: dict[str, Any]
    outcome: str
    is_error: bool
    text: str


@dataclass(frozen=True)
class StepRecord:
    """One model reply and the tool calls it asked for."""

    index: int
    provider: str
    model: str
    attempts: tuple[Attempt, ...]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    text: str
    tool_calls: tuple[ToolCallRecord, ...]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AgentRun:
    """A finished session: answered, or escalated with the reason it stopped."""

    task: str
    skill: str | None
    status: RunStatus
    reason: str | None
    answer: str
    steps: tuple[StepRecord, ...]
    failed_attempts: tuple[Attempt, ...]
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def tool_calls(self) -> list[ToolCallRecord]:
        return [call for step in self.steps for call in step.tool_calls]

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "skill": self.skill,
            "status": self.status,
            "reason": self.reason,
            "answer": self.answer,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens, "total": self.tokens},
            "cost_usd": round(self.cost_usd, 8),
            "served_by": [f"{s.provider}/{s.model}" for s in self.steps],
            "steps": [step.to_json() for step in self.steps],
            "failed_attempts": [asdict(a) for a in self.failed_attempts],
        }


def short(text: str) -> str:
    """A redacted excerpt for records."""
    clean = redact_text(" ".join(text.split()))
    return clean if len(clean) <= _TEXT else clean[: _TEXT - 1] + "…"


def redacted_arguments(arguments: Any) -> dict[str, Any]:
    value = redact(dict(arguments))
    return value if isinstance(value, dict) else {}
