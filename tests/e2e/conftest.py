"""Fixtures for end-to-end tests: real server processes, stopped by their PID."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import RunningServer, start_http


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[RunningServer]:
    server = start_http(tmp_path, "knowledge_base")
    yield server
    server.stop()
