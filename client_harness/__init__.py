"""The client side of mcpgov: connect to MCP servers from a host config, run scenarios, drive an agent.

`Connections` opens one SDK client per (server, principal) from a `HarnessConfig`;
`ScenarioRunner` runs scenario files over them; `client_harness.agent` is the LLM loop.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from client_harness.config import HarnessConfig, HarnessConfigError, load_config, parse_config, suite_config
    from client_harness.connections import ConnectionFailed, Connections
    from client_harness.namespace import QualifiedTool, provider_names, resolve
    from client_harness.outcomes import ToolOutcome, from_result, from_rpc_error
    from client_harness.scenario_model import Scenario, ScenarioError, load_scenario
    from client_harness.scenario_runner import ScenarioResult, ScenarioRunner, StepResult

# Imported on first use: the `mcpgov` command registers the harness's commands without
# loading the MCP client stack until a command runs.
_EXPORTS = {
    "ConnectionFailed": "client_harness.connections",
    "Connections": "client_harness.connections",
    "HarnessConfig": "client_harness.config",
    "HarnessConfigError": "client_harness.config",
    "QualifiedTool": "client_harness.namespace",
    "Scenario": "client_harness.scenario_model",
    "ScenarioError": "client_harness.scenario_model",
    "ScenarioResult": "client_harness.scenario_runner",
    "ScenarioRunner": "client_harness.scenario_runner",
    "StepResult": "client_harness.scenario_runner",
    "ToolOutcome": "client_harness.outcomes",
    "from_result": "client_harness.outcomes",
    "from_rpc_error": "client_harness.outcomes",
    "load_config": "client_harness.config",
    "load_scenario": "client_harness.scenario_model",
    "parse_config": "client_harness.config",
    "provider_names": "client_harness.namespace",
    "resolve": "client_harness.namespace",
    "suite_config": "client_harness.config",
}

__all__ = [
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
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
