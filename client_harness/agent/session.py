"""Opening everything an agent run needs (connections, tools, an HTTP client) and running tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2

from client_harness.agent.loop import AgentLoop
from client_harness.agent.provider import ModelClient
from client_harness.agent.records import StepRecord
from client_harness.agent.routing import RoutingConfig
from client_harness.agent.toolbox import Toolbox
from client_harness.config import HarnessConfig
from client_harness.connections import Connections, Mode


@asynccontextmanager
async def agent_loop(
    routing: RoutingConfig,
    config: HarnessConfig,
    *,
    skill: str | None = None,
    servers: Sequence[str] | None = None,
    principal: str | None = None,
    mode: Mode = "auto",
    log_dir: Path | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
) -> AsyncIterator[AgentLoop]:
    """An `AgentLoop` for `skill`'s route over `config`'s servers, open for as many tasks as needed.

    Raises:
        RoutingError: unknown skill.
        HarnessConfigError, ConnectionFailed: a server is unknown or cannot be reached.
    """
    route = routing.route(skill)
    async with Connections(config, mode=mode, log_dir=log_dir) as connections, httpx2.AsyncClient() as http:
        toolbox = await Toolbox.discover(connections, servers, principal)
        yield AgentLoop(ModelClient(http, routing.providers), toolbox, route, routing.prices, on_step)
