"""Shared fixtures: every async test runs on asyncio (the SDK's HTTP stack and uvicorn's)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
