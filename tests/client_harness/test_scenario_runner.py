"""Running steps against the suite in this process: a call repeated as an agent stuck on it repeats it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from client_harness.config import HarnessConfig
from client_harness.connections import Connections
from client_harness.scenario_model import load_scenario
from client_harness.scenario_runner import ScenarioResult, ScenarioRunner

pytestmark = pytest.mark.anyio


async def run(suite: HarnessConfig, tmp_path: Path, steps: str) -> ScenarioResult:
    path = tmp_path / "s.yaml"
    path.write_text(steps)
    with anyio.fail_after(30):
        async with Connections(suite) as connections:
            return await ScenarioRunner(connections).run(load_scenario(path))


async def test_a_repeated_call_meets_its_expectation_each_time_and_the_next_identical_one_is_a_loop(
    suite: HarnessConfig, tmp_path: Path
) -> None:
    result = await run(
        suite,
        tmp_path,
        "- call: knowledge_base.search_articles\n  args: &same {query: gift card, limit: 2}\n  repeat: 5\n"
        "- call: knowledge_base.search_articles\n  args: *same\n  expect: loop\n  error_contains: stop and escalate\n",
    )
    assert [(step.name, step.failures) for step in result.steps] == [
        ("call knowledge_base.search_articles ×5 → allowed", ()),
        ("call knowledge_base.search_articles → loop", ()),
    ]
    assert result.steps[1].outcome is not None and result.steps[1].outcome["kind"] == "loop"


async def test_a_repeated_call_stops_at_the_first_that_falls_short_and_names_it(
    suite: HarnessConfig, tmp_path: Path
) -> None:
    result = await run(
        suite, tmp_path, "- call: knowledge_base.search_articles\n  args: {query: refund, limit: 1}\n  repeat: 9\n"
    )
    (failure,) = result.steps[0].failures
    assert failure.startswith("call 6 of 9: expected the call to be allowed; got loop: Loop detected: ")
