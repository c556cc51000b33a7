"""The agent loop: a model with the tools of many MCP servers, routed, budgeted and logged.

`agent_loop(routing, config)` opens connections and tools and yields an `AgentLoop`;
`AgentLoop.run(task)` returns an `AgentRun` (answered, or escalated with the reason).
"""

from client_harness.agent.loop import AgentLoop
from client_harness.agent.records import AgentRun, StepRecord
from client_harness.agent.routing import RoutingConfig, RoutingError, load_routing
from client_harness.agent.session import agent_loop

__all__ = ["AgentLoop", "AgentRun", "RoutingConfig", "RoutingError", "StepRecord", "agent_loop", "load_routing"]
