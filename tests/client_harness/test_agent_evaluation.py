"""A golden set run against routing configs: accuracy, tokens, cost and cost per correct answer."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from harness_testing import StartProvider
from rich.console import Console

from client_harness.agent import AgentRun, RoutingConfig, StepRecord
from client_harness.agent.evaluation import GoldenCase, GoldenError, GoldenSet, grade, summarize
from client_harness.agent.records import ToolCallRecord
from client_harness.agent.run_eval import print_eval, run_eval
from client_harness.config import HarnessConfig

pytestmark = pytest.mark.anyio

GOLDEN = GoldenSet.model_validate(
    {
        "cases": [
            {
                "name": "password",
                "task": "How do I reset my password?",
                "expect": {"answer_contains": "reset", "tool_calls": ["knowledge_base.search_articles"]},
            },
            {"name": "refund", "task": "How long does a refund take?", "expect": {"answer_contains": ["original"]}},
        ]
    }
)
USAGE = {"input_tokens": 1000, "output_tokens": 0}
SEARCH = {"name": "knowledge_base__search_articles", "arguments": {"query": "password", "limit": 1}}


def routing(base: str, model: str, price: float) -> RoutingConfig:
    return RoutingConfig.model_validate(
        {
            "providers": {"p": {"kind": "openai", "base_url": f"{base}/v1"}},
            "prices": {model: {"input": price, "output": price}},
            "defaults": {"routing": {"provider": "p", "model": model}},
        }
    )


async def test_each_routing_is_scored_for_accuracy_and_cost_per_correct_answer(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider(
        {
            "conversations": [
                {"model": "cheap", "task_contains": "password", "turns": [{"tool_call": SEARCH, "usage": USAGE}, {"text": "Reset it.", "usage": USAGE}]},
                {"model": "cheap", "turns": [{"text": "A month.", "usage": USAGE}]},
                {"model": "careful", "task_contains": "password", "turns": [{"tool_call": SEARCH, "usage": USAGE}, {"text": "Reset it.", "usage": USAGE}]},
                {"model": "careful", "turns": [{"text": "To the original payment method.", "usage": USAGE}]},
            ]
        }
    )  # fmt: skip
    routings = {
        "cheap.yaml": routing(scripted.base_url, "cheap", 1.0),
        "careful.yaml": routing(scripted.base_url, "careful", 10.0),
    }
    console = Console(record=True, width=140)
    with anyio.fail_after(30):
        results = await run_eval(GOLDEN, routings, suite, console=console)
    summary = summarize(results)
    assert summary["routings"] == {
        "cheap.yaml": {"cases": 2, "correct": 1, "accuracy": 0.5, "escalated": 0, "tokens": 3000, "cost_usd": 0.003, "cost_per_correct_usd": 0.003},
        "careful.yaml": {"cases": 2, "correct": 2, "accuracy": 1.0, "escalated": 0, "tokens": 3000, "cost_usd": 0.03, "cost_per_correct_usd": 0.015},
    }  # fmt: skip
    assert summary["models"]["p/careful"] == {"steps": 3, "tokens": 3000, "cost_usd": 0.03}
    (miss,) = [c for c in summary["cases"] if not c["correct"]]
    assert (miss["routing"], miss["case"], miss["misses"]) == (
        "cheap.yaml",
        "refund",
        ["the answer does not contain 'original'"],
    )
    print_eval(console, summary)
    assert "cheap.yaml: refund: the answer does not contain 'original'" in console.export_text()


def test_expected_tool_calls_must_come_in_order_with_others_allowed_between() -> None:
    def run_with(*tools: str) -> AgentRun:
        calls = tuple(ToolCallRecord(t, t, {}, "allowed", False, "") for t in tools)
        step = StepRecord(0, "p", "m", (), 0, 0, 0.0, 0.0, "", calls)
        return AgentRun("t", None, "answered", None, "", (step,), (), 0, 0, 0.0)

    case = GoldenCase.model_validate({"name": "x", "task": "t", "expect": {"tool_calls": ["s.a", "s.b"]}})
    assert grade(case, run_with("s.a", "s.c", "s.b")) == []
    assert grade(case, run_with("s.b", "s.a")) == ["expected tool calls ['s.a', 's.b'] in order; made ['s.b', 's.a']"]


def test_a_malformed_golden_set_is_refused_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "g.yaml").write_text("cases:\n  - name: x\n    task: t\n    expect: {answer_contain: y}\n")
    with pytest.raises(GoldenError, match=r"g\.yaml: cases\.0\.expect\.answer_contain: Extra inputs are not permitted"):
        GoldenSet.load(tmp_path / "g.yaml")
