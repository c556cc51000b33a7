"""Anthropic Messages: ``POST {base_url}/v1/messages`` with `tools`, `tool_use` and `tool_result` blocks.

`base_url` is the host (``https://api.anthropic.com``), as Anthropic's SDKs take it.
"""

from __future__ import annotations

from typing import Any

from client_harness.agent.messages import (
    AssistantMessage,
    ModelReply,
    ModelRequest,
    ToolCallRequest,
    ToolResultsMessage,
    UserMessage,
)

PATH = "/v1/messages"
API_VERSION = "2023-06-01"


def auth_headers(api_key: str | None) -> dict[str, str]:
    headers = {"anthropic-version": API_VERSION}
    if api_key:
        headers["x-api-key"] = api_key
    return headers


def request_body(request: ModelRequest) -> dict[str, Any]:
    """The Messages API body for `request`."""
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
            blocks += [
                {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}
                for call in message.tool_calls
            ]
            messages.append({"role": "assistant", "content": blocks})
        elif isinstance(message, ToolResultsMessage):
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": r.call_id, "content": r.text, "is_error": r.is_error}
                        for r in message.results
                    ],
                }
            )
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_output_tokens,
        "system": request.system,
        "messages": messages,
    }
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema)} for t in request.tools
        ]
    return body


def parse_reply(data: Any) -> ModelReply:
    """A Messages API response.

    Raises:
        KeyError, TypeError: the body is not a Messages response.
    """
    texts, calls = [], []
    for block in data["content"]:
        if block["type"] == "text":
            texts.append(block["text"])
        elif block["type"] == "tool_use":
            arguments = block.get("input")
            if isinstance(arguments, dict):
                calls.append(ToolCallRequest(str(block["id"]), block["name"], arguments))
            else:
                problem = "the tool call's input must be a JSON object"
                calls.append(ToolCallRequest(str(block["id"]), block["name"], {}, problem))
    usage = data.get("usage") or {}
    return ModelReply(
        text="".join(texts),
        tool_calls=tuple(calls),
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        stop_reason=data.get("stop_reason"),
        raw_usage=usage,
    )
