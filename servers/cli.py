"""`mcpgov serve` and `mcpgov config`: run the suite, or print a host's config for it."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from governance.approvals.admin import LOOPBACK_HOSTS
from governance.errors import ConfigurationError
from governance.logs import configure_logging, get_logger
from governance.settings import GovernanceSettings
from servers.registry import UnknownServerError, server_names

app = typer.Typer(add_completion=False)

LISTENING_EVENT = "mcpgov.listening"  # the JSON log event that carries the bound URL


class TransportChoice(StrEnum):
    stdio = "stdio"
    http = "http"


class Host(StrEnum):
    claude = "claude"
    vscode = "vscode"
    cursor = "cursor"


PolicyOption = Annotated[
    Path | None, typer.Option("--policy", envvar="MCPGOV_POLICY", help="Policy YAML (default: built-in).")
]
DbOption = Annotated[
    str | None, typer.Option("--db", envvar="MCPGOV_DB_URL", help="SQLAlchemy URL for audit and state.")
]
StateOption = Annotated[Path, typer.Option("--state-dir", envvar="MCPGOV_STATE_DIR", help="Where local state lives.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("serve")
def serve(
    names: Annotated[list[str] | None, typer.Argument(help="Servers to run (all when omitted on HTTP).")] = None,
    transport: Annotated[TransportChoice, typer.Option(help="stdio: one server; http: several.")] = (
        TransportChoice.stdio
    ),
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port (0: any free port, announced on stderr).")] = 8000,
    policy: PolicyOption = None,
    db: DbOption = None,
    state_dir: StateOption = Path(".mcpgov"),
    principal: Annotated[str, typer.Option(envvar="MCPGOV_PRINCIPAL", help="Who the stdio caller is.")] = "local",
    json_response: Annotated[bool, typer.Option(help="HTTP: JSON responses instead of SSE.")] = False,
    admin_as: Annotated[
        str | None,
        typer.Option(
            "--admin-as", help="HTTP on loopback only: serve /admin/api/approvals, deciding as this reviewer."
        ),
    ] = None,
) -> None:
    """Serve governed MCP servers over stdio (one) or streamable HTTP (several, each at /mcp/NAME)."""
    from servers.suite import open_suite

    chosen = names or []
    if transport is TransportChoice.stdio and len(chosen) != 1:
        raise _fail(f"stdio serves exactly one server; name one of: {', '.join(server_names())}")
    if admin_as is not None and (transport is TransportChoice.stdio or host not in LOOPBACK_HOSTS):
        raise _fail("--admin-as needs --transport http on a loopback --host until authentication is configured")
    configure_logging()
    # The SDK's own INFO lines quote tool error text; ours are redacted JSON.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    settings = GovernanceSettings(state_dir=state_dir, db_url=db, policy=policy, principal=principal)
    try:
        suite = open_suite(chosen, settings, transport=transport.value)
    except (ConfigurationError, UnknownServerError) as error:
        raise _fail(str(error)) from None
    try:
        if transport is TransportChoice.stdio:
            suite.servers[0].run("stdio")
        else:
            import uvicorn

            from governance.approvals.admin import admin_routes
            from servers.gateway import build_gateway

            admin = []
            if admin_as is not None:
                governance = suite.governance
                admin = admin_routes(governance.policy, governance.audit, governance.approvals, reviewer=admin_as)
            gateway = build_gateway(suite.servers, host=host, json_response=json_response, extra_routes=admin)
            # Bound here, not by uvicorn: `--port 0` picks a free port, and the line below
            # tells whoever started us where we listen, once connections are already queued.
            listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
            url_host = f"[{host}]" if ":" in host else host
            get_logger("mcpgov.serve").info(LISTENING_EVENT, url=f"http://{url_host}:{listener.getsockname()[1]}")
            uvicorn.Server(uvicorn.Config(gateway, log_level="warning")).run(sockets=[listener])
    finally:
        suite.close()


@app.command("config")
def config(
    host: Annotated[Host, typer.Argument(help="Which host's configuration to print.")],
    names: Annotated[list[str] | None, typer.Option("--server", help="Servers to include (default all).")] = None,
    policy: PolicyOption = None,
    state_dir: StateOption = Path(".mcpgov"),
) -> None:
    """Print the MCP configuration snippet for Claude Desktop, VS Code or Cursor."""
    chosen = names or server_names()
    unknown = [n for n in chosen if n not in server_names()]
    if unknown:
        raise _fail(f"unknown server(s) {', '.join(unknown)}; the suite has: {', '.join(server_names())}")
    command = shutil.which("mcpgov") or str(Path(sys.argv[0]).resolve())
    # Hosts start servers from their own working directory: every path must be absolute.
    env = {"MCPGOV_STATE_DIR": str(state_dir.resolve())}
    if policy is not None:
        env["MCPGOV_POLICY"] = str(policy.resolve())
    entries = {
        f"mcpgov-{name}": {"command": command, "args": ["serve", name, "--transport", "stdio"], "env": env}
        for name in chosen
    }
    if host is Host.vscode:
        snippet = {"servers": {key: {"type": "stdio", **value} for key, value in entries.items()}}
    else:
        snippet = {"mcpServers": entries}
    typer.echo(json.dumps(snippet, indent=2))
