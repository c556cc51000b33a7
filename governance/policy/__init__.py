"""The deployment's policy: who may call what, under which constraints.

`Policy.load(path)` validates the YAML document, compiles its roles to Cedar,
schema-checks every Cedar policy and computes the policy version; nothing is
served from a policy that fails any of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from governance.hostnames import host_matches, string_values
from governance.model import Decision, ToolInfo
from governance.policy._cedar import SCHEMA, Authorizer, compile_roles
from governance.policy._document import (
    ApprovalCondition,
    ApprovalRule,
    ParamConstraint,
    PolicyDocument,
    ToolRule,
    parse_policy,
    policy_digest,
    read_policy_file,
)

__all__ = [
    "SCHEMA",
    "ApprovalGate",
    "ParamConstraint",
    "Policy",
    "PolicyDocument",
    "ToolRule",
    "compile_roles",
    "default_policy_path",
]


def default_policy_path() -> Path:
    """The policy used when none is given: `local` may use every tool, writes need approval."""
    return Path(str(resources.files("governance.policy").joinpath("default.yaml")))


@dataclass(frozen=True, slots=True)
class ApprovalGate:
    """What the policy asks of one gated call: who decides, how long a request lives, how to wait."""

    approvers: tuple[str, ...]
    ttl_seconds: float
    allow_self_approval: bool
    wait_seconds: float = 0.0
    confirm: str = "reviewer"


def _holds(condition: ApprovalCondition, arguments: Mapping[str, Any]) -> bool:
    if condition.arg not in arguments:
        return False
    value = arguments[condition.arg]
    if condition.in_ is not None:
        return value in condition.in_
    if condition.outside_domains is not None:
        domains = condition.outside_domains
        return any(not host_matches(a.rpartition("@")[2], domains) for a in string_values(value))
    return bool(value == condition.equals)


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy and its version."""

    document: PolicyDocument
    version: str
    authorizer: Authorizer
    source: str

    @classmethod
    def load(cls, path: Path) -> Policy:
        """Load a policy file.

        Raises:
            PolicyError: each problem with its file, line and field.
        """
        document, included, version = read_policy_file(path)
        return cls(document, version, Authorizer(document, included, file=str(path)), str(path))

    @classmethod
    def from_text(cls, text: str, *, source: str = "<policy>") -> Policy:
        """Load a policy from YAML text (tests, embedded policies); it may not include Cedar files.

        Raises:
            PolicyError: each problem with its line and field.
        """
        document = parse_policy(text, file=source)
        version = policy_digest([text.encode()])
        return cls(document, version, Authorizer(document, [], file=source), source)

    def decide(self, principal: str, tool: ToolInfo) -> Decision:
        """May `principal` see and call `tool`?"""
        return self.authorizer.decide(principal, tool)

    def rule_for(self, tool: ToolInfo) -> ToolRule | None:
        """The most specific rule for the tool: `server.tool`, else `server.*`, else `*`."""
        tools = self.document.tools
        return tools.get(tool.qualified_name) or tools.get(f"{tool.server}.*") or tools.get("*")

    def needs_approval(self, tool: ToolInfo) -> bool:
        """Whether the tool is gated at all (for some arguments)."""
        rule = self.rule_for(tool)
        if rule is not None and rule.approval is not None:
            return rule.approval != "never"
        return not tool.read_only

    def approval_gate(self, tool: ToolInfo, arguments: Mapping[str, Any]) -> ApprovalGate | None:
        """The gate this call must pass, or None when it may run without a decision.

        Safe default: a tool that is not read-only is gated unless the policy says never.
        """
        rule = self.rule_for(tool)
        approval = None if rule is None else rule.approval
        if approval == "never" or (approval is None and tool.read_only):
            return None
        defaults = self.document.approvals
        if not isinstance(approval, ApprovalRule):
            return self.default_gate()
        if approval.when and not any(_holds(c, arguments) for c in approval.when):
            return None
        return ApprovalGate(
            approvers=tuple(approval.approvers if approval.approvers is not None else defaults.approvers),
            ttl_seconds=approval.ttl if approval.ttl is not None else defaults.ttl,
            allow_self_approval=(
                approval.allow_self_approval
                if approval.allow_self_approval is not None
                else defaults.allow_self_approval
            ),
            wait_seconds=approval.wait_seconds,
            confirm=approval.confirm,
        )

    def default_gate(self) -> ApprovalGate:
        """The gate of the policy's approval defaults (no conditions, no waiting)."""
        defaults = self.document.approvals
        return ApprovalGate(tuple(defaults.approvers), defaults.ttl, defaults.allow_self_approval)

    def roles_of(self, principal: str) -> tuple[str, ...]:
        entry = self.document.principals.get(principal)
        return () if entry is None else tuple(entry.roles)

    def may_approve(self, reviewer: str, gate_approvers: tuple[str, ...]) -> bool:
        """A reviewer may decide when one of their roles is an approver role for the gate."""
        return bool(set(self.roles_of(reviewer)) & set(gate_approvers))

    def param_constraints(self, tool: ToolInfo) -> dict[str, dict[str, Any]]:
        """The policy's value constraints for the tool, as JSON-schema fragments per argument."""
        rule = self.rule_for(tool)
        if rule is None:
            return {}
        return {name: constraint.json_schema() for name, constraint in rule.params.items()}
