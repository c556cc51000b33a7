"""The harness packages' public names are pinned: anything else is private and free to change."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "client_harness": [
        "ConnectionFailed",
        "Connections",
        "HarnessConfig",
        "HarnessConfigError",
        "QualifiedTool",
        "Scenario",
        "ScenarioError",
        "ScenarioResult",
        "ScenarioRunner",
        "StepResult",
        "ToolOutcome",
        "from_result",
        "from_rpc_error",
        "load_config",
        "load_scenario",
        "parse_config",
        "provider_names",
        "resolve",
        "suite_config",
    ],
    "client_harness.agent": [
        "AgentLoop",
        "AgentRun",
        "RoutingConfig",
        "RoutingError",
        "StepRecord",
        "agent_loop",
        "load_routing",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_the_public_names_of_each_harness_package_are_exactly_the_pinned_ones(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(PUBLIC[module])
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.__all__ names {name}, which does not exist"
