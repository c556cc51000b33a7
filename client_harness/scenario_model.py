"""The scenario file format: a YAML list of steps, each an action and what should come of it.

A file is either a list of steps, or a mapping with ``name``, ``description``, ``requirements``
(the rule ids of ``tests/requirements.yaml`` it exercises), ``as`` (the default principal) and
``steps``. Each step has exactly one action key:

- ``call: server.tool`` with ``args``, ``as``, ``expect`` (``allowed`` | ``denied`` |
  ``approval_pending`` | ``approval_denied`` | ``stale`` | ``loop`` | ``limited`` | ``redacted`` | ``error``),
  ``result`` (fields the structured content must contain), ``meta`` (entries the result's ``_meta``
  must contain, e.g. ``{mcpgov/untrusted: true}``; ``null`` for one that must be absent),
  ``error_contains``, ``text_contains``, ``lacks`` (text that must appear nowhere in what came back:
  its text, structured content or ``_meta``), ``repeat`` (make the same call N times in a row, each
  meeting the expectations, as an agent stuck on one call does) and ``save_as`` (keep the outcome,
  the last one when repeated, under a name: its approval id for a reviewer step, its structured
  content for later arguments, which refer to it as ``${name.path}``, e.g. ``${found.tickets.0.id}``);
- ``list: server`` with ``as``, ``visible`` and ``hidden`` (tool names that must be or must not be listed);
- ``approve: NAME`` or ``deny: NAME`` with ``as`` (the reviewer), ``comment`` and ``expect``
  (``done`` | ``refused``, with ``error_contains``): a reviewer's decision on the approval saved as NAME;
- ``audit: verify`` with ``server`` (whose state to check; default the last one called) and
  ``expect`` (``intact`` | ``broken``);
- ``audit: records`` with ``server``, ``contains`` (a list of fields records must hold, each matched
  by a different record, e.g. ``[{tool: get_price, stale: true}]``) and ``lacks`` (text no record
  may hold, e.g. a secret that was in an argument).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CallExpectation = Literal[
    "allowed", "denied", "approval_pending", "approval_denied", "stale", "loop", "limited", "redacted", "error"
]


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file, the step and the field."""


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str | None = None
    principal: str | None = Field(default=None, alias="as")


class CallStep(_Step):
    """Call a tool and check the outcome."""

    call: str | dict[str, str]
    args: dict[str, Any] = Field(default_factory=dict)
    expect: CallExpectation | None = None
    result: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    error_contains: str | None = None
    text_contains: str | None = None
    lacks: str | None = Field(default=None, min_length=1)
    repeat: int = Field(default=1, ge=1, le=1000)
    save_as: str | None = None

    @property
    def expectation(self) -> CallExpectation:
        """What is expected: as written, else `error` when an error text is given, else `allowed`."""
        if self.expect is not None:
            return self.expect
        return "error" if self.error_contains is not None else "allowed"

    @model_validator(mode="after")
    def _result_needs_allowed(self) -> CallStep:
        if self.result is not None and self.expectation not in ("allowed", "redacted", "stale"):
            raise ValueError(f"`result` checks an allowed call's content; it cannot go with expect: {self.expect}")
        return self


class ListStep(_Step):
    """List a server's tools and check which are visible."""

    server: str = Field(alias="list")
    visible: list[str] = Field(default_factory=list)
    hidden: list[str] = Field(default_factory=list)


class ReviewStep(_Step):
    """A reviewer approves or denies an approval saved by an earlier step."""

    approve: str | None = None
    deny: str | None = None
    comment: str | None = None
    expect: Literal["done", "refused"] = "done"
    error_contains: str | None = None

    @model_validator(mode="after")
    def _one_decision_and_a_reviewer(self) -> ReviewStep:
        if (self.approve is None) == (self.deny is None):
            raise ValueError("give exactly one of `approve: NAME` or `deny: NAME`")
        if self.principal is None:
            raise ValueError("a reviewer step needs `as: REVIEWER`")
        return self

    @property
    def decision(self) -> Literal["approve", "deny"]:
        return "approve" if self.approve is not None else "deny"

    @property
    def ref(self) -> str:
        return self.approve if self.approve is not None else str(self.deny)


class AuditStep(_Step):
    """Check the audit log of a server's state: its chain (`mcpgov audit verify`) or its records (`export`)."""

    audit: Literal["verify", "records"]
    server: str | None = None
    expect: Literal["intact", "broken"] = "intact"
    contains: list[dict[str, Any]] = Field(default_factory=list)
    lacks: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _checks_fit_the_action(self) -> AuditStep:
        if self.audit == "verify" and (self.contains or self.lacks is not None):
            raise ValueError("`contains` and `lacks` check records; use them with `audit: records`")
        if self.audit == "records":
            if "expect" in self.model_fields_set:
                raise ValueError("`expect: intact | broken` goes with `audit: verify`")
            if not self.contains and self.lacks is None:
                raise ValueError("`audit: records` needs `contains` (records that must be there), `lacks`, or both")
        return self


Step = CallStep | ListStep | ReviewStep | AuditStep
_ACTIONS: dict[str, type[_Step]] = {
    "call": CallStep,
    "list": ListStep,
    "approve": ReviewStep,
    "deny": ReviewStep,
    "audit": AuditStep,
}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    path: Path
    steps: tuple[Step, ...]
    description: str = ""
    requirements: tuple[str, ...] = ()
    principal: str | None = None


def load_scenario(path: Path) -> Scenario:
    """Read and check one scenario file.

    Raises:
        ScenarioError: the file is unreadable, not YAML, or a step is malformed.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    if isinstance(document, list):
        document = {"steps": document}
    unknown = (
        set(document) - {"name", "description", "requirements", "as", "steps"} if isinstance(document, Mapping) else ()
    )
    if unknown:
        raise ScenarioError(f"{path}: unknown keys {sorted(unknown)}; use name, description, requirements, as, steps")
    if not isinstance(document, Mapping) or not isinstance(document.get("steps"), list) or not document["steps"]:
        raise ScenarioError(f"{path}: expected a list of steps, or a mapping with a non-empty `steps` list")
    steps = tuple(_step(path, index, raw) for index, raw in enumerate(document["steps"]))
    return Scenario(
        name=str(document.get("name") or path.stem),
        path=path,
        steps=steps,
        description=str(document.get("description") or ""),
        requirements=tuple(str(r) for r in document.get("requirements") or ()),
        principal=document.get("as"),
    )


def _step(path: Path, index: int, raw: Any) -> Step:
    where = f"{path}: steps[{index}]"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: a step is a mapping with one of {sorted(_ACTIONS)}")
    if isinstance(raw.get("name"), str):
        where += f" ({raw['name']})"
    actions = [key for key in _ACTIONS if key in raw]
    if len(actions) != 1 and set(actions) != {"approve", "deny"}:
        found = f"found {actions}" if actions else "found none"
        raise ScenarioError(f"{where}: a step has exactly one action of {sorted(_ACTIONS)}; {found}")
    try:
        step = _ACTIONS[actions[0]].model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'step'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise ScenarioError(f"{where}: {problems}") from None
    assert isinstance(step, CallStep | ListStep | ReviewStep | AuditStep)
    return step
