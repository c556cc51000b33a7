"""Running a golden set against each routing config and showing the comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from client_harness.agent.evaluation import CaseResult, GoldenSet, grade
from client_harness.agent.routing import RoutingConfig
from client_harness.agent.session import agent_loop
from client_harness.config import HarnessConfig
from client_harness.connections import Mode


async def run_eval(
    golden: GoldenSet,
    routings: Mapping[str, RoutingConfig],
    config: HarnessConfig,
    *,
    console: Console,
    servers: Sequence[str] | None = None,
    principal: str | None = None,
    mode: Mode = "auto",
    log_dir: Path | None = None,
) -> list[CaseResult]:
    """Every case under every routing config (each config gets its own connections)."""
    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(golden.cases) * len(routings))
        for label, routing in routings.items():
            async with agent_loop(
                routing, config, skill=golden.skill, servers=servers, principal=principal, mode=mode, log_dir=log_dir
            ) as loop:
                for case in golden.cases:
                    progress.update(task, description=f"{label}: {case.name}")
                    run = await loop.run(case.task, skill=golden.skill)
                    results.append(CaseResult(label, case.name, run, tuple(grade(case, run))))
                    progress.advance(task)
    return results


def print_eval(console: Console, summary: Mapping[str, Any]) -> None:
    """Per routing config: accuracy, tokens, cost, cost per correct answer; then per model; then misses."""
    table = Table(title="Evaluation")
    for column in ("routing", "correct", "accuracy", "escalated", "tokens", "cost", "cost / correct"):
        table.add_column(column, justify="left" if column == "routing" else "right", no_wrap=column == "routing")
    for label, row in summary["routings"].items():
        per_correct = row["cost_per_correct_usd"]
        table.add_row(
            escape(label),
            f"{row['correct']}/{row['cases']}",
            f"{row['accuracy']:.0%}",
            str(row["escalated"]),
            str(row["tokens"]),
            f"${row['cost_usd']:.6f}",
            "-" if per_correct is None else f"${per_correct:.6f}",
        )
    console.print(table)
    models = Table(title="Steps served per model")
    for column in ("model", "steps", "tokens", "cost"):
        models.add_column(column, justify="left" if column == "model" else "right", no_wrap=column == "model")
    for model, row in summary["models"].items():
        models.add_row(escape(model), str(row["steps"]), str(row["tokens"]), f"${row['cost_usd']:.6f}")
    console.print(models)
    for case in summary["cases"]:
        if not case["correct"]:
            console.print(
                f"[red]✗[/] {escape(case['routing'])}: {escape(case['case'])}: {escape('; '.join(case['misses']))}"
            )
