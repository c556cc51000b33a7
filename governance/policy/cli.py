"""`mcpgov policy ...`: check a policy without starting anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.errors import PolicyError
from governance.policy import Policy

app = typer.Typer(name="policy", help="Validate policy documents.", no_args_is_help=True)


@app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The policy YAML file.")]) -> None:
    """Validate FILE: YAML, fields, roles, and the Cedar it compiles to. Exit 0 when usable."""
    try:
        policy = Policy.load(file)
    except PolicyError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(error.problems)} problem(s); the policy was not accepted.", err=True)
        raise typer.Exit(1) from None
    document = policy.document
    typer.echo(
        f"ok: {file}: {len(document.principals)} principal(s), {len(document.roles)} role(s), "
        f"{len(document.tools)} tool rule(s); version {policy.version[:16]}"
    )
