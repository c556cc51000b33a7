"""What every server factory is given: where its data lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings common to every server in the suite.

    Attributes:
        data_dir: A directory the server may keep its own files in (created on demand).
        db_url: SQLAlchemy URL for servers that keep a store (tickets); None means
            SQLite inside ``data_dir``.
    """

    data_dir: Path
    db_url: str | None = None
