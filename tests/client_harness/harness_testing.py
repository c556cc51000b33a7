"""Shared helpers for the harness tests (imported as `harness_testing`; the fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class ScriptedProvider:
    """A running scripted provider: its base URL and every request it received (path, model, headers, body)."""

    base_url: str
    requests: list[dict[str, Any]]


StartProvider = Callable[[dict[str, Any]], ScriptedProvider]


def answers(model: str, *turns: dict[str, Any]) -> dict[str, Any]:
    """A script with one conversation for `model`."""
    return {"conversations": [{"model": model, "turns": list(turns)}]}
