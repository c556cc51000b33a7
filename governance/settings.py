"""Deployment settings shared by the CLI, the servers and the gateway.

Read from ``MCPGOV_*`` environment variables; command-line options override them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STATE_DIR = Path(".mcpgov")


class GovernanceSettings(BaseSettings):
    """Where state lives and who the local principal is."""

    model_config = SettingsConfigDict(env_prefix="MCPGOV_", extra="ignore")

    state_dir: Path = DEFAULT_STATE_DIR
    db_url: str | None = None
    policy: Path | None = None
    principal: str = "local"

    def resolved_db_url(self) -> str:
        """The audit/approval database: ``db_url`` if set, else SQLite in the state directory."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.state_dir / 'mcpgov.db').resolve()}"
