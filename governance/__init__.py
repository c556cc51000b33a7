"""mcpgov's governance layer: one pipeline in front of every MCP server.

`govern(server, Governance(policy, audit))` puts an `MCPServer` behind the
pipeline in `governance.pipeline`; everything else here is the parts.
"""

from governance.audit import AuditStore
from governance.errors import ConfigurationError, GovernanceError, PolicyError
from governance.model import AuditRecord, Decision, Outcome, ToolCall, ToolInfo
from governance.policy import Policy
from governance.sdk_adapter import Governance, govern

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
