"""OpenAI-compatible chat completions: ``POST {base_url}/chat/completions`` with `tools` and `tool_calls`.

`base_url` includes the version prefix, as OpenAI-compatible servers publish it
(``https://api.openai.com/v1``, ``http://localhost:11434/v1``).
"""

from __future__ import annotations

import json
from typing import Any

from client_harness.agent.messages import (
    AssistantMessage,
    ModelReply,
    ModelRequest,
    ToolCallRequest,
    ToolResultsMessage,
    UserMessage,
)

PATH = "/chat/completions"


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def request_body(request: ModelRequest) -> dict[str, Any]:
    """The chat completions body for `request`."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            turn: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                turn["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
                    }
                    for call in message.tool_calls
                ]
            messages.append(turn)
        elif isinstance(message, ToolResultsMessage):
            # Chat completions has no error flag on a tool message: say it in the content.
            messages.extend(
                {"role": "tool", "tool_call_id": r.call_id, "content": ("ERROR: " if r.is_error else "") + r.text}
                for r in message.results
            )
    body: dict[str, Any] = {"model": request.model, "messages": messages, "max_tokens": request.max_output_tokens}
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": dict(t.input_schema)},
            }
            for t in request.tools
        ]
    return body


def parse_reply(data: Any) -> ModelReply:
    """A chat completion's first choice.

    Raises:
        KeyError, TypeError, IndexError: the body is not a chat completion.
    """
    choice = data["choices"][0]
    message = choice["message"]
    calls = []
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        arguments, problem = _arguments(function.get("arguments"))
        calls.append(ToolCallRequest(str(call.get("id") or f"call_{index}"), function["name"], arguments, problem))
    usage = data.get("usage") or {}
    return ModelReply(
        text=message.get("content") or "",
        tool_calls=tuple(calls),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        stop_reason=choice.get("finish_reason"),
        raw_usage=usage,
    )


def _arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    if raw in (None, ""):
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    try:
        value = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return {}, "the tool call's arguments are not valid JSON; send a JSON object"
    return (value, None) if isinstance(value, dict) else ({}, "the tool call's arguments must be a JSON object")
