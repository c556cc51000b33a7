"""The client side of mcpgov: connect to MCP servers from a host config, run scenarios, drive an agent.

`Connections` opens one SDK client per (server, principal) from a `HarnessConfig`;
`ScenarioRunner` runs scenario files over them; `client_harness.agent` is the LLM loop.
"""

from client_harness.config import HarnessConfig, HarnessConfigError, load_config, parse_config, suite_config
from client_harness.connections import ConnectionFailed, Connections
from client_harness.namespace import QualifiedTool, provider_names, resolve
from client_harness.outcomes import ToolOutcome, from_result, from_rpc_error
from client_harness.scenario_model import Scenario, ScenarioError, load_scenario
from client_harness.scenario_runner import ScenarioResult, ScenarioRunner, StepResult

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
