"""`mcpgov harness agent|eval|tools` as a user runs them: the shipped examples, the suite over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness_testing import ScriptedProvider, StartProvider
from processes import EXAMPLE_POLICY
from typer.testing import CliRunner

from mcpgov.cli import app

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).parents[2] / "client_harness" / "examples"
README_PORT = "http://127.0.0.1:8089"


@pytest.fixture
def examples(provider: StartProvider, tmp_path: Path) -> tuple[ScriptedProvider, Path]:
    """The shipped scripted provider and routing files, on an ephemeral port instead of the README's 8089."""
    scripted = provider(yaml.safe_load((EXAMPLES / "scripted.yaml").read_text()))
    for name in ("routing.yaml", "routing-careful.yaml"):
        text = (EXAMPLES / name).read_text()
        (tmp_path / name).write_text(text.replace(README_PORT, scripted.base_url))
    return scripted, tmp_path


def harness(*args: str, tmp_path: Path) -> list[str]:
    return ["harness", *args, "--policy", str(EXAMPLE_POLICY), "--state-dir", str(tmp_path / "state")]


def test_the_readme_agent_run_answers_via_the_fallback_and_logs_every_step(
    examples: tuple[ScriptedProvider, Path], tmp_path: Path
) -> None:
    _, routes = examples
    result = CliRunner().invoke(
        app,
        harness("agent", "How do I reset my password?", "--routing", str(routes / "routing.yaml"),
                "--server", "knowledge_base", "--json-report", str(tmp_path / "run.json"),
                "--log", str(tmp_path / "steps.jsonl"), tmp_path=tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "answered in 2 step(s)" in result.output
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["served_by"] == ["scripted-anthropic/small-model"] * 2
    assert [a["model"] for a in report["failed_attempts"]] == ["flaky-model", "flaky-model"]
    logged = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert [(s["model"], [c["outcome"] for c in s["tool_calls"]]) for s in logged] == [
        ("small-model", ["allowed"]),
        ("small-model", []),
    ]
    assert all({"input_tokens", "output_tokens", "cost_usd", "latency_s", "attempts"} <= set(s) for s in logged)


def test_a_runaway_model_is_stopped_and_the_command_exits_1(
    examples: tuple[ScriptedProvider, Path], tmp_path: Path
) -> None:
    scripted, routes = examples
    result = CliRunner().invoke(
        app,
        harness("agent", "Look up passwords", "--skill", "runaway", "--routing", str(routes / "routing.yaml"),
                "--server", "knowledge_base", tmp_path=tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "escalated (max_steps) after 4 step(s)" in result.output
    assert sum(r["model"] == "looping-model" for r in scripted.requests) == 4


def test_the_readme_eval_compares_two_routings_on_the_golden_set(
    examples: tuple[ScriptedProvider, Path], tmp_path: Path
) -> None:
    _, routes = examples
    result = CliRunner().invoke(
        app,
        harness("eval", str(EXAMPLES / "golden.yaml"), "--routing", str(routes / "routing.yaml"),
                "--routing", str(routes / "routing-careful.yaml"), "--server", "knowledge_base", "--server", "tickets",
                "--json-report", str(tmp_path / "eval.json"), tmp_path=tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "eval.json").read_text())
    assert {k: (v["correct"], v["cases"]) for k, v in summary["routings"].items()} == {
        "routing.yaml": (2, 3),
        "routing-careful.yaml": (3, 3),
    }
    cheap, careful = summary["routings"]["routing.yaml"], summary["routings"]["routing-careful.yaml"]
    assert cheap["cost_per_correct_usd"] < careful["cost_per_correct_usd"]
    assert summary["models"].keys() == {"scripted-anthropic/small-model", "scripted-anthropic/careful-model"}


def test_tools_lists_what_a_principal_sees_under_both_names(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, harness("tools", "--server", "knowledge_base", "--as", "anonymous", tmp_path=tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "knowledge_base.search_articles" in result.output and "knowledge_base__search_articles" in result.output
    assert "get_article" not in result.output


def test_a_routing_file_with_an_unpriced_model_exits_2_before_anything_starts(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "providers: {p: {kind: openai, base_url: 'http://127.0.0.1:1/v1'}}\ndefaults: {routing: {provider: p, model: m}}\n"
    )
    result = CliRunner().invoke(app, harness("agent", "hi", "--routing", str(tmp_path / "r.yaml"), tmp_path=tmp_path))
    assert result.exit_code == 2
    assert "model 'm' has no entry under `prices`" in result.output
    assert not (tmp_path / "state").exists()


def test_the_scripted_provider_runs_as_a_module_for_the_readme() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "client_harness.scripted_provider", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "--script" in done.stdout and "--port" in done.stdout
