"""Build the suite's servers behind governance, from settings.

This is where a deployment comes together: the policy is loaded, the audit
store opened, and each named server built and governed. The CLI and the tests
call this; nothing here knows about transports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcp.server.mcpserver import MCPServer

from governance import Governance, Policy, govern
from governance.audit import AuditStore
from governance.model import Transport
from governance.policy import default_policy_path
from governance.settings import GovernanceSettings
from servers._config import ServerConfig
from servers.registry import build_server, server_names


@dataclass
class Suite:
    """Governed servers sharing one policy and one audit store."""

    servers: list[MCPServer]
    governance: Governance

    def close(self) -> None:
        self.governance.audit.close()


def open_suite(names: Sequence[str], settings: GovernanceSettings, *, transport: Transport) -> Suite:
    """Load the policy, open the audit store and build each named server (all when `names` is empty).

    Raises:
        PolicyError: the policy file is invalid.
        UnknownServerError: a name is not a server of the suite.
        ConfigurationError: the policy does not fit a server's tools.
    """
    policy = Policy.load(settings.policy or default_policy_path())
    chosen = list(names) or server_names()
    config = ServerConfig(data_dir=Path(settings.state_dir) / "data", db_url=settings.db_url)
    built = [build_server(name, config) for name in chosen]  # unknown names fail before anything opens
    audit = AuditStore.open(settings.resolved_db_url())
    governance = Governance(policy=policy, audit=audit, principal=settings.principal, transport=transport)
    try:
        servers = [govern(server, governance) for server in built]
    except Exception:
        audit.close()
        raise
    return Suite(servers, governance)
