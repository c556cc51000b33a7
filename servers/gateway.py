"""The HTTP gateway: every governed server in one Starlette app, each at `/mcp/NAME`.

Mounted apps' lifespans do not run, so this app's lifespan enters each
server's session manager itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route


def build_gateway(
    servers: Sequence[MCPServer],
    *,
    host: str,
    json_response: bool = False,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """One ASGI app serving each server at `/mcp/<name>` plus `/healthz`.

    Args:
        servers: Governed servers, each with a distinct name.
        host: The bind host; the SDK turns DNS-rebinding protection on for loopback binds.
        json_response: Answer with JSON instead of an SSE stream where the protocol allows.
        extra_routes: More routes (the admin API when it is enabled).
    """
    routes: list[BaseRoute] = list(extra_routes)
    for server in servers:
        app = server.streamable_http_app(
            streamable_http_path=f"/mcp/{server.name}", json_response=json_response, host=host
        )
        routes.extend(app.routes)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "servers": [s.name for s in servers]})

    routes.append(Route("/healthz", healthz, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for server in servers:
                await stack.enter_async_context(server.session_manager.run())
            yield

    return Starlette(routes=routes, lifespan=lifespan)
