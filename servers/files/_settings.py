"""Settings of the files server (environment prefix ``MCPGOV_FILES_``)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ROOT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class FilesSettings(BaseSettings):
    """Which directories the server may touch, and how much it may read and write.

    ``MCPGOV_FILES_ROOTS='{"docs": "/srv/docs"}'`` sets the roots as JSON.
    """

    model_config = SettingsConfigDict(env_prefix="MCPGOV_FILES_", frozen=True, extra="forbid")

    roots: dict[str, Path] = Field(
        default_factory=dict,
        description="Root name -> directory. Empty: one root 'files' in the server's data directory, "
        "seeded with demo documents on first use.",
    )
    read_only_roots: list[str] = Field(default_factory=list, description="Roots write_file may not change.")
    max_read_bytes: int = Field(default=1_000_000, ge=1, le=100_000_000)
    max_write_bytes: int = Field(default=256_000, ge=1, le=100_000_000)
    max_list_entries: int = Field(default=500, ge=1, le=100_000)
    max_search_entries: int = Field(
        default=5_000, ge=1, description="Files and directories a search looks at before it stops."
    )
    max_search_bytes: int = Field(default=20_000_000, ge=1, description="Bytes a search reads before it stops.")
    max_search_depth: int = Field(default=16, ge=1, le=64)

    @field_validator("roots")
    @classmethod
    def _root_names(cls, roots: dict[str, Path]) -> dict[str, Path]:
        for name, path in roots.items():
            if not _ROOT_NAME.match(name):
                raise ValueError(f"root name {name!r} must be lower-case letters, digits, '-' or '_'")
            if not path.is_absolute():
                raise ValueError(f"root {name!r} must be an absolute path, not {str(path)!r}")
        return roots
