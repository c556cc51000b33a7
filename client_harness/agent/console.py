"""The agent's step log on the terminal and in a JSON-lines file, written as each step completes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from client_harness.agent.records import AgentRun, StepRecord

_OUTCOME_STYLE = {"allowed": "green", "denied": "red", "approval_pending": "yellow", "approval_denied": "red"}


class StepLog:
    """Prints each step and appends it to `path` as one JSON line (no API key is ever in a record)."""

    def __init__(self, console: Console, path: Path | None = None) -> None:
        self._console = console
        self._file: TextIO | None = path.open("a", encoding="utf-8") if path is not None else None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __call__(self, step: StepRecord) -> None:
        failed = [a for a in step.attempts if a.error]
        fallback = "; ".join(f"{a.model}: {_brief(a.error or '')}" for a in failed)
        fallback = f" [yellow](fallback after {escape(fallback)})[/]" if failed else ""
        self._console.print(
            f"[bold]step {step.index + 1}[/] {escape(step.provider)}/{escape(step.model)}{fallback} "
            f"[dim]{step.input_tokens}+{step.output_tokens} tok, ${step.cost_usd:.6f}, {step.latency_s:.2f}s[/]"
        )
        for call in step.tool_calls:
            style = _OUTCOME_STYLE.get(call.outcome, "magenta")
            self._console.print(
                f"    → {escape(call.tool)} [{style}]{call.outcome}[/]  [dim]{escape(call.text[:100])}[/]"
            )
        if step.note:
            self._console.print(f"    [red]{escape(step.note)}[/]")
        if self._file is not None:
            self._file.write(json.dumps({"event": "step", **step.to_json()}) + "\n")
            self._file.flush()


def _brief(error: str) -> str:
    """`status: HTTP 500: {body}` -> `HTTP 500`; the full text is in the JSON log."""
    parts = error.split(": ")
    return (parts[1] if len(parts) > 1 else parts[0])[:40]


def print_run(console: Console, run: AgentRun) -> None:
    """The outcome, the answer, and totals."""
    if run.status == "answered":
        console.print(f"[bold green]answered[/] in {len(run.steps)} step(s):")
        console.print(escape(run.answer))
    else:
        console.print(f"[bold red]escalated[/] ({run.reason}) after {len(run.steps)} step(s): needs a person")
    table = Table(show_header=True)
    for column in ("step", "served by", "tokens", "cost", "tool calls"):
        table.add_column(column, no_wrap=column == "served by")
    for step in run.steps:
        calls = ", ".join(f"{c.tool}: {c.outcome}" for c in step.tool_calls) or "-"
        table.add_row(
            str(step.index + 1),
            f"{step.provider}/{step.model}",
            str(step.input_tokens + step.output_tokens),
            f"${step.cost_usd:.6f}",
            escape(calls),
        )
    console.print(table)
    console.print(f"total: {run.tokens} tokens, ${run.cost_usd:.6f}")
