"""A model provider with scripted answers, on loopback, for running the agent loop offline.

It speaks OpenAI chat completions (``POST /v1/chat/completions``) and Anthropic Messages
(``POST /v1/messages``) from one script. It keeps no state: the answer to a request is the turn
of the matching conversation whose index is the number of assistant messages already in the
request, so the last turn repeats forever (an endless tool-calling loop is a one-turn script)::

    conversations:
      - model: small-model              # the request's model ("*": any)
        task_contains: password         # optional: a substring of the first user message
        turns:
          - tool_call: {name: knowledge_base__search_articles, arguments: {query: reset password}}
          - text: Open Settings, then Security, then Reset password.
            usage: {input_tokens: 900, output_tokens: 40}   # optional; else estimated from sizes
      - model: broken-model
        turns: [{status: 500}]          # an HTTP error
      - model: slow-model
        turns: [{hang: true}]           # no answer until the client gives up

Run it with ``python -m client_harness.scripted_provider --script FILE --port 8089``.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import uvicorn
import yaml
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ScriptedCall(_Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ScriptedUsage(_Strict):
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class ScriptedTurn(_Strict):
    """One answer: text and/or tool calls, or an HTTP error status, or no answer at all."""

    text: str = ""
    tool_call: ScriptedCall | None = None
    tool_calls: list[ScriptedCall] = Field(default_factory=list)
    status: int | None = None
    hang: bool = False
    usage: ScriptedUsage | None = None

    def calls(self) -> list[ScriptedCall]:
        return ([self.tool_call] if self.tool_call else []) + self.tool_calls


class Conversation(_Strict):
    model: str = "*"
    task_contains: str | None = None
    turns: list[ScriptedTurn] = Field(min_length=1)


class Script(_Strict):
    conversations: list[Conversation]

    @classmethod
    def load(cls, path: Path) -> Script:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def turn(self, model: str, task: str, index: int) -> ScriptedTurn | None:
        for conversation in self.conversations:
            if conversation.model in ("*", model) and (conversation.task_contains or "") in task:
                return conversation.turns[min(index, len(conversation.turns) - 1)]
        return None


def build_app(script: Script, *, hang_cap_s: float = 60.0) -> Starlette:
    """The provider app; `app.state.requests` records each request's path, model, headers and body."""

    async def answer(request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        anthropic = request.url.path.endswith("/messages")
        messages = body.get("messages") or []
        model = str(body.get("model"))
        request.app.state.requests.append(
            {"path": request.url.path, "model": model, "headers": dict(request.headers), "body": body}
        )
        task = next((_text(m.get("content")) for m in messages if m.get("role") == "user"), "")
        index = sum(1 for m in messages if m.get("role") == "assistant")
        turn = script.turn(model, task, index)
        if turn is None:
            message = f"the scripted provider has no conversation for model {model!r} and this task"
            return JSONResponse({"error": {"type": "not_found", "message": message}}, status_code=404)
        if turn.hang:
            with anyio.move_on_after(hang_cap_s):
                while (await request.receive())["type"] != "http.disconnect":
                    pass
            return Response(status_code=504)
        if turn.status is not None:
            return JSONResponse({"error": {"type": "scripted", "message": f"scripted {turn.status}"}}, turn.status)
        calls = turn.calls()
        usage = turn.usage or ScriptedUsage(
            input_tokens=max(1, len(raw) // 4),
            output_tokens=8 + len(turn.text) // 4 + sum(8 + len(json.dumps(c.arguments)) // 4 for c in calls),
        )
        shape = _anthropic if anthropic else _openai
        return JSONResponse(shape(model, index, turn.text, calls, usage))

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", answer, methods=["POST"]),
            Route("/chat/completions", answer, methods=["POST"]),
            Route("/v1/messages", answer, methods=["POST"]),
        ]
    )
    app.state.requests = []
    return app


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _openai(model: str, index: int, text: str, calls: list[ScriptedCall], usage: ScriptedUsage) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": f"call_{index}_{n}",
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for n, c in enumerate(calls)
        ]
    return {
        "id": f"chatcmpl-scripted-{index}",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
        },
    }


def _anthropic(model: str, index: int, text: str, calls: list[ScriptedCall], usage: ScriptedUsage) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{index}_{n}", "name": c.name, "input": c.arguments}
        for n, c in enumerate(calls)
    ]
    return {
        "id": f"msg_scripted_{index}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    }


@contextmanager
def serve_in_thread(app: Starlette, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on an ephemeral loopback port from a background thread; yields the base URL.

    The socket is listening before this yields, so the first request waits in the backlog
    rather than failing while uvicorn starts.
    """
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m client_harness.scripted_provider", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--script", type=Path, required=True, help="the conversations (YAML)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    options = parser.parse_args(argv)
    app = build_app(Script.load(options.script))
    print(f"scripted provider on http://{options.host}:{options.port} (OpenAI: /v1, Anthropic: /)", flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
