"""The ReAct loop: the model sees the tools, calls them, reads the results, and answers.

Each step asks the route's models in order (primary, then fallbacks) until one replies; every
failed attempt spends one unit of the session's retry budget. Before each model call the
budgets are checked, and a reply that asks for tools is not acted on when no further model
call would be allowed: the loop stops with `escalated` and the reason, it never keeps spending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from client_harness.agent.budget import Budget
from client_harness.agent.messages import (
    Message,
    ModelReply,
    ModelRequest,
    ToolCallRequest,
    ToolResult,
    ToolResultsMessage,
    UserMessage,
)
from client_harness.agent.provider import ModelClient, ProviderError
from client_harness.agent.records import (
    AgentRun,
    Attempt,
    RunStatus,
    StepRecord,
    ToolCallRecord,
    redacted_arguments,
    short,
)
from client_harness.agent.routing import ModelChoice, Price, Route
from client_harness.agent.toolbox import Toolbox, ToolCallDone
from client_harness.config import HarnessConfigError
from client_harness.connections import ConnectionFailed


class _Escalate(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class AgentLoop:
    """Runs tasks with one route's models over one toolbox.

    Attributes:
        models: Sends requests to providers.
        toolbox: The tools offered to the model.
        route: Models, fallbacks, budgets.
        prices: USD per million tokens, per model.
        on_step: Called with each step's record as soon as it is complete (the step log).
    """

    models: ModelClient
    toolbox: Toolbox
    route: Route
    prices: Mapping[str, Price]
    on_step: Callable[[StepRecord], None] | None = None

    async def run(self, task: str, *, skill: str | None = None) -> AgentRun:
        """Work on `task` until the model answers or a budget stops the session."""
        budget = Budget(self.route.budgets, self.prices)
        session = _Session(self.route.retry_budget)
        messages: list[Message] = [UserMessage(task)]
        status: RunStatus = "answered"
        reason: str | None = None
        answer = ""
        try:
            while True:
                spent = budget.exhausted()
                if spent:
                    raise _Escalate(spent)
                request = ModelRequest(
                    model="",
                    system=self.route.system,
                    messages=tuple(messages),
                    tools=self.toolbox.specs,
                    max_output_tokens=budget.output_allowance(self.route.max_output_tokens),
                )
                choice, reply, attempts = await self._ask(request, session)
                cost = budget.charge(choice.model, reply.input_tokens, reply.output_tokens)
                step = _Step(len(session.steps), choice, reply, attempts, cost)
                if not reply.tool_calls:
                    self._record(session, step.record(()))
                    answer = reply.text
                    break
                spent = budget.exhausted()
                if spent:
                    self._record(session, step.record((), note="tool calls not run: the budget is spent"))
                    raise _Escalate(spent)
                done = [await self._call(call_request) for call_request in reply.tool_calls]
                self._record(session, step.record(tuple(_tool_record(d) for d in done)))
                messages += [reply.as_message(), ToolResultsMessage(tuple(d.result for d in done))]
        except _Escalate as stop:
            status, reason = "escalated", stop.reason
        return AgentRun(
            task=task,
            skill=skill,
            status=status,
            reason=reason,
            answer=answer,
            steps=tuple(session.steps),
            failed_attempts=tuple(session.failed),
            input_tokens=budget.input_tokens,
            output_tokens=budget.output_tokens,
            cost_usd=budget.cost_usd,
        )

    async def _ask(
        self, request: ModelRequest, session: _Session
    ) -> tuple[ModelChoice, ModelReply, tuple[Attempt, ...]]:
        attempts: list[Attempt] = []
        for choice in self.route.chain:
            started = time.perf_counter()
            try:
                reply = await self.models.complete(choice, replace(request, model=choice.model))
            except ProviderError as error:
                failed = Attempt(choice.provider, choice.model, time.perf_counter() - started, f"{error.kind}: {error}")
                attempts.append(failed)
                session.failed.append(failed)
                if session.retries_left == 0:
                    raise _Escalate("retry_budget") from None
                session.retries_left -= 1
                continue
            attempts.append(Attempt(choice.provider, choice.model, time.perf_counter() - started))
            return choice, reply, tuple(attempts)
        raise _Escalate("no_model_answered")

    async def _call(self, request: ToolCallRequest) -> ToolCallDone:
        try:
            return await self.toolbox.call(request)
        except (ConnectionFailed, HarnessConfigError, TimeoutError) as error:
            problem = str(error)
        except Exception as error:  # the server died or answered garbage: the model hears it, the loop goes on
            problem = f"{type(error).__name__}: {error}"
        result = ToolResult(request.id, f"The tool could not be reached: {problem}", is_error=True)
        return ToolCallDone(request, self.toolbox.tools.get(request.name), None, result)

    def _record(self, session: _Session, step: StepRecord) -> None:
        session.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)


@dataclass
class _Session:
    retries_left: int
    steps: list[StepRecord] = field(default_factory=list)
    failed: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class _Step:
    index: int
    choice: ModelChoice
    reply: ModelReply
    attempts: tuple[Attempt, ...]
    cost_usd: float

    def record(self, tool_calls: tuple[ToolCallRecord, ...], note: str | None = None) -> StepRecord:
        return StepRecord(
            index=self.index,
            provider=self.choice.provider,
            model=self.choice.model,
            attempts=self.attempts,
            input_tokens=self.reply.input_tokens,
            output_tokens=self.reply.output_tokens,
            cost_usd=self.cost_usd,
            latency_s=self.attempts[-1].latency_s,
            text=short(self.reply.text),
            tool_calls=tool_calls,
            note=note,
        )


def _tool_record(done: ToolCallDone) -> ToolCallRecord:
    kind: str = done.outcome.kind if done.outcome is not None else "unknown_tool" if done.tool is None else "not_sent"
    return ToolCallRecord(
        tool=str(done.tool) if done.tool is not None else done.request.name,
        provider_name=done.request.name,
        arguments=redacted_arguments(done.request.arguments),
        outcome=kind,
        is_error=done.result.is_error,
        text=short(done.result.text),
    )
