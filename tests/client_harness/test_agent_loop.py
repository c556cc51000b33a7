"""The agent loop against a real HTTP provider on loopback that speaks both provider APIs from a script."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from harness_testing import StartProvider, answers

from client_harness.agent import AgentRun, RoutingConfig, StepRecord, agent_loop
from client_harness.config import HarnessConfig

pytestmark = pytest.mark.anyio

SEARCH = {"name": "knowledge_base__search_articles", "arguments": {"query": "reset password", "limit": 2}}


def routing(
    base: str,
    chain: list[tuple[str, str]],
    *,
    budgets: dict[str, Any] | None = None,
    timeout_s: float = 10,
    retry_budget: int = 3,
    api_key_env: str | None = None,
    max_output_tokens: int = 1024,
) -> RoutingConfig:
    """A routing config whose chain is [(provider, model), ...] on the scripted provider at `base`."""
    choices = [{"provider": p, "model": m, "timeout_s": timeout_s} for p, m in chain]
    return RoutingConfig.model_validate(
        {
            "providers": {
                "openai": {"kind": "openai", "base_url": f"{base}/v1", "api_key_env": api_key_env},
                "anthropic": {"kind": "anthropic", "base_url": base},
            },
            "prices": {m: {"input": 1.0, "output": 2.0} for _, m in chain},
            "defaults": {
                "routing": choices[0],
                "fallbacks": choices[1:],
                "budgets": budgets or {},
                "retry_budget": retry_budget,
                "max_output_tokens": max_output_tokens,
            },
        }
    )


async def run(config: HarnessConfig, routes: RoutingConfig, task: str = "How do I reset my password?") -> AgentRun:
    steps: list[StepRecord] = []
    with anyio.fail_after(30):
        async with agent_loop(routes, config, on_step=steps.append) as loop:
            result = await loop.run(task)
    assert list(result.steps) == steps  # the step log saw every step, as it happened
    return result


USAGE = {"input_tokens": 1000, "output_tokens": 100}  # costs 0.0012 at 1.0 / 2.0 USD per million


async def test_the_agent_calls_a_tool_and_answers_over_chat_completions(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider(
        answers("small", {"tool_call": SEARCH, "usage": USAGE}, {"text": "Use the reset link.", "usage": USAGE})
    )
    result = await run(suite, routing(scripted.base_url, [("openai", "small")]))
    assert (result.status, result.answer) == ("answered", "Use the reset link.")
    (call,) = result.tool_calls()
    assert (call.tool, call.provider_name, call.outcome) == (
        "knowledge_base.search_articles",
        SEARCH["name"],
        "allowed",
    )
    assert [(s.model, s.input_tokens, s.output_tokens, s.cost_usd) for s in result.steps] == [
        ("small", 1000, 100, 0.0012)
    ] * 2
    first, second = (r["body"] for r in scripted.requests)
    offered = {tool["function"]["name"] for tool in first["tools"]}
    assert {"knowledge_base__search_articles", "tickets__update_status"} <= offered
    assert second["messages"][2]["tool_calls"][0]["function"]["name"] == SEARCH["name"]
    assert second["messages"][3]["role"] == "tool" and second["messages"][3]["tool_call_id"] == "call_0_0"
    assert '"hits"' in second["messages"][3]["content"]


async def test_the_agent_calls_a_tool_and_answers_over_anthropic_messages(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider(answers("haiku", {"tool_call": SEARCH}, {"text": "Use the reset link."}))
    result = await run(suite, routing(scripted.base_url, [("anthropic", "haiku")]))
    assert (result.status, result.answer) == ("answered", "Use the reset link.")
    assert [r["path"] for r in scripted.requests] == ["/v1/messages"] * 2
    assert scripted.requests[0]["headers"]["anthropic-version"] == "2023-06-01"
    first, second = (r["body"] for r in scripted.requests)
    assert "input_schema" in first["tools"][0] and first["system"]
    assert second["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_0_0", "name": SEARCH["name"], "input": SEARCH["arguments"]}
    ]
    (tool_result,) = second["messages"][2]["content"]
    assert (tool_result["type"], tool_result["tool_use_id"], tool_result["is_error"]) == (
        "tool_result",
        "toolu_0_0",
        False,
    )


async def test_a_5xx_moves_to_the_fallback_and_the_report_says_which_model_served(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider(
        {
            "conversations": [
                {"model": "primary", "turns": [{"status": 500}]},
                {"model": "backup", "turns": [{"tool_call": SEARCH}, {"text": "done"}]},
            ]
        }
    )
    result = await run(
        suite, routing(scripted.base_url, [("openai", "primary"), ("anthropic", "backup")], retry_budget=5)
    )
    assert result.status == "answered"
    assert result.to_json()["served_by"] == ["anthropic/backup", "anthropic/backup"]
    failed, served = result.steps[0].attempts
    assert (failed.model, served.model, served.error) == ("primary", "backup", None)
    assert failed.error is not None and failed.error.startswith("status: HTTP 500")
    assert len(result.failed_attempts) == 2  # each step starts from the primary again


async def test_a_timeout_moves_to_the_fallback(provider: StartProvider, suite: HarnessConfig) -> None:
    scripted = provider(
        {
            "conversations": [
                {"model": "slow", "turns": [{"hang": True}]},
                {"model": "backup", "turns": [{"text": "answered by the backup"}]},
            ]
        }
    )
    result = await run(suite, routing(scripted.base_url, [("openai", "slow"), ("openai", "backup")], timeout_s=0.5))
    assert (result.status, result.answer) == ("answered", "answered by the backup")
    assert result.failed_attempts[0].error == "timeout: no reply within 0.5s"


async def test_an_endless_tool_loop_is_stopped_by_the_step_budget_and_escalated(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider(answers("loopy", {"tool_call": SEARCH}))
    result = await run(suite, routing(scripted.base_url, [("openai", "loopy")], budgets={"max_steps": 3}))
    assert (result.status, result.reason, len(result.steps)) == ("escalated", "max_steps", 3)
    assert len(scripted.requests) == 3  # it stopped asking
    assert [len(s.tool_calls) for s in result.steps] == [1, 1, 0]  # the last step's calls were not run
    assert result.steps[-1].note == "tool calls not run: the budget is spent"


async def test_the_token_budget_stops_the_loop_and_caps_each_requests_output(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    usage = {"input_tokens": 3000, "output_tokens": 1000}
    scripted = provider(answers("loopy", {"tool_call": SEARCH, "usage": usage}))
    routes = routing(scripted.base_url, [("openai", "loopy")], budgets={"max_tokens": 10_000}, max_output_tokens=4096)
    result = await run(suite, routes)
    assert (result.status, result.reason, result.tokens) == ("escalated", "max_tokens", 12_000)
    assert [r["body"]["max_tokens"] for r in scripted.requests] == [4096, 4096, 2000]


async def test_the_cost_budget_stops_the_loop_before_it_spends_more(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    usage = {"input_tokens": 5000, "output_tokens": 2500}  # 0.01 USD a step
    scripted = provider(answers("loopy", {"tool_call": SEARCH, "usage": usage}))
    result = await run(suite, routing(scripted.base_url, [("openai", "loopy")], budgets={"max_cost_usd": 0.025}))
    assert (result.status, result.reason, len(result.steps)) == ("escalated", "max_cost", 3)
    assert result.cost_usd == pytest.approx(0.03)


async def test_when_every_model_fails_the_session_escalates_within_its_retry_budget(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    scripted = provider({"conversations": [{"model": "*", "turns": [{"status": 503}]}]})
    chain = [("openai", "a"), ("anthropic", "b"), ("openai", "c")]
    exhausted = await run(suite, routing(scripted.base_url, chain, retry_budget=1))
    assert (exhausted.status, exhausted.reason, len(exhausted.failed_attempts)) == ("escalated", "retry_budget", 2)
    nobody = await run(suite, routing(scripted.base_url, chain, retry_budget=10))
    assert (nobody.status, nobody.reason, len(nobody.failed_attempts)) == ("escalated", "no_model_answered", 3)
    assert nobody.cost_usd == 0 and not nobody.steps


async def test_each_tool_calls_governance_outcome_is_logged_and_told_to_the_model(
    provider: StartProvider, suite: HarnessConfig
) -> None:
    calls = [
        {"name": "tickets__update_status", "arguments": {"ticket_id": 1, "status": "closed"}},
        {"name": "knowledge_base__search_articles", "arguments": {"query": "refund", "limit": 500}},
        {"name": "knowledge_base__drop_everything", "arguments": {}},
    ]
    scripted = provider(answers("small", {"tool_calls": calls}, {"text": "Closing waits for approval."}))
    result = await run(suite, routing(scripted.base_url, [("openai", "small")]), task="Close ticket 1")
    assert [(c.tool, c.outcome) for c in result.tool_calls()] == [
        ("tickets.update_status", "approval_pending"),
        ("knowledge_base.search_articles", "error"),
        ("knowledge_base__drop_everything", "unknown_tool"),
    ]
    told = [m["content"] for m in scripted.requests[1]["body"]["messages"] if m["role"] == "tool"]
    assert told[0].startswith("ERROR: Approval required: 'update_status' waits for a reviewer")
    assert "Invalid argument 'limit'" in told[1]
    assert told[2] == "ERROR: Unknown tool: knowledge_base__drop_everything. Use one of the tools provided."


async def test_the_api_key_comes_from_the_environment_and_is_never_recorded(
    provider: StartProvider, suite: HarnessConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-harness-test-0123456789abcdefghij"
    monkeypatch.setenv("HARNESS_TEST_KEY", secret)
    scripted = provider(answers("small", {"tool_call": SEARCH}, {"text": "ok"}))
    result = await run(suite, routing(scripted.base_url, [("openai", "small")], api_key_env="HARNESS_TEST_KEY"))
    assert scripted.requests[0]["headers"]["authorization"] == f"Bearer {secret}"
    assert secret not in repr(result.to_json())
    monkeypatch.delenv("HARNESS_TEST_KEY")
    missing = await run(suite, routing(scripted.base_url, [("openai", "small")], api_key_env="HARNESS_TEST_KEY"))
    assert missing.failed_attempts[0].error == (
        "configuration: HARNESS_TEST_KEY is not set; export it with the openai key"
    )
