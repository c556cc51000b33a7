"""mcpgov's governance layer: one pipeline in front of every MCP server.

`govern(server, Governance(policy, audit))` puts an `MCPServer` behind the
pipeline in `governance.pipeline`; everything else here is the parts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.audit import AuditStore
    from governance.errors import ConfigurationError, GovernanceError, PolicyError
    from governance.model import AuditRecord, Decision, Outcome, ToolCall, ToolInfo
    from governance.policy import Policy
    from governance.sdk_adapter import Governance, govern

# Imported on first use: `mcpgov approvals ...` or a policy check must not pay for the
# MCP SDK, and a stdio server starts faster when only what it needs is loaded.
_EXPORTS = {
    "AuditRecord": "governance.model",
    "AuditStore": "governance.audit",
    "ConfigurationError": "governance.errors",
    "Decision": "governance.model",
    "Governance": "governance.sdk_adapter",
    "GovernanceError": "governance.errors",
    "Outcome": "governance.model",
    "Policy": "governance.policy",
    "PolicyError": "governance.errors",
    "ToolCall": "governance.model",
    "ToolInfo": "governance.model",
    "govern": "governance.sdk_adapter",
}

__all__ = [
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
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
