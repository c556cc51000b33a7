"""Checking a step's outcome against what the scenario expects; each check returns its failures.

A new kind of expectation (a rule the governance layer grows) is one entry in `OUTCOME_CHECKS`
and one name in `scenario_model.CallExpectation`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from client_harness.outcomes import ToolOutcome
from client_harness.scenario_model import AuditStep, CallExpectation, CallStep, ListStep
from governance.errors import LIMITED


def _got(outcome: ToolOutcome) -> str:
    text = " ".join(outcome.text.split())
    return f"got {outcome.kind}: {text[:240]}{'…' if len(text) > 240 else ''}"


def _allowed(outcome: ToolOutcome) -> str | None:
    return None if outcome.kind == "allowed" else f"expected the call to be allowed; {_got(outcome)}"


def _denied(outcome: ToolOutcome) -> str | None:
    if outcome.kind == "denied":
        return None
    return f"expected a denial (JSON-RPC refusal or the unknown-tool answer); {_got(outcome)}"


def _approval_pending(outcome: ToolOutcome) -> str | None:
    if outcome.kind == "approval_pending":
        return None
    return f"expected the call to wait for approval; {_got(outcome)}"


def _approval_denied(outcome: ToolOutcome) -> str | None:
    if outcome.kind == "approval_denied":
        return None
    return f"expected the reviewer's denial; {_got(outcome)}"


def _stale(outcome: ToolOutcome) -> str | None:
    return None if outcome.stale else f"expected stale data to be flagged or refused; {_got(outcome)}"


def _redacted(outcome: ToolOutcome) -> str | None:
    return None if outcome.redacted else f"expected [REDACTED] in the result; {_got(outcome)}"


def _loop(outcome: ToolOutcome) -> str | None:
    return None if outcome.kind == "loop" else f"expected the call to be refused as a loop; {_got(outcome)}"


def _limited(outcome: ToolOutcome) -> str | None:
    if outcome.kind == "limited":
        return None
    return f"expected a rate-limit or budget refusal (JSON-RPC {LIMITED}); {_got(outcome)}"


def _error(outcome: ToolOutcome) -> str | None:
    return None if outcome.is_error else f"expected an error; {_got(outcome)}"


OUTCOME_CHECKS: dict[CallExpectation, Callable[[ToolOutcome], str | None]] = {
    "allowed": _allowed,
    "denied": _denied,
    "approval_pending": _approval_pending,
    "approval_denied": _approval_denied,
    "stale": _stale,
    "loop": _loop,
    "limited": _limited,
    "redacted": _redacted,
    "error": _error,
}


def check_call(step: CallStep, outcome: ToolOutcome) -> list[str]:
    """Every way `outcome` falls short of `step`'s expectations (empty: it passed)."""
    failures = [f for f in [OUTCOME_CHECKS[step.expectation](outcome)] if f]
    if step.error_contains is not None:
        if not outcome.is_error:
            failures.append(f"expected an error containing {step.error_contains!r}; the call was allowed")
        elif step.error_contains.lower() not in outcome.text.lower():
            failures.append(f"expected the error to contain {step.error_contains!r}; {_got(outcome)}")
    if step.text_contains is not None and step.text_contains.lower() not in outcome.text.lower():
        failures.append(f"expected the result text to contain {step.text_contains!r}; {_got(outcome)}")
    if step.lacks is not None and step.lacks.lower() in _everything(outcome).lower():
        failures.append(f"expected {step.lacks!r} nowhere in what came back; {_got(outcome)}")
    if step.result is not None and not outcome.is_error:
        mismatch = subset_mismatch(step.result, outcome.structured, "result")
        if mismatch:
            failures.append(mismatch)
    if step.meta is not None:
        mismatch = meta_mismatch(step.meta, outcome.meta or {})
        if mismatch:
            failures.append(mismatch)
    if step.save_as is not None and step.expectation == "approval_pending" and outcome.approval is not None:
        if outcome.approval.approval_id is None:  # a server without the approval workflow
            failures.append(
                f"cannot save the approval as {step.save_as!r}: the result has no approval_id "
                f"(structured content: {dict(outcome.structured or {})})"
            )
    return failures


def check_records(step: AuditStep, records: Sequence[Mapping[str, Any]], exported: str) -> list[str]:
    """Every way the audit log (its records, and their export as text) falls short of `step`."""
    failures = []
    if step.contains:
        mismatch = subset_mismatch(step.contains, list(records), "records")
        if mismatch:
            failures.append(f"{mismatch} (among {len(records)} records)")
    if step.lacks is not None and step.lacks.lower() in exported.lower():
        failures.append(f"expected {step.lacks!r} in no audit record; it is there")
    return failures


def check_listing(step: ListStep, names: Collection[str]) -> list[str]:
    """Every tool `step` wants visible that is missing, and every one it wants hidden that is listed."""
    failures = []
    missing = [n for n in step.visible if n not in names]
    shown = [n for n in step.hidden if n in names]
    if missing:
        failures.append(f"expected {missing} to be listed; listed: {sorted(names)}")
    if shown:
        failures.append(f"expected {shown} to be hidden, but they are listed")
    return failures


def meta_mismatch(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> str | None:
    """Where the result's `_meta` fails `expected`: each entry matches as in `subset_mismatch`; None must be absent."""
    for key, value in expected.items():
        if value is None:
            if actual.get(key) is not None:
                return f"meta.{key}: expected no such entry, got {_short(actual[key])}"
        elif key not in actual:
            return f"meta.{key}: missing (keys: {sorted(actual)})"
        else:
            mismatch = subset_mismatch(value, actual[key], f"meta.{key}")
            if mismatch:
                return mismatch
    return None


def subset_mismatch(expected: Any, actual: Any, path: str) -> str | None:
    """Where `actual` fails to contain `expected`, or None.

    Mappings match when every expected key matches; a list matches when each expected item matches
    a different actual item, in any order, and an empty list matches only an empty list; anything
    else must be equal.
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{path}: expected an object, got {_short(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing (keys: {sorted(actual)})"
            mismatch = subset_mismatch(value, actual[key], f"{path}.{key}")
            if mismatch:
                return mismatch
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {_short(actual)}"
        if not expected and actual:
            return f"{path}: expected no items, got {len(actual)}: {_short(actual)}"
        unused = list(actual)
        for index, item in enumerate(expected):
            found = next((i for i, a in enumerate(unused) if subset_mismatch(item, a, path) is None), None)
            if found is None:
                return f"{path}[{index}]: no item matches {_short(item)}"
            del unused[found]
        return None
    if expected != actual or (type(expected) is not type(actual) and not _numbers(expected, actual)):
        return f"{path}: expected {_short(expected)}, got {_short(actual)}"
    return None


def _everything(outcome: ToolOutcome) -> str:
    """What the caller got back, as one text: the text blocks, the structured content and `_meta`."""
    dump = [json.dumps(part or {}, ensure_ascii=False, default=str) for part in (outcome.structured, outcome.meta)]
    return "\n".join([outcome.text, *dump])


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
