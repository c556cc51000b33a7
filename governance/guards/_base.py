"""The guard shape: `async (call, call_next) -> Outcome`, the way ASGI middleware composes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from governance.model import Outcome, ToolCall

CallNext = Callable[[ToolCall], Awaitable[Outcome]]


class Guard(Protocol):
    """One step of the pipeline. Refuses by raising a `GovernanceError`, passes by calling `call_next`."""

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome: ...


async def run_guards(guards: Sequence[Guard], call: ToolCall, terminal: CallNext) -> Outcome:
    """Run `call` through `guards` outermost-first, ending at `terminal` (the tool itself)."""

    async def step(index: int, current: ToolCall) -> Outcome:
        if index == len(guards):
            return await terminal(current)
        return await guards[index](current, lambda nxt: step(index + 1, nxt))

    return await step(0, call)
