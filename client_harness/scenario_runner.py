"""Running a scenario's steps in order over `Connections`, one result per step.

A step that cannot run (its server does not start, a name is unknown) fails with the reason and
the scenario goes on, so one broken step does not hide what the others show.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.shared.exceptions import MCPError

from client_harness._expand import expand_all
from client_harness._templates import TemplateError, substitute
from client_harness.approvals import review
from client_harness.config import HarnessConfigError, StdioEntry
from client_harness.connections import ConnectionFailed, Connections
from client_harness.expectations import check_call, check_listing, check_records
from client_harness.mcpgov_command import run_mcpgov
from client_harness.namespace import ToolNameError, resolve
from client_harness.outcomes import ToolOutcome, from_result, from_rpc_error
from client_harness.scenario_model import AuditStep, CallStep, ListStep, ReviewStep, Scenario, Step

STEP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class StepResult:
    """What one step did and whether it met its expectations."""

    index: int
    name: str
    action: str
    target: str
    principal: str | None
    failures: tuple[str, ...]
    duration_s: float
    outcome: Mapping[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario and its step results."""

    scenario: Scenario
    steps: tuple[StepResult, ...]

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)


@dataclass
class _Saved:
    server: str
    principal: str | None
    outcome: ToolOutcome


class _StepFailed(Exception):
    """A step that could not run; its message is the failure."""


@dataclass
class ScenarioRunner:
    """Runs scenarios over one set of connections.

    Attributes:
        connections: Open connections (entered by the caller's task).
        operator_command: How to run `mcpgov` for reviewer and audit steps (default: this interpreter).
        on_step: Called after each step, e.g. to advance a progress bar.
    """

    connections: Connections
    operator_command: Sequence[str] | None = None
    on_step: Callable[[StepResult], None] | None = None
    _saved: dict[str, _Saved] = field(default_factory=dict, init=False)
    _last_server: str | None = field(default=None, init=False)

    async def run(self, scenario: Scenario) -> ScenarioResult:
        """Run every step of `scenario`, in order."""
        self._saved.clear()
        results = []
        for index, step in enumerate(scenario.steps):
            principal = step.principal or scenario.principal
            started = time.perf_counter()
            outcome: Mapping[str, Any] | None = None
            try:
                with anyio.fail_after(STEP_TIMEOUT_S):
                    failures, outcome = await self._run_step(step, principal)
            except TimeoutError:
                failures = [f"the step did not finish within {STEP_TIMEOUT_S:.0f}s"]
            except (_StepFailed, HarnessConfigError, ConnectionFailed, ToolNameError, TemplateError, OSError) as error:
                failures = [str(error)]
            except Exception as error:  # a server that died mid-call, a malformed answer: this step fails, not the run
                failures = [f"the step raised {type(error).__name__}: {error}"]
            result = StepResult(
                index=index,
                name=step.name or describe(step, principal),
                action=_action(step),
                target=_target(step),
                principal=principal,
                failures=tuple(failures),
                duration_s=time.perf_counter() - started,
                outcome=outcome,
            )
            results.append(result)
            if self.on_step is not None:
                self.on_step(result)
        return ScenarioResult(scenario, tuple(results))

    async def _run_step(self, step: Step, principal: str | None) -> tuple[list[str], Mapping[str, Any] | None]:
        if isinstance(step, CallStep):
            return await self._call(step, principal)
        if isinstance(step, ListStep):
            tools = await self.connections.list_tools(step.server, principal)
            return check_listing(step, {tool.name for tool in tools}), {"tools": sorted(t.name for t in tools)}
        if isinstance(step, ReviewStep):
            return await self._review(step, principal)
        return await self._audit(step)

    async def _call(self, step: CallStep, principal: str | None) -> tuple[list[str], Mapping[str, Any]]:
        config = self.connections.config
        tool = resolve(step.call, config.names() + list(config.servers))
        arguments = substitute(step.args, self._lookup)
        client = await self.connections.client(tool.server, principal)
        self._last_server = config.key_for(tool.server)
        for attempt in range(1, step.repeat + 1):
            try:
                outcome = from_result(await client.call_tool(tool.tool, arguments))
            except MCPError as error:
                outcome = from_rpc_error(error)
            failures = check_call(step, outcome)
            if failures:
                if step.repeat > 1:  # the rest would only repeat it; say which call of the run fell short
                    failures = [f"call {attempt} of {step.repeat}: {failure}" for failure in failures]
                break
        if step.save_as is not None:
            self._saved[step.save_as] = _Saved(self._last_server, principal, outcome)
        return failures, outcome.to_json()

    def _lookup(self, name: str) -> Any:
        saved = self._saved.get(name)
        if saved is None:
            raise TemplateError(f"${{{name}...}}: no earlier step saved an outcome as {name!r} (save_as: {name})")
        return dict(saved.outcome.structured or {})

    async def _review(self, step: ReviewStep, reviewer: str | None) -> tuple[list[str], Mapping[str, Any]]:
        saved = self._saved.get(step.ref)
        if saved is None:
            raise _StepFailed(f"no earlier step saved an outcome as {step.ref!r} (use save_as: {step.ref})")
        if saved.outcome.approval is None or saved.outcome.approval.approval_id is None:
            raise _StepFailed(f"{step.ref!r} holds no approval id; that call's outcome was {saved.outcome.kind}")
        env, cwd = self._operator_env(saved.server)
        done = await review(
            step.decision,
            saved.outcome.approval.approval_id,
            reviewer=str(reviewer),
            comment=step.comment,
            env=env,
            command=self.operator_command,
            cwd=cwd,
        )
        failures = []
        if step.expect == "done" and not done.ok:
            failures.append(f"the reviewer's {step.decision} was refused (exit {done.returncode}): {done.output}")
        if step.expect == "refused" and done.ok:
            failures.append(f"expected the reviewer's {step.decision} to be refused; it was accepted: {done.output}")
        if step.error_contains is not None and step.error_contains.lower() not in done.output.lower():
            failures.append(f"expected the CLI to say {step.error_contains!r}; it said: {done.output}")
        return failures, {"approval_id": saved.outcome.approval.approval_id, "exit": done.returncode}

    async def _audit(self, step: AuditStep) -> tuple[list[str], Mapping[str, Any]]:
        config = self.connections.config
        server = config.key_for(step.server) if step.server else self._last_server or next(iter(config.servers))
        env, cwd = self._operator_env(server)
        if step.audit == "records":
            return await self._audit_records(step, server, env, cwd)
        done = await run_mcpgov(["audit", "verify"], env=env, command=self.operator_command, cwd=cwd)
        intact = done.ok
        failures = []
        if step.expect == "intact" and not intact:
            failures.append(f"audit verify found a problem (exit {done.returncode}): {done.output}")
        if step.expect == "broken" and intact:
            failures.append(f"expected audit verify to find a problem; it passed: {done.output}")
        return failures, {"server": server, "exit": done.returncode, "output": done.output[:2000]}

    async def _audit_records(
        self, step: AuditStep, server: str, env: dict[str, str], cwd: str | None
    ) -> tuple[list[str], Mapping[str, Any]]:
        done = await run_mcpgov(["audit", "export"], env=env, command=self.operator_command, cwd=cwd)
        if not done.ok:
            raise _StepFailed(f"audit export failed (exit {done.returncode}): {done.output[:2000]}")
        try:
            records = [json.loads(line)["record"] for line in done.stdout.splitlines() if line.strip()]
        except (ValueError, KeyError, TypeError) as error:
            raise _StepFailed(f"audit export printed something other than JSON lines with a record: {error}") from None
        return check_records(step, records, done.stdout), {"server": server, "records": len(records)}

    def _operator_env(self, server: str) -> tuple[dict[str, str], str | None]:
        """The environment a stdio server was started with, so the CLI finds the same state."""
        entry = self.connections.config.servers[server]
        if isinstance(entry, StdioEntry):
            env = expand_all(entry.env, f"server {server!r}.env")
            env.pop("MCPGOV_PRINCIPAL", None)
            return env, entry.cwd
        return {}, None


def describe(step: Step, principal: str | None) -> str:
    """A readable default name for a step."""
    who = f" as {principal}" if principal else ""
    if isinstance(step, CallStep):
        times = f" ×{step.repeat}" if step.repeat > 1 else ""
        return f"call {_target(step)}{who}{times} → {step.expectation}"
    if isinstance(step, ListStep):
        return f"list {step.server}{who}"
    if isinstance(step, ReviewStep):
        return f"{step.decision} {step.ref}{who}"
    return "audit records" if step.audit == "records" else f"audit verify ({step.expect})"


def _action(step: Step) -> str:
    if isinstance(step, ReviewStep):
        return step.decision
    return {CallStep: "call", ListStep: "list", AuditStep: "audit"}[type(step)]


def _target(step: Step) -> str:
    if isinstance(step, CallStep):
        call = step.call
        return call if isinstance(call, str) else f"{call.get('server')}.{call.get('tool')}"
    if isinstance(step, ListStep):
        return step.server
    if isinstance(step, ReviewStep):
        return step.ref
    return step.server or ""
