"""One request to one model over httpx2, with every way it can fail turned into a `ProviderError`.

A provider error, a timeout and a 5xx all mean "try the next model in the chain"; the loop
decides that. The API key is read from the environment when the request is made and goes
only into the request's headers: it is never stored, logged or reported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import anyio
import httpx2

from client_harness.agent import anthropic_messages, openai_chat
from client_harness.agent.messages import ModelReply, ModelRequest
from client_harness.agent.routing import ModelChoice, ProviderConfig

FailureKind = Literal["timeout", "status", "transport", "malformed", "configuration"]
WIRE: dict[str, ModuleType] = {"openai": openai_chat, "anthropic": anthropic_messages}
_EXCERPT = 300


class ProviderError(Exception):
    """A model request that produced no usable reply."""

    def __init__(self, kind: FailureKind, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class ModelClient:
    """Sends `ModelRequest`s to the providers of a routing file over one HTTP client."""

    http: httpx2.AsyncClient
    providers: Mapping[str, ProviderConfig]
    environ: Callable[[str], str | None] = os.environ.get

    async def complete(self, choice: ModelChoice, request: ModelRequest) -> ModelReply:
        """Ask `choice` for a reply, within its timeout.

        Raises:
            ProviderError: timeout, transport failure, HTTP error status, or a body that is not a reply.
        """
        provider = self.providers[choice.provider]
        wire = WIRE[provider.kind]
        api_key = None
        if provider.api_key_env:
            api_key = self.environ(provider.api_key_env)
            if not api_key:
                raise ProviderError(
                    "configuration", f"{provider.api_key_env} is not set; export it with the {choice.provider} key"
                )
        url = provider.base_url.rstrip("/") + wire.PATH
        body: dict[str, Any] = wire.request_body(request)
        try:
            with anyio.fail_after(choice.timeout_s):
                response = await self.http.post(
                    url, json=body, headers=wire.auth_headers(api_key), timeout=choice.timeout_s
                )
        except (TimeoutError, httpx2.TimeoutException):
            raise ProviderError("timeout", f"no reply within {choice.timeout_s:g}s") from None
        except httpx2.HTTPError as error:
            raise ProviderError("transport", f"{type(error).__name__}: {error}") from None
        if response.status_code >= 400:
            excerpt = " ".join(response.text.split())[:_EXCERPT]
            raise ProviderError("status", f"HTTP {response.status_code}: {excerpt}", status=response.status_code)
        try:
            reply: ModelReply = wire.parse_reply(response.json())
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise ProviderError("malformed", f"the reply is not a {provider.kind} response ({error!r})") from None
        return reply
