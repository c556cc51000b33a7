"""Client-side commands: `mcpgov demo` (and, later, `mcpgov harness ...`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)


@app.command("demo")
def demo(
    state_dir: Annotated[Path, typer.Option("--state-dir", help="Where the demo keeps its database.")] = Path(
        ".mcpgov/demo"
    ),
) -> None:
    """Serve the suite with the example policy; show a governed call, refusals and the audit trail."""
    from client_harness.demo import run_demo

    raise typer.Exit(run_demo(state_dir))
