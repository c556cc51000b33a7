"""Recency: data older than the policy allows is blocked or flagged on the way back.

A result's age is now minus its provenance ``as_of`` (the time the data was true).
Two kinds of rule can limit it: the tool's (``tools: {server.tool: {recency: ...}}``)
and the source's (``recency: {sources: {name: ...}}``), matched on the provenance's
source. When both apply, both hold: the data is stale if it is older than either
limit, and it is blocked if any limit it broke says block. A tool rule cannot loosen
what an operator said about a source (a lagging feed is lagging whichever tool reads
it), which is the deny-overrides reading the rest of the policy has; a tool that
tolerates old data says so by having no stricter rule, not by overriding one.

- block: the call's answer is a `StaleData` error result naming the source, its
  ``as_of``, its age and the limit;
- warn: the result goes through with a warning text block first in its content and
  ``mcpgov/stale: true``, ``mcpgov/age_seconds`` and ``mcpgov/max_age_seconds`` in
  its ``_meta``;
- a tool whose rule says ``require_provenance`` and whose result has none counts as
  stale (age unknown), with the tool rule's ``on_stale``.

The call handed back (the outcome's, or the error's) carries ``as_of`` and ``stale``
for the audit record: True or False when a rule judged the data, None when none
applied. Error results from the tool pass through untouched: they hold no data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from governance.errors import StaleData
from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall
from governance.policy import Policy
from governance.provenance import Provenance, read_provenance

STALE_META_KEY = "mcpgov/stale"
AGE_META_KEY = "mcpgov/age_seconds"
MAX_AGE_META_KEY = "mcpgov/max_age_seconds"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Limit:
    max_age: float
    on_stale: str
    origin: str  # which rule, for the message


@dataclass(frozen=True, slots=True)
class _Verdict:
    stale: bool | None
    action: str = "pass"  # pass | warn | block
    age: float | None = None
    limit: _Limit | None = None


class RecencyGuard:
    """Checks each result's provenance ``as_of`` against the policy's maximum age."""

    def __init__(self, policy: Policy, *, clock: Callable[[], datetime] = _utc_now) -> None:
        """Judge results by the policy's tool and source rules.

        Args:
            policy: The deployment's policy (tool rules and per-source rules).
            clock: Now, as an aware datetime; tests pass a fixed one instead of sleeping.
        """
        self._policy = policy
        self._sources = policy.document.recency.sources
        self._clock = clock

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method != "tools/call" or call.info is None:
            return await call_next(call)
        rule = self._policy.rule_for(call.info)
        tool_rule = None if rule is None else rule.recency
        if tool_rule is None and not self._sources:
            return await call_next(call)
        outcome = await call_next(call)
        if outcome.is_tool_error:
            return outcome
        provenance = read_provenance(dict(outcome.result))
        limits = []
        if tool_rule is not None and tool_rule.max_age is not None:
            limits.append(_Limit(tool_rule.max_age, tool_rule.on_stale, f"the rule for {call.qualified_tool}"))
        source_rule = None if provenance is None else self._sources.get(provenance.source)
        if provenance is not None and source_rule is not None and source_rule.max_age is not None:
            limits.append(_Limit(source_rule.max_age, source_rule.on_stale, f"the rule for '{provenance.source}'"))
        if provenance is None:
            if tool_rule is None or not tool_rule.require_provenance:
                return outcome
            verdict = _Verdict(stale=True, action=tool_rule.on_stale)
        else:
            verdict = self._judge(provenance, limits)
            if verdict.stale is None and tool_rule is not None and tool_rule.require_provenance:
                verdict = _Verdict(stale=False)  # the one thing the rule asks for is there
        final = replace(
            outcome.call,
            as_of=None if provenance is None else provenance.as_of.isoformat(),
            stale=verdict.stale,
        )
        if verdict.action == "block":
            raise _stale_error(final, provenance, verdict)
        if verdict.action == "warn":
            return Outcome(call=final, result=_with_warning(outcome.result, final, provenance, verdict))
        return replace(outcome, call=final)

    def _judge(self, provenance: Provenance, limits: list[_Limit]) -> _Verdict:
        if not limits:
            return _Verdict(stale=None)
        age = max(0.0, (self._clock() - provenance.as_of).total_seconds())  # a clock behind the source: fresh
        broken = [limit for limit in limits if age > limit.max_age]
        if not broken:
            return _Verdict(stale=False, age=age)
        action = "block" if any(limit.on_stale == "block" for limit in broken) else "warn"
        # Report the tightest limit among those that decided the action.
        limit = min((b for b in broken if b.on_stale == action), key=lambda b: b.max_age)
        return _Verdict(stale=True, action=action, age=age, limit=limit)


def _describe(call: ToolCall, provenance: Provenance | None, verdict: _Verdict) -> str:
    if provenance is None or verdict.age is None or verdict.limit is None:
        return (
            f"{call.qualified_tool} returned no provenance (the source of its data and when it was true), "
            "and the policy requires it for this tool, so its data counts as stale"
        )
    return (
        f"{call.qualified_tool} returned data from source '{provenance.source}' as of "
        f"{provenance.as_of.isoformat()}, which is {human_duration(verdict.age)} old; {verdict.limit.origin} "
        f"allows at most {human_duration(verdict.limit.max_age)}"
    )


def _stale_error(call: ToolCall, provenance: Provenance | None, verdict: _Verdict) -> StaleData:
    return StaleData(
        f"Stale data: {_describe(call, provenance, verdict)}. The result was withheld. Do not present this data "
        "as current: tell the user it is out of date, or get it from a fresher source.",
        source=None if provenance is None else provenance.source,
        as_of=None if provenance is None else provenance.as_of.isoformat(),
        age_seconds=None if verdict.age is None else round(verdict.age),
        max_age_seconds=None if verdict.limit is None else verdict.limit.max_age,
        call=call,
    )


def _with_warning(
    result: Mapping[str, Any], call: ToolCall, provenance: Provenance | None, verdict: _Verdict
) -> dict[str, Any]:
    warning = {
        "type": "text",
        "text": f"Warning, stale data: {_describe(call, provenance, verdict)}. Treat it as possibly out of date "
        "and say so if you use it.",
    }
    meta = dict(result.get("_meta") or {})
    meta[STALE_META_KEY] = True
    meta[AGE_META_KEY] = None if verdict.age is None else round(verdict.age)
    meta[MAX_AGE_META_KEY] = None if verdict.limit is None else verdict.limit.max_age
    return {**result, "content": [warning, *(result.get("content") or [])], "_meta": meta}


def human_duration(seconds: float) -> str:
    """A duration as people say it: ``23 days``, ``1 h 50 min``, ``7 min``, ``45 s``."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{days} days" if hours == 0 or days >= 7 else f"{days} days {hours} h"
    if days or hours:
        total_hours = days * 24 + hours
        return f"{total_hours} h {minutes} min" if minutes else f"{total_hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    return f"{secs} s"
