"""Settings of the tickets server (environment variables ``MCPGOV_TICKETS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TicketsSettings"]


class TicketsSettings(BaseSettings):
    """How the tickets server behaves; every default is safe for a demo.

    Attributes:
        seed_demo_data: Load the demo team and about 150 tickets into an empty database on start.
        comment_author: The author written on comments and status notes made through the tools.
            The agent does not choose it, so a note can never pose as a named person's.
    """

    model_config = SettingsConfigDict(env_prefix="MCPGOV_TICKETS_", extra="forbid")

    seed_demo_data: bool = True
    comment_author: str = Field(default="AI assistant (via MCP)", min_length=1, max_length=120)
