"""The deployment's policy: who may call what, under which constraints.

`Policy.load(path)` validates the YAML document, compiles its roles to Cedar,
schema-checks every Cedar policy and computes the policy version; nothing is
served from a policy that fails any of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from governance.model import Decision, ToolInfo
from governance.policy._cedar import SCHEMA, Authorizer, compile_roles
from governance.policy._document import (
    ParamConstraint,
    PolicyDocument,
    ToolRule,
    parse_policy,
    policy_digest,
    read_policy_file,
)

__all__ = [
    "SCHEMA",
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
        return self.document.tools.get(tool.qualified_name)

    def needs_approval(self, tool: ToolInfo) -> bool:
        """Safe default: a tool that is not read-only needs approval unless the policy says never."""
        rule = self.rule_for(tool)
        if rule is not None and rule.approval is not None:
            return rule.approval == "required"
        return not tool.read_only

    def param_constraints(self, tool: ToolInfo) -> dict[str, dict[str, Any]]:
        """The policy's value constraints for the tool, as JSON-schema fragments per argument."""
        rule = self.rule_for(tool)
        if rule is None:
            return {}
        return {name: constraint.json_schema() for name, constraint in rule.params.items()}
