"""Fixtures for the harness tests: a scripted model provider on loopback, and the suite in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from harness_testing import ScriptedProvider, StartProvider
from processes import EXAMPLE_POLICY

from client_harness.config import HarnessConfig, InProcessEntry
from client_harness.scripted_provider import Script, build_app, serve_in_thread
from governance.settings import GovernanceSettings
from servers.suite import open_suite


@pytest.fixture
def provider() -> Iterator[StartProvider]:
    """Start a scripted provider (a real HTTP server on 127.0.0.1) for a script; stopped after the test."""
    with ExitStack() as stack:

        def start(script: dict[str, Any]) -> ScriptedProvider:
            app = build_app(Script.model_validate(script), hang_cap_s=30)
            return ScriptedProvider(stack.enter_context(serve_in_thread(app)), app.state.requests)

        yield start


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[HarnessConfig]:
    """knowledge_base and tickets, governed by the example policy, in this process (principal `local`)."""
    settings = GovernanceSettings(state_dir=tmp_path / "state", policy=EXAMPLE_POLICY, principal="local")
    opened = open_suite(["knowledge_base", "tickets"], settings, transport="memory")
    yield HarnessConfig({server.name: InProcessEntry(server) for server in opened.servers}, source="in-process suite")
    opened.close()
