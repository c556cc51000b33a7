"""The conversation in a provider-neutral shape; each provider module maps it to its wire format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as a model sees it: a provider-safe name, a description and a JSON schema."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call the model asked for. `problem` is set when its arguments could not be read."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What goes back to the model for one tool call."""

    call_id: str
    text: str
    is_error: bool


@dataclass(frozen=True, slots=True)
class UserMessage:
    text: str


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    text: str
    tool_calls: tuple[ToolCallRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolResultsMessage:
    results: tuple[ToolResult, ...]


Message = UserMessage | AssistantMessage | ToolResultsMessage


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One request to a model."""

    model: str
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...]
    max_output_tokens: int


@dataclass(frozen=True, slots=True)
class ModelReply:
    """A model's answer: text, tool calls, and the tokens it cost."""

    text: str
    tool_calls: tuple[ToolCallRequest, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    raw_usage: Mapping[str, Any] = field(default_factory=dict)

    def as_message(self) -> AssistantMessage:
        return AssistantMessage(self.text, self.tool_calls)
