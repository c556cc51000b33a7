"""`mcpgov harness run`: load scenario files, run each over fresh connections, show and report the results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from client_harness.config import HarnessConfig
from client_harness.connections import Connections, Mode
from client_harness.reports import write_json_report, write_junit
from client_harness.scenario_model import Scenario, ScenarioError, load_scenario
from client_harness.scenario_runner import ScenarioResult, ScenarioRunner
from client_harness.terminal import ScenarioProgress, print_summary


def load_scenarios(paths: Sequence[Path]) -> list[Scenario]:
    """Every scenario in `paths` (files, or directories of `*.yaml` in name order), checked before any runs.

    Raises:
        ScenarioError: a file is malformed.
    """
    files: list[Path] = []
    for path in paths:
        found = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        if not found:
            raise ScenarioError(f"{path}: no scenario files (*.yaml) in this directory")
        files.extend(found)
    return [load_scenario(file) for file in files]


async def run_scenarios(
    scenarios: Sequence[Scenario],
    config: HarnessConfig,
    *,
    console: Console,
    mode: Mode = "auto",
    log_dir: Path | None = None,
    operator_command: Sequence[str] | None = None,
) -> list[ScenarioResult]:
    """Run each scenario over its own connections (servers start fresh; their state persists)."""
    progress = ScenarioProgress(console, sum(len(s.steps) for s in scenarios))
    results = []
    with progress.running():
        for scenario in scenarios:
            progress.scenario(scenario.name)
            async with Connections(config, mode=mode, log_dir=log_dir) as connections:
                runner = ScenarioRunner(connections, operator_command=operator_command, on_step=progress.step_done)
                results.append(await runner.run(scenario))
    print_summary(console, results)
    return results


def write_reports(results: Sequence[ScenarioResult], *, json_path: Path | None, junit_path: Path | None) -> None:
    """Write the JSON report and the JUnit XML where asked."""
    if json_path is not None:
        write_json_report(results, json_path)
    if junit_path is not None:
        write_junit(results, junit_path)
