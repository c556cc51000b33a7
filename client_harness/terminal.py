"""What a person sees while scenarios run: a progress bar, one line per step, and a summary table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from client_harness.scenario_runner import ScenarioResult, StepResult


class ScenarioProgress:
    """A progress bar over every step of every scenario; each finished step prints one line above it."""

    def __init__(self, console: Console, total_steps: int) -> None:
        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID = self._progress.add_task("scenarios", total=total_steps)

    @contextmanager
    def running(self) -> Iterator[ScenarioProgress]:
        with self._progress:
            yield self

    def scenario(self, name: str) -> None:
        self._progress.update(self._task, description=name)
        self._console.print(f"[bold]{escape(name)}[/]")

    def step_done(self, step: StepResult) -> None:
        mark = "[green]✓[/]" if step.passed else "[red]✗[/]"
        self._console.print(f"  {mark} {escape(step.name)} [dim]({step.duration_s:.2f}s)[/]")
        for failure in step.failures:
            self._console.print(f"      [red]{escape(failure)}[/]")
        self._progress.advance(self._task)


def print_summary(console: Console, results: Sequence[ScenarioResult]) -> None:
    """One row per scenario: steps passed, failed, time."""
    table = Table(title="Scenario summary")
    for column in ("scenario", "steps", "passed", "failed", "time"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for result in results:
        failed = sum(not step.passed for step in result.steps)
        table.add_row(
            escape(result.scenario.name),
            str(len(result.steps)),
            str(len(result.steps) - failed),
            f"[red]{failed}[/]" if failed else "0",
            f"{sum(step.duration_s for step in result.steps):.2f}s",
        )
    console.print(table)
    failed_steps = sum(not step.passed for result in results for step in result.steps)
    if failed_steps:
        console.print(f"[bold red]{failed_steps} step(s) failed[/]")
    else:
        console.print("[bold green]every expectation met[/]")
