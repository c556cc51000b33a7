"""`mcpgov harness eval`: a golden set run against routing configs, scored for accuracy and cost.

::

    skill: null                        # optional: the skill every case runs as
    cases:
      - name: password reset
        task: How do I reset my password?
        expect:
          answer_contains: [password]  # every string, case-insensitive
          tool_calls: [knowledge_base.search_articles]   # called, in this order (others may come between)
          tool_outcomes: {knowledge_base.search_articles: allowed}
          status: answered             # answered (default) | escalated

A case is correct when every expectation it states holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from client_harness.agent.records import AgentRun


class GoldenError(ValueError):
    """A golden set that cannot be used."""


class Expectation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_contains: list[str] = Field(default_factory=list)
    tool_calls: list[str] = Field(default_factory=list)
    tool_outcomes: dict[str, str] = Field(default_factory=dict)
    status: Literal["answered", "escalated"] = "answered"

    @field_validator("answer_contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class GoldenCase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    task: str
    expect: Expectation = Expectation()


class GoldenSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    skill: str | None = None
    cases: list[GoldenCase] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path) -> GoldenSet:
        """Read a golden set.

        Raises:
            GoldenError: unreadable or malformed, naming the field.
        """
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as error:
            raise GoldenError(f"cannot read {path}: {error}") from None
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise GoldenError(f"{path}: {problems}") from None


def grade(case: GoldenCase, run: AgentRun) -> list[str]:
    """Why `run` does not meet `case` (empty: correct)."""
    expect, misses = case.expect, []
    if run.status != expect.status:
        misses.append(f"status {run.status} ({run.reason}), expected {expect.status}")
    for text in expect.answer_contains:
        if text.lower() not in run.answer.lower():
            misses.append(f"the answer does not contain {text!r}")
    called = [call.tool for call in run.tool_calls()]
    remaining = iter(called)
    if not all(any(tool == c for c in remaining) for tool in expect.tool_calls):
        misses.append(f"expected tool calls {expect.tool_calls} in order; made {called}")
    outcomes = {call.tool: call.outcome for call in run.tool_calls()}
    for tool, outcome in expect.tool_outcomes.items():
        if outcomes.get(tool) != outcome:
            misses.append(f"{tool}: expected {outcome}, got {outcomes.get(tool, 'no call')}")
    return misses


@dataclass(frozen=True)
class CaseResult:
    routing: str
    case: str
    run: AgentRun
    misses: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return not self.misses


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Accuracy, tokens and cost per routing config, and tokens and cost per model that served steps."""
    by_routing: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        by_routing[result.routing].append(result)
    routings = {}
    for label, group in by_routing.items():
        correct = sum(r.correct for r in group)
        cost = sum(r.run.cost_usd for r in group)
        routings[label] = {
            "cases": len(group),
            "correct": correct,
            "accuracy": correct / len(group),
            "escalated": sum(r.run.status == "escalated" for r in group),
            "tokens": sum(r.run.tokens for r in group),
            "cost_usd": round(cost, 8),
            "cost_per_correct_usd": round(cost / correct, 8) if correct else None,
        }
    models: dict[str, dict[str, Any]] = defaultdict(lambda: {"steps": 0, "tokens": 0, "cost_usd": 0.0})
    for result in results:
        for step in result.run.steps:
            row = models[f"{step.provider}/{step.model}"]
            row["steps"] += 1
            row["tokens"] += step.input_tokens + step.output_tokens
            row["cost_usd"] = round(row["cost_usd"] + step.cost_usd, 8)
    return {
        "routings": routings,
        "models": dict(models),
        "cases": [
            {
                "routing": r.routing,
                "case": r.case,
                "correct": r.correct,
                "misses": list(r.misses),
                "status": r.run.status,
                "reason": r.run.reason,
                "served_by": sorted({f"{s.provider}/{s.model}" for s in r.run.steps}),
                "tokens": r.run.tokens,
                "cost_usd": round(r.run.cost_usd, 8),
            }
            for r in results
        ],
    }


def routing_labels(paths: Sequence[Path]) -> Mapping[Path, str]:
    """A short unique label per routing file: its name, or its path when two names clash."""
    names = [p.name for p in paths]
    return {p: (p.name if names.count(p.name) == 1 else str(p)) for p in paths}
