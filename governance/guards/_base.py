"""The guard shape: `async (call, call_next) -> Outcome`, the way ASGI middleware composes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Protocol

from governance.model import Outcome, ToolCall

CallNext = Callable[[ToolCall], Awaitable[Outcome]]


class Guard(Protocol):
    """One step of the pipeline. Refuses by raising a `GovernanceError`, passes by calling `call_next`."""

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome: ...


# The tool at the end of the chain differs per request; the chain itself does not.
# Composing it once and reading the tool from a context variable saves a closure
# per guard per call (a guard that runs the rest in a new task copies the context).
_TOOL: ContextVar[CallNext] = ContextVar("mcpgov_tool")


async def _call_tool(call: ToolCall) -> Outcome:
    return await _TOOL.get()(call)


def compose(guards: Sequence[Guard]) -> CallNext:
    """The guards as one callable, outermost first, ending at the tool passed to `run_composed`."""
    chain: CallNext = _call_tool
    for guard in reversed(guards):
        chain = partial(guard.__call__, call_next=chain)
    return chain


async def run_composed(chain: CallNext, call: ToolCall, tool: CallNext) -> Outcome:
    """Run `call` through a composed chain that ends at `tool`."""
    token = _TOOL.set(tool)
    try:
        return await chain(call)
    finally:
        _TOOL.reset(token)
