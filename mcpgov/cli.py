"""The `mcpgov` entry point. Each package contributes its commands; no logic lives here."""

from __future__ import annotations

import typer

from client_harness.cli import app as client_app
from governance.approvals.cli import app as approvals_app
from governance.audit.cli import app as audit_app
from governance.policy.cli import app as policy_app
from servers.cli import app as servers_app

app = typer.Typer(
    name="mcpgov",
    help="MCP tool servers behind one governance layer.",
    no_args_is_help=True,
    add_completion=False,
)
app.registered_commands.extend(servers_app.registered_commands)
app.registered_commands.extend(client_app.registered_commands)
app.registered_groups.extend(client_app.registered_groups)  # `mcpgov harness ...`
app.add_typer(audit_app, name="audit")
app.add_typer(approvals_app, name="approvals")
app.add_typer(policy_app, name="policy")


def main() -> None:
    app()
