"""The policy document: one YAML file per deployment, validated by pydantic.

Its SHA-256 (over the YAML and every Cedar file it includes) is the policy
version that every audit record carries.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from governance.errors import PolicyError, PolicyProblem

# A tool pattern is `server.tool`, `server.*` or `*`; `*` matches within a name,
# the way Cedar's `like` does, which is what the patterns compile to.
_PATTERN = re.compile(r"^(\*|[A-Za-z0-9_\-*]+\.[A-Za-z0-9_\-*]+)$")
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    """Which tools the role's principals may see and call."""

    allow: list[str] = Field(default_factory=list, description="tool patterns: server.tool, server.*, *")
    deny: list[str] = Field(default_factory=list, description="tool patterns; deny overrides allow")

    @field_validator("allow", "deny")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not _PATTERN.match(pattern):
                raise ValueError(f"{pattern!r} is not a tool pattern; write 'server.tool', 'server.*' or '*'")
        return patterns


class Principal(_Strict):
    """A caller known to the deployment and the roles it holds."""

    roles: list[str] = Field(default_factory=list)


class ParamConstraint(_Strict):
    """Constraints on one argument's value, on top of the tool's own schema."""

    enum: list[Any] | None = Field(default=None, min_length=1)
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    # Checks on what a value points at (see governance/guards/_value_checks.py).
    email_domains: list[str] | None = Field(default=None, min_length=1)
    url_hosts: list[str] | None = Field(default=None, min_length=1)
    sql_tables: list[str] | None = Field(default=None, min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from None
        return pattern

    @field_validator("email_domains", "url_hosts")
    @classmethod
    def _host_patterns(cls, patterns: list[str] | None) -> list[str] | None:
        for pattern in patterns or []:
            if not _HOST.match(pattern):
                raise ValueError(f"{pattern!r} is not a host pattern; write 'example.com' or '*.example.com'")
        return patterns

    @model_validator(mode="after")
    def _ranges(self) -> ParamConstraint:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum is greater than maximum")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        return self

    def json_schema(self) -> dict[str, Any]:
        """The constraint as a JSON-schema fragment, merged into the tool's own schema."""
        schema: dict[str, Any] = {}
        if self.enum is not None:
            schema["enum"] = self.enum
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        return schema


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _seconds(value: Any) -> Any:
    """Accept `90`, `"90s"`, `"30m"`, `"24h"`, `"7d"` wherever a duration in seconds is asked for."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 30m, 24h or 7d")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(ge=0)]


class ApprovalCondition(_Strict):
    """A condition on one argument; an approval rule with conditions applies when any holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    arg: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    outside_domains: list[str] | None = Field(
        default=None, min_length=1, description="holds when any email address in the argument is elsewhere"
    )

    @model_validator(mode="after")
    def _one_test(self) -> ApprovalCondition:
        tests = [self.equals is not None, self.in_ is not None, self.outside_domains is not None]
        if sum(tests) != 1:
            raise ValueError("a condition names exactly one test: equals, in, or outside_domains")
        return self


class ApprovalDefaults(_Strict):
    """Who decides and for how long a request lives, unless a tool's rule says otherwise."""

    approvers: list[str] = Field(default_factory=list, description="roles whose principals may decide")
    ttl: Seconds = 86400.0
    allow_self_approval: bool = False


class ApprovalRule(_Strict):
    """A tool's approval gate: when it applies, who decides, how the caller waits."""

    when: list[ApprovalCondition] = Field(default_factory=list, description="any holds; empty: always")
    approvers: list[str] | None = None
    ttl: Seconds | None = None
    allow_self_approval: bool | None = None
    wait_seconds: Seconds = 0.0
    confirm: Literal["reviewer", "host"] = Field(
        default="reviewer", description="host: a host that can ask its user may confirm in-band instead"
    )


class RecencyRule(_Strict):
    """How old a result's data may be (its provenance `as_of`), and what happens when it is older."""

    max_age: Seconds | None = Field(default=None, description="unset: no limit")
    on_stale: Literal["block", "warn"] = "block"
    require_provenance: bool = Field(default=False, description="a result without provenance counts as stale")


def _rate(text: str) -> str:
    # Checked here so `mcpgov policy check` catches a bad rate, not the first server start. Imported
    # here: `limits` takes tens of milliseconds to import, and most CLI commands never need it.
    import limits

    try:
        limits.parse(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a rate; write '120/minute', '10/second' or '1000 per hour'") from None
    return text


Rate = Annotated[str, AfterValidator(_rate)]


class ToolLimits(_Strict):
    """Per-tool limits on top of the deployment's."""

    timeout: Seconds | None = None
    max_result_bytes: int | None = Field(default=None, ge=1)
    rate: Rate | None = Field(default=None, description="a `limits` rate, e.g. '30/minute'")


class LoopDetection(_Strict):
    """The same tool with the same arguments more than `max_repeats` times within `window`, from one session."""

    max_repeats: int = Field(default=5, ge=1)
    window: Seconds = 600.0


class RateLimits(_Strict):
    """Rates in the `limits` library's notation ('120/minute'); shared through Redis when `storage` says so."""

    per_principal: Rate = "120/minute"
    per_tool: Rate | None = None
    storage: str = Field(default="memory://", description="memory:// or redis://host:port/db")

    @field_validator("storage")
    @classmethod
    def _storage_scheme(cls, storage: str) -> str:
        if not storage.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError(f"{storage!r} is not a limits storage; write 'memory://' or 'redis://host:port/db'")
        return storage


class Limits(_Strict):
    """Hard caps that are on by default: leaving this section out does not turn them off."""

    calls_per_session: int = Field(default=500, ge=1)
    calls_per_principal_per_hour: int = Field(default=2000, ge=1)
    loop: LoopDetection = Field(default_factory=LoopDetection)
    rate: RateLimits = Field(default_factory=RateLimits)
    timeout: Seconds = 60.0
    max_result_bytes: int = Field(default=1_000_000, ge=1)


class Recency(_Strict):
    """Recency limits per provenance source, for every tool whose results name that source."""

    sources: dict[str, RecencyRule] = Field(default_factory=dict)


class ToolRule(_Strict):
    """Per-tool rules: approval, constraints on argument values, recency, limits, trust."""

    approval: Literal["required", "never"] | ApprovalRule | None = Field(
        default=None,
        description="required: a reviewer decides; never: runs without one; or a rule with conditions. "
        "Unset: required unless the tool is read-only.",
    )
    params: dict[str, ParamConstraint] = Field(default_factory=dict)
    recency: RecencyRule | None = None
    limits: ToolLimits | None = None
    untrusted: bool | None = Field(
        default=None, description="label results untrusted; unset: open-world tools are untrusted"
    )
    sink: bool = Field(
        default=False, description="sends data out: needs approval once the session has seen untrusted content"
    )


class PolicyDocument(_Strict):
    """The whole policy file."""

    version: Literal[1] = 1
    principals: dict[str, Principal] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    tools: dict[str, ToolRule] = Field(default_factory=dict)
    approvals: ApprovalDefaults = Field(default_factory=ApprovalDefaults)
    limits: Limits = Field(default_factory=Limits)
    recency: Recency = Field(default_factory=Recency)
    cedar: list[str] = Field(default_factory=list, description="extra Cedar policy files, relative to this one")

    @field_validator("principals", "roles")
    @classmethod
    def _names(cls, entries: dict[str, Any]) -> dict[str, Any]:
        for name in entries:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not a valid name; use letters, digits, '_' and '-'")
        return entries

    @field_validator("tools")
    @classmethod
    def _tool_names(cls, tools: dict[str, ToolRule]) -> dict[str, ToolRule]:
        for name in tools:
            server, _, tool = name.partition(".")
            if name != "*" and (not server or not tool or "*" in server or ("*" in tool and tool != "*")):
                raise ValueError(f"{name!r} is not a tool rule key; write 'server.tool', 'server.*' or '*'")
        return tools

    @model_validator(mode="after")
    def _approver_roles_exist(self) -> PolicyDocument:
        named = list(self.approvals.approvers)
        for rule in self.tools.values():
            if isinstance(rule.approval, ApprovalRule):
                named += rule.approval.approvers or []
        for role in named:
            if role not in self.roles:
                raise ValueError(f"approver role {role!r} is not defined under 'roles'")
        return self

    @model_validator(mode="after")
    def _roles_exist(self) -> PolicyDocument:
        for name, principal in self.principals.items():
            for role in principal.roles:
                if role not in self.roles:
                    raise ValueError(f"principal {name!r} has role {role!r}, which is not defined under 'roles'")
        return self


def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Map each YAML path (mapping keys and list indexes as text) to its 1-based line."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, str(index)))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def _locate(lines: dict[tuple[str, ...], int], loc: tuple[str, ...]) -> int | None:
    """The line of the deepest existing ancestor of `loc` (a missing field points at its parent)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def parse_policy(text: str, *, file: str) -> PolicyDocument:
    """Validate policy YAML text.

    Raises:
        PolicyError: every problem found, each with the file, line and field.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError([PolicyProblem(file, line, "<yaml>", f"not valid YAML: {exc}")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PolicyError([PolicyProblem(file, 1, "<root>", "a policy is a YAML mapping (key: value)")])
    try:
        return PolicyDocument.model_validate(raw)
    except ValidationError as exc:
        lines = _line_index(text)
        merged: dict[tuple[int | None, str], list[str]] = {}
        for error in exc.errors(include_url=False):
            loc = _without_union_tags(tuple(str(part) for part in error["loc"]), lines)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field; check its spelling against the policy format in the README"
            messages = merged.setdefault((_locate(lines, loc), ".".join(loc) or "<root>"), [])
            if message not in messages:
                messages.append(message)
        # A value that fits none of a union's shapes gets one problem listing what each shape wanted.
        problems = [PolicyProblem(file, line, name, "; or ".join(msgs)) for (line, name), msgs in merged.items()]
        raise PolicyError(problems) from None


_UNION_TAG = re.compile(r"^[A-Z]\w*$|[\[']")


def _without_union_tags(loc: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    """Drop pydantic's union member tags (`ApprovalRule`, `literal[...]`) that are not keys in the YAML."""
    kept: list[str] = []
    for part in loc:
        if _UNION_TAG.search(part) and (*kept, part) not in lines:
            continue
        kept.append(part)
    return tuple(kept)


def policy_digest(parts: list[bytes]) -> str:
    """The policy version: SHA-256 over the policy file and each included Cedar file, in order."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def read_policy_file(path: Path) -> tuple[PolicyDocument, list[tuple[Path, str]], str]:
    """Read and validate a policy file and the Cedar files it includes.

    Returns:
        The document, each included Cedar file with its text, and the policy version.

    Raises:
        PolicyError: the file or an included Cedar file is missing or invalid.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError([PolicyProblem(str(path), None, "<file>", f"cannot read: {exc.strerror}")]) from None
    document = parse_policy(data.decode("utf-8", errors="replace"), file=str(path))
    included: list[tuple[Path, str]] = []
    parts = [data]
    for index, name in enumerate(document.cedar):
        cedar_path = (path.parent / name).resolve()
        try:
            cedar_bytes = cedar_path.read_bytes()
        except OSError as exc:
            line = _locate(_line_index(data.decode()), ("cedar", str(index)))
            raise PolicyError(
                [PolicyProblem(str(path), line, f"cedar.{index}", f"cannot read {cedar_path}: {exc.strerror}")]
            ) from None
        included.append((cedar_path, cedar_bytes.decode()))
        parts.append(cedar_bytes)
    return document, included, policy_digest(parts)
