"""The authorization part of the policy, compiled to Cedar and decided by cedarpy.

Roles become Cedar policies over one schema; a decision is "may this principal
call this tool?", and the same answer decides whether the tool is listed. Cedar
gives deny-overrides-allow and default deny; we add a cache, because the
policy and the tool set are fixed for the life of a process.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cedarpy

from governance.errors import PolicyError, PolicyProblem
from governance.model import Decision, ToolInfo
from governance.policy._document import PolicyDocument

SCHEMA = """
entity Role;
entity Principal in [Role];
entity Server;
entity Tool in [Server] = { "name": String, "read_only": Bool };
action "call" appliesTo { principal: [Principal], resource: [Tool] };
"""


def compile_roles(document: PolicyDocument) -> str:
    """The Cedar text for the document's roles, one annotated policy per pattern.

    Names and patterns were validated against a narrow alphabet, so embedding
    them in Cedar string literals needs no escaping.
    """
    policies: list[str] = []
    for role_name, role in document.roles.items():
        for effect, patterns in (("permit", role.allow), ("forbid", role.deny)):
            verb = "allow" if effect == "permit" else "deny"
            for pattern in patterns:
                policies.append(
                    f'@id("role:{role_name}:{verb}:{pattern}")\n'
                    f'{effect} (principal in Role::"{role_name}", action == Action::"call", resource is Tool)\n'
                    f'when {{ resource.name like "{pattern}" }};'
                )
    return "\n\n".join(policies)


def _validate(text: str, *, file: str) -> None:
    """Parse and schema-check Cedar policies; every problem names the file."""
    result = cedarpy.validate_policies(text, SCHEMA)
    if not result.validation_passed:
        raise PolicyError([PolicyProblem(file, None, f"cedar:{e.policy_id}", e.error) for e in result.errors])


class Authorizer:
    """Decides (principal, tool) with Cedar, once per pair."""

    def __init__(self, document: PolicyDocument, included: list[tuple[Path, str]], *, file: str) -> None:
        generated = compile_roles(document)
        _validate(generated, file=file)
        for path, text in included:
            _validate(text, file=str(path))
        self.cedar_text = "\n\n".join([generated, *(text for _, text in included)])
        try:
            self._policies = cedarpy.PolicySet.from_str(self.cedar_text)
        except ValueError as exc:  # two files using the same @id, for example
            raise PolicyError([PolicyProblem(file, None, "cedar", str(exc))]) from None
        self._schema = cedarpy.Schema.from_str(SCHEMA)
        self._roles = {name: tuple(p.roles) for name, p in document.principals.items()}
        self._cache: dict[tuple[str, str, bool], Decision] = {}
        self._lock = threading.Lock()

    def decide(self, principal: str, tool: ToolInfo) -> Decision:
        """Allow or deny, with the ids of the Cedar policies that decided it."""
        key = (principal, tool.qualified_name, tool.read_only)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        decision = self._evaluate(principal, tool)
        with self._lock:
            self._cache[key] = decision
        return decision

    def _evaluate(self, principal: str, tool: ToolInfo) -> Decision:
        roles = self._roles.get(principal, ())
        principal_uid = {"type": "Principal", "id": principal}
        server_uid = {"type": "Server", "id": tool.server}
        tool_uid = {"type": "Tool", "id": tool.qualified_name}
        entities: list[dict[str, Any]] = [
            {"uid": principal_uid, "attrs": {}, "parents": [{"type": "Role", "id": r} for r in roles]},
            *({"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []} for r in roles),
            {"uid": server_uid, "attrs": {}, "parents": []},
            {
                "uid": tool_uid,
                "attrs": {"name": tool.qualified_name, "read_only": tool.read_only},
                "parents": [server_uid],
            },
        ]
        request = {
            "principal": principal_uid,
            "action": {"type": "Action", "id": "call"},
            "resource": tool_uid,
            "context": {},
        }
        result = cedarpy.is_authorized(request, self._policies, entities, schema=self._schema)
        diagnostics = result.diagnostics
        annotated = diagnostics.id_annotations_by_reason
        policy_ids = tuple(sorted(annotated.get(reason, reason) for reason in diagnostics.reasons))
        if diagnostics.errors:
            # A policy that fails to evaluate must not grant anything: fail closed.
            return Decision("deny", policy_ids, "policy evaluation error: " + "; ".join(diagnostics.errors))
        if result.allowed:
            return Decision("allow", policy_ids, "permitted")
        return Decision("deny", policy_ids, "forbidden" if policy_ids else "no policy permits it")
