"""Each package's public names are pinned: anything else is private and free to change."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "governance": [
        "AuditRecord",
        "AuditStore",
        "ConfigurationError",
        "Decision",
        "Governance",
        "GovernanceError",
        "Outcome",
        "Policy",
        "PolicyError",
        "ToolCall",
        "ToolInfo",
        "govern",
    ],
    "governance.policy": [
        "SCHEMA",
        "ApprovalGate",
        "ParamConstraint",
        "Policy",
        "PolicyDocument",
        "ToolRule",
        "compile_roles",
        "default_policy_path",
    ],
    "governance.approvals": [
        "Approval",
        "ApprovalStateError",
        "ApprovalStore",
        "Binding",
        "ReviewRefused",
        "approval_event",
        "review",
    ],
    "servers.knowledge_base": ["build_server"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_of_each_package_are_exactly_the_pinned_ones(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(PUBLIC[module])
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.__all__ names {name}, which does not exist"
