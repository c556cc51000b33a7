"""Limits on runaway agents: rates and budgets before a call, loops before a tool runs, time and size around it.

On by default: a policy without a `limits:` section gets `Limits()`'s caps.
Only `tools/call` is limited (listings and resource reads pass). Four guards,
each at its own place in the pipeline (see governance/pipeline.py):

- `LimitsGuard`: rates (`limits` library: the principal's, then the
  principal's for this tool; JSON-RPC error with the retry-after), then budgets
  (calls per session: the MCP session, else the client's `mcpgov/session`, else
  the principal, always within the principal; calls per principal per clock
  hour; JSON-RPC error with the reset time). A call refused by a rate is not
  counted in the budgets.
- `LoopGuard`: the same tool and argument digest more than `max_repeats` times
  in `window` from one session is an isError result (the model can stop and
  escalate). It sits inside the approval guard, so an agent asking again about
  a pending approval is not a loop, and the approved call is not refused for it.
- `DeadlineGuard` (innermost): the tool's timeout, an isError result when it passes.
- `ResultSizeGuard` (just inside audit, outside redaction): the result cut to
  `max_result_bytes` with a note, after secrets are redacted, so a cut can
  never split a secret into halves the redactor no longer recognises.

Counters live in memory, one set per loaded policy, so servers of one process
share them; with `limits.rate.storage` set to Redis, budgets, loops and rates
are shared by every replica using it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from limits import RateLimitItem

from governance.catalog import ToolCatalog
from governance.errors import BudgetExhausted, LoopDetected, RateLimited, ToolTimedOut
from governance.guards._base import CallNext
from governance.guards._counters import Counters, Key, open_counters
from governance.guards._deadline import DeadlinePassed, run_with_deadline
from governance.guards._rates import RateLimiter, describe_rate, parse_rate
from governance.guards._result_cap import cap_result
from governance.model import Outcome, ToolCall, ToolInfo, arguments_digest
from governance.policy import Policy
from governance.policy._document import ToolLimits

HOUR = 3600.0
SESSION_TTL = 86_400.0  # a session's budget starts over a day after its first call (stdio has no session end)

Clock = Callable[[], float]
_clock: Clock = time.time


def set_clock(clock: Clock | None) -> Clock:
    """Make budgets and loop windows read `clock` (wall-clock seconds); None restores `time.time`.

    Returns:
        The clock that was in use, to restore later (see `governance.testing.fake_clock`).
    """
    global _clock
    previous, _clock = _clock, (clock or time.time)
    return previous


@dataclass(frozen=True, slots=True)
class _ToolPlan:
    """One tool's rate, resolved from the policy once."""

    rate: RateLimitItem | None
    rate_field: str


@dataclass(frozen=True, slots=True)
class _Shared:
    counters: Counters
    rates: RateLimiter


_SHARED: dict[int, _Shared] = {}


def _shared_for(policy: Policy) -> _Shared:
    """The counters of one loaded policy: every server governed by it in this process uses the same ones."""
    shared = _SHARED.get(id(policy))
    if shared is None:
        storage = policy.document.limits.rate.storage
        shared = _SHARED[id(policy)] = _Shared(open_counters(storage), RateLimiter(storage))
        weakref.finalize(policy, _SHARED.pop, id(policy), None)
    return shared


class LimitsGuard:
    """Refuses calls over a rate or a budget."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        """Resolve every tool's limits now, so a bad rate in the policy stops start-up.

        Raises:
            ConfigurationError: a rate in the policy cannot be parsed, or the storage URL cannot be used.
        """
        self._limits = policy.document.limits
        shared = _shared_for(policy)
        self._counters = shared.counters
        self._rates = shared.rates
        self._principal_rate = parse_rate(self._limits.rate.per_principal, field="limits.rate.per_principal")
        per_tool = self._limits.rate.per_tool
        default_rate = None if per_tool is None else parse_rate(per_tool, field="limits.rate.per_tool")
        self._plans = {name: self._plan(policy, info, default_rate) for name, info in catalog.tools.items()}

    def _plan(self, policy: Policy, info: ToolInfo, default_rate: RateLimitItem | None) -> _ToolPlan:
        own = _tool_limits(policy, info)
        rate, field = default_rate, "limits.rate.per_tool"
        if own.rate is not None:
            rate, field = parse_rate(own.rate, field=f"tools.{info.qualified_name}.limits.rate"), "limits.rate"
        return _ToolPlan(rate, field)

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method != "tools/call" or call.info is None or call.tool is None:
            # Only tool calls count: listings and reads a client makes on its own would make limits unpredictable.
            return await call_next(call)
        tool, plan = call.tool, self._plans[call.info.name]
        await self._rate(call, self._principal_rate, ("principal", call.principal), "limits.rate.per_principal")
        if plan.rate is not None:
            await self._rate(call, plan.rate, ("tool", call.server, tool, call.principal), plan.rate_field)
        now = _clock()
        await self._budgets(call, now)
        return await call_next(call)

    async def _rate(self, call: ToolCall, item: RateLimitItem, identifiers: tuple[str, ...], field: str) -> None:
        retry_after = await self._rates.hit(item, "mcpgov", *identifiers)
        if retry_after is None:
            return
        subject = f"for principal '{call.principal}'"
        if identifiers[0] == "tool":
            subject = f"to '{call.tool}' {subject}"
        seconds = max(1, round(retry_after))
        raise RateLimited(
            f"Rate limit reached: {describe_rate(item)} {subject} ({field}). Retry after {seconds} seconds.",
            limit=str(item),
            retry_after=retry_after,
            call=call,
        )

    async def _budgets(self, call: ToolCall, now: float) -> None:
        limits = self._limits
        count, left = await self._counters.count(_session_key(call), ttl=SESSION_TTL, now=now)
        if count > limits.calls_per_session:
            what = "tool calls per session"
            if call.session_id is None:
                what += f" (this client sends no session id, so its session is principal '{call.principal}')"
            raise _budget_error(call, "session", limits.calls_per_session, what, now + left)
        window = int(now // HOUR)
        hour_ends = (window + 1) * HOUR
        count, _ = await self._counters.count(("hour", call.principal, str(window)), ttl=hour_ends - now, now=now)
        if count > limits.calls_per_principal_per_hour:
            what = f"tool calls per hour for principal '{call.principal}'"
            raise _budget_error(call, "principal_hourly", limits.calls_per_principal_per_hour, what, hour_ends)


class LoopGuard:
    """Refuses the same call with the same arguments repeated too often in one session."""

    def __init__(self, policy: Policy) -> None:
        self._loop = policy.document.limits.loop
        self._counters = _shared_for(policy).counters

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method == "tools/call" and call.tool is not None:
            await self._check(call, _clock())
        return await call_next(call)

    async def _check(self, call: ToolCall, now: float) -> None:
        loop = self._loop
        key = ("loop", *_session_key(call), call.server, call.tool or "", arguments_digest(call.arguments))
        repeats = await self._counters.recent(key, window=loop.window, now=now)
        if repeats > loop.max_repeats:
            raise LoopDetected(
                f"Loop detected: '{call.tool}' was called {repeats} times with the same arguments within "
                f"{_duration(loop.window)} in this session; more than {loop.max_repeats} (limits.loop) is refused. "
                "Stop repeating this call: it will keep being refused. If you cannot make progress another way, "
                "stop and escalate to a human, saying what you were trying to do.",
                max_repeats=loop.max_repeats,
                window_seconds=loop.window,
                call=call,
            )


class DeadlineGuard:
    """Answers by the tool's time limit, with an isError result when the tool has not finished."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        default = policy.document.limits.timeout
        self._timeouts = {name: _tool_limits(policy, info).timeout or default for name, info in catalog.tools.items()}

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method != "tools/call" or call.info is None:
            return await call_next(call)
        seconds = self._timeouts[call.info.name]
        try:
            return await run_with_deadline(call_next, call, seconds)
        except DeadlinePassed:
            raise ToolTimedOut(_timeout_message(call.info, seconds), timeout_seconds=seconds, call=call) from None


class ResultSizeGuard:
    """Cuts a result over `max_result_bytes`, with a visible note; never silently."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        default = policy.document.limits.max_result_bytes
        self._caps = {
            name: _tool_limits(policy, info).max_result_bytes or default for name, info in catalog.tools.items()
        }

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        outcome = await call_next(call)
        if call.method != "tools/call" or call.info is None or call.tool is None:
            return outcome
        capped = cap_result(outcome.result, self._caps[call.info.name], tool=call.tool)
        return outcome if capped is None else replace(outcome, result=capped)


def _tool_limits(policy: Policy, info: ToolInfo) -> ToolLimits:
    rule = policy.rule_for(info)
    return rule.limits if rule is not None and rule.limits is not None else ToolLimits()


def _session_key(call: ToolCall) -> Key:
    # Always within the principal: one principal cannot spend another's budget by reusing its session key.
    return ("session", call.principal) if call.session_id is None else ("session", call.principal, call.session_id)


def _budget_error(call: ToolCall, budget: str, limit: int, what: str, resets_at: float) -> BudgetExhausted:
    when = datetime.fromtimestamp(resets_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    field = "limits.calls_per_session" if budget == "session" else "limits.calls_per_principal_per_hour"
    return BudgetExhausted(
        f"Call budget spent: {limit:,} {what} ({field}). It resets at {when} "
        f"(in {_duration(resets_at - _clock())}). Do not retry before then; tell a person what is left to do.",
        budget=budget,
        limit=limit,
        resets_at=when,
        call=call,
    )


def _timeout_message(info: ToolInfo, seconds: float) -> str:
    head = f"'{info.name}' did not finish within its {seconds:g}-second time limit (limits.timeout) and was stopped; "
    if info.read_only:
        return head + "there is no result. Try again later, or ask for less."
    return head + (
        "there is no result, and it may still have made its change. Check whether it did before calling it again."
    )


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds / 3600:.1f} hours"
