"""Client-side commands: `mcpgov demo` and `mcpgov harness run|agent|eval|tools`.

Each command parses options and hands over to its module; nothing else happens here.
"""

from __future__ import annotations

import shlex
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import typer
from rich.console import Console

app = typer.Typer(add_completion=False)
harness_app = typer.Typer(
    name="harness",
    help="Exercise MCP servers as an agent would: scripted scenarios, an LLM agent loop, evaluations.",
    no_args_is_help=True,
    add_completion=False,
)

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Host config (mcpServers JSON, or VS Code's servers), or - for stdin "
        "(`mcpgov config claude | ...`). Default: the suite's servers over stdio.",
    ),
]
PolicyOption = Annotated[
    Path | None, typer.Option("--policy", help="Policy for the suite's servers (without --config).")
]
StateOption = Annotated[
    Path | None,
    typer.Option("--state-dir", help="State and server logs for this run (default: a fresh temporary directory)."),
]
ServerOption = Annotated[list[str] | None, typer.Option("--server", help="Only these servers (repeatable).")]


class ModeChoice(StrEnum):
    legacy = "legacy"
    auto = "auto"


ModeOption = Annotated[
    ModeChoice, typer.Option("--mode", help="Protocol era: legacy (2025-11-25 handshake) or auto (2026-07-28).")
]
JsonOption = Annotated[Path | None, typer.Option("--json-report", help="Write a JSON report here.")]


def _era(mode: ModeChoice) -> Literal["legacy", "auto"]:
    return "legacy" if mode is ModeChoice.legacy else "auto"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("demo")
def demo(
    state_dir: Annotated[Path, typer.Option("--state-dir", help="Where the demo keeps its database.")] = Path(
        ".mcpgov/demo"
    ),
) -> None:
    """Serve the suite with the example policy; show a governed call, refusals and the audit trail."""
    from client_harness.demo import run_demo

    raise typer.Exit(run_demo(state_dir))


@harness_app.command("run")
def run(
    files: Annotated[list[Path], typer.Argument(help="Scenario files, or directories of *.yaml (run in name order).")],
    config: ConfigOption = None,
    policy: PolicyOption = None,
    state_dir: StateOption = None,
    server: ServerOption = None,
    mode: ModeOption = ModeChoice.auto,
    json_report: JsonOption = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here (for CI).")] = None,
    operator_command: Annotated[
        str | None,
        typer.Option("--operator-command", help="How to run mcpgov for reviewer and audit steps (default: this one)."),
    ] = None,
) -> None:
    """Run scenario files against governed servers; exit 1 if any expectation fails."""
    from client_harness._setup import prepare
    from client_harness.config import HarnessConfigError
    from client_harness.run_scenarios import load_scenarios, run_scenarios, write_reports
    from client_harness.scenario_model import ScenarioError

    try:
        scenarios = load_scenarios(files)
        setup = prepare(config, policy=policy, state_dir=state_dir, servers=server)
    except (ScenarioError, HarnessConfigError) as error:
        raise _fail(str(error)) from None
    console = Console()
    results = anyio.run(
        lambda: run_scenarios(
            scenarios,
            setup.config,
            console=console,
            mode=_era(mode),
            log_dir=setup.log_dir,
            operator_command=shlex.split(operator_command) if operator_command else None,
        )
    )
    write_reports(results, json_path=json_report, junit_path=junit)
    console.print(f"[dim]state and server logs: {setup.run_dir}[/]")
    raise typer.Exit(0 if all(result.passed for result in results) else 1)


app.add_typer(harness_app, name="harness")


RoutingOption = Annotated[Path, typer.Option("--routing", help="Model routing YAML (providers, prices, budgets).")]
AsOption = Annotated[str | None, typer.Option("--as", help="Act as this principal (stdio: MCPGOV_PRINCIPAL).")]


@harness_app.command("agent")
def agent(
    task: Annotated[str, typer.Argument(help="What the agent should do.")],
    routing: RoutingOption,
    config: ConfigOption = None,
    policy: PolicyOption = None,
    state_dir: StateOption = None,
    server: ServerOption = None,
    principal: AsOption = None,
    skill: Annotated[str | None, typer.Option("--skill", help="Route by this skill's overrides.")] = None,
    mode: ModeOption = ModeChoice.auto,
    json_report: JsonOption = None,
    log: Annotated[Path | None, typer.Option("--log", help="Append each step as a JSON line here.")] = None,
) -> None:
    """Run the ReAct agent loop on one task; exit 1 if it escalated (a budget or the providers stopped it)."""
    import json

    from client_harness._setup import prepare
    from client_harness.agent.console import StepLog, print_run
    from client_harness.agent.routing import RoutingError, load_routing
    from client_harness.agent.session import agent_loop
    from client_harness.config import HarnessConfigError
    from client_harness.connections import ConnectionFailed

    try:
        loaded = load_routing(routing)
        loaded.route(skill)
        setup = prepare(config, policy=policy, state_dir=state_dir, servers=server)
    except (RoutingError, HarnessConfigError) as error:
        raise _fail(str(error)) from None
    console = Console()
    step_log = StepLog(console, log)

    async def go() -> Any:
        async with agent_loop(
            loaded,
            setup.config,
            skill=skill,
            servers=server,
            principal=principal,
            mode=_era(mode),
            log_dir=setup.log_dir,
            on_step=step_log,
        ) as loop:
            return await loop.run(task, skill=skill)

    try:
        run = anyio.run(go)
    except (HarnessConfigError, ConnectionFailed) as error:
        raise _fail(str(error)) from None
    finally:
        step_log.close()
    print_run(console, run)
    if json_report is not None:
        json_report.write_text(json.dumps(run.to_json(), indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(0 if run.status == "answered" else 1)


@harness_app.command("eval")
def evaluate(
    golden: Annotated[Path, typer.Argument(help="Golden set YAML (tasks and expected answers or tool calls).")],
    routing: Annotated[list[Path], typer.Option("--routing", help="A routing config to compare (repeatable).")],
    config: ConfigOption = None,
    policy: PolicyOption = None,
    state_dir: StateOption = None,
    server: ServerOption = None,
    principal: AsOption = None,
    mode: ModeOption = ModeChoice.auto,
    json_report: JsonOption = None,
) -> None:
    """Run a golden set against routing configs: accuracy, tokens, cost, cost per correct answer."""
    import json

    from client_harness._setup import prepare
    from client_harness.agent.evaluation import GoldenError, GoldenSet, routing_labels, summarize
    from client_harness.agent.routing import RoutingError, load_routing
    from client_harness.agent.run_eval import print_eval, run_eval
    from client_harness.config import HarnessConfigError
    from client_harness.connections import ConnectionFailed

    try:
        golden_set = GoldenSet.load(golden)
        routings = {label: load_routing(path) for path, label in routing_labels(routing).items()}
        for loaded in routings.values():
            loaded.route(golden_set.skill)
        setup = prepare(config, policy=policy, state_dir=state_dir, servers=server)
    except (GoldenError, RoutingError, HarnessConfigError) as error:
        raise _fail(str(error)) from None
    console = Console()
    try:
        results = anyio.run(
            lambda: run_eval(
                golden_set,
                routings,
                setup.config,
                console=console,
                servers=server,
                principal=principal,
                mode=_era(mode),
                log_dir=setup.log_dir,
            )
        )
    except (HarnessConfigError, ConnectionFailed) as error:
        raise _fail(str(error)) from None
    summary = summarize(results)
    print_eval(console, summary)
    if json_report is not None:
        json_report.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


@harness_app.command("tools")
def tools(
    config: ConfigOption = None,
    policy: PolicyOption = None,
    state_dir: StateOption = None,
    server: ServerOption = None,
    principal: AsOption = None,
    mode: ModeOption = ModeChoice.auto,
) -> None:
    """List every tool the principal sees, as `server.tool` and under the name a model provider gets."""
    from rich.table import Table

    from client_harness._setup import prepare
    from client_harness.agent.toolbox import Toolbox
    from client_harness.config import HarnessConfigError
    from client_harness.connections import ConnectionFailed, Connections

    try:
        setup = prepare(config, policy=policy, state_dir=state_dir, servers=server)
    except HarnessConfigError as error:
        raise _fail(str(error)) from None

    async def go() -> Toolbox:
        async with Connections(setup.config, mode=_era(mode), log_dir=setup.log_dir) as connections:
            return await Toolbox.discover(connections, server, principal)

    try:
        toolbox = anyio.run(go)
    except (HarnessConfigError, ConnectionFailed) as error:
        raise _fail(str(error)) from None
    table = Table(title=f"Tools visible to {principal or 'the configured principal'}")
    for column in ("tool", "provider name"):
        table.add_column(column)
    for name, tool in toolbox.tools.items():
        table.add_row(tool.name, name)
    Console().print(table)


@harness_app.command("scripted-provider")
def scripted_provider(
    script: Annotated[Path, typer.Option("--script", help="Scripted conversations (YAML).")],
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8089,
) -> None:
    """Serve scripted OpenAI and Anthropic answers on loopback, to run the agent loop offline."""
    from client_harness.scripted_provider import main

    main(["--script", str(script), "--host", host, "--port", str(port)])
