"""The fixture server the official MCP conformance suite tests, behind mcpgov's governance.

The suite (`@modelcontextprotocol/conformance`, server mode) calls tools,
resources and prompts with fixed names and checks fixed answers; this module
implements each of them, exactly as the scenario descriptions in the suite
specify, on an `MCPServer` named `conformance`. The server is then governed
with `allow_all.yaml` and an audit store in a temporary directory, and served
through the real HTTP gateway (`servers.gateway.build_gateway`) at
`/mcp/conformance`, so every scenario passes through the governance layer the
way a deployment's traffic does.

Run from the repository root:

    .venv/bin/python -m tests.conformance.fixture_server --port 3001
    .venv/bin/python tests/conformance/fixture_server.py --port 3001 --audit-dir /tmp/audit

Both eras are served on the one endpoint: 2025-11-25 (initialize handshake,
server-to-client sampling and elicitation) and 2026-07-28 (stateless,
`InputRequiredResult` instead of server-to-client requests).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import struct
import sys
import tempfile
import warnings
import wave
import zlib
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    AudioContent,
    ClientCapabilities,
    Completion,
    CompletionArgument,
    CompletionContext,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    EmptyResult,
    ImageContent,
    InputRequest,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    MissingRequiredClientCapabilityErrorData,
    PromptReference,
    ResourceTemplateReference,
    SamplingCapability,
    SamplingMessage,
    SetLevelRequestParams,
    SubscribeRequestParams,
    TextContent,
    TextResourceContents,
    ToolAnnotations,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from governance import Governance, Policy, govern
from governance.audit import AuditStore
from servers.gateway import build_gateway

SERVER_NAME = "conformance"
POLICY_PATH = Path(__file__).with_name("allow_all.yaml")

# The annotations every fixture tool carries: it changes nothing outside the
# call, so governance lets it run without a reviewer. The two list-mutating
# hooks are the exception, and allow_all.yaml sets `approval: never` for them.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
MUTATES_LISTS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)


def _png_1x1() -> bytes:
    """A valid 1x1 red PNG, built here rather than pasted in as an opaque blob."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _wav_silence() -> bytes:
    """A valid, very short mono 8 kHz WAV file (one silent sample)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00")
    return buffer.getvalue()


PNG = _png_1x1()
PNG_BASE64 = base64.b64encode(PNG).decode()
WAV_BASE64 = base64.b64encode(_wav_silence()).decode()


def _is_modern(ctx: Context[Any, Any]) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def _declared(ctx: Context[Any, Any]) -> ClientCapabilities:
    return ctx.client_capabilities or ClientCapabilities()


def _ask(message: str, field: str, kind: str = "string") -> ElicitRequest:
    """An embedded form elicitation asking for one required field."""
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def _sample(text: str, max_tokens: int) -> CreateMessageRequest:
    """An embedded sampling request with one user message."""
    message = SamplingMessage(role="user", content=TextContent(type="text", text=text))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def _accepted(ctx: Context[Any, Any], key: str) -> dict[str, Any] | None:
    """The accepted form content the client returned for `key`, if it did."""
    response = (ctx.input_responses or {}).get(key)
    if isinstance(response, ElicitResult) and response.action == "accept":
        return dict(response.content or {})
    return None


def _answered(ctx: Context[Any, Any], key: str) -> bool:
    return key in (ctx.input_responses or {})


def _text(value: str) -> list[TextContent]:
    return [TextContent(type="text", text=value)]


def add_content_tools(server: MCPServer) -> None:
    """tools-call-simple-text, -image, -audio, -embedded-resource, -mixed-content, -error."""

    @server.tool(annotations=READ_ONLY)
    def test_simple_text() -> list[TextContent]:
        """Tests simple text content response."""
        return _text("This is a simple text response for testing.")

    @server.tool(annotations=READ_ONLY)
    def test_image_content() -> list[ImageContent]:
        """Tests image content response."""
        return [ImageContent(type="image", data=PNG_BASE64, mime_type="image/png")]

    @server.tool(annotations=READ_ONLY)
    def test_audio_content() -> list[AudioContent]:
        """Tests audio content response."""
        return [AudioContent(type="audio", data=WAV_BASE64, mime_type="audio/wav")]

    @server.tool(annotations=READ_ONLY)
    def test_embedded_resource() -> list[EmbeddedResource]:
        """Tests embedded resource content response."""
        resource = TextResourceContents(
            uri="test://embedded-resource",
            mime_type="text/plain",
            text="This is an embedded resource content.",
        )
        return [EmbeddedResource(type="resource", resource=resource)]

    @server.tool(annotations=READ_ONLY)
    def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
        """Tests a response with multiple content types (text, image, resource)."""
        resource = TextResourceContents(
            uri="test://mixed-content-resource",
            mime_type="application/json",
            text=json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
        )
        return [
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG_BASE64, mime_type="image/png"),
            EmbeddedResource(type="resource", resource=resource),
        ]

    @server.tool(annotations=READ_ONLY)
    def test_error_handling() -> str:
        """Tests error response handling: always fails."""
        raise ToolError("This tool intentionally returns an error for testing")


def add_notification_tools(server: MCPServer) -> None:
    """tools-call-with-logging, tools-call-with-progress, and the server-stateless log probe."""

    @server.tool(annotations=READ_ONLY)
    async def test_tool_with_logging(ctx: Context) -> list[TextContent]:
        """Tests a tool that emits three log messages during execution."""
        # Each message is sent before the next is made: no pause is needed for the client to see three.
        await ctx.info("Tool execution started")
        await ctx.info("Tool processing data")
        await ctx.info("Tool execution completed")
        return _text("Tool with logging executed successfully")

    @server.tool(annotations=READ_ONLY)
    async def test_logging_tool(ctx: Context) -> list[TextContent]:
        """Emits a log message; on 2026-07-28 it reaches the client only if the request set a log level."""
        await ctx.info("test_logging_tool ran")
        return _text("Logging tool complete")

    @server.tool(annotations=READ_ONLY)
    async def test_tool_with_progress(ctx: Context) -> list[TextContent]:
        """Tests a tool that reports progress 0, 50 and 100 of 100."""
        for step in (0, 50, 100):
            await ctx.report_progress(progress=step, total=100, message=f"Completed step {step} of 100")
        return _text("Progress tool completed")

    @server.tool(annotations=READ_ONLY)
    async def test_reconnection(ctx: Context) -> list[TextContent]:
        """Tests SSE polling: closes the response stream mid-call (a no-op without an event store)."""
        await ctx.close_sse_stream()
        await asyncio.sleep(0.2)
        return _text("Reconnection test completed")


SEP1034_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
}

SEP1330_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}

USER_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    },
    "required": ["username", "email"],
}


async def _elicit_form(
    ctx: Context[Any, Any], key: str, message: str, schema: dict[str, Any]
) -> ElicitResult | InputRequiredResult:
    """Ask the client for a form: a server-to-client request on 2025-11-25, an input request on 2026-07-28."""
    if not _is_modern(ctx):
        answer: ElicitResult = await ctx.session.elicit_form(
            message=message, requested_schema=schema, related_request_id=ctx.request_id
        )
        return answer
    response = (ctx.input_responses or {}).get(key)
    if isinstance(response, ElicitResult):
        return response
    request = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))
    return InputRequiredResult(input_requests={key: request})


def _describe(result: ElicitResult) -> str:
    return f"action={result.action}, content={json.dumps(result.content or {}, separators=(',', ':'))}"


def add_legacy_interaction_tools(server: MCPServer) -> None:
    """tools-call-sampling, tools-call-elicitation, elicitation-sep1034-defaults, elicitation-sep1330-enums."""

    @server.tool(annotations=READ_ONLY)
    async def test_sampling(prompt: str, ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Tests server-initiated sampling: asks the client's LLM to complete `prompt`."""
        if not _is_modern(ctx):
            result = await ctx.session.create_message(
                messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
                max_tokens=100,
                related_request_id=ctx.request_id,
            )
            reply = result.content.text if isinstance(result.content, TextContent) else "No response"
            return _text(f"LLM response: {reply}")
        response = (ctx.input_responses or {}).get("completion")
        if isinstance(response, CreateMessageResult) and isinstance(response.content, TextContent):
            return _text(f"LLM response: {response.content.text}")
        return InputRequiredResult(input_requests={"completion": _sample(prompt, 100)})

    @server.tool(annotations=READ_ONLY)
    async def test_elicitation(message: str, ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Tests server-initiated elicitation: asks the user for a username and email."""
        result = await _elicit_form(ctx, "user_response", message, USER_RESPONSE_SCHEMA)
        if isinstance(result, InputRequiredResult):
            return result
        return _text(f"User response: {_describe(result)}")

    @server.tool(annotations=READ_ONLY)
    async def test_elicitation_sep1034_defaults(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Tests elicitation with default values for every primitive type (SEP-1034)."""
        result = await _elicit_form(ctx, "user_info", "Please provide user information", SEP1034_SCHEMA)
        if isinstance(result, InputRequiredResult):
            return result
        return _text(f"Elicitation completed: {_describe(result)}")

    @server.tool(annotations=READ_ONLY)
    async def test_elicitation_sep1330_enums(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Tests elicitation with the five enum schema variants (SEP-1330)."""
        message = "Please select values using different enum schema types"
        result = await _elicit_form(ctx, "enum_choices", message, SEP1330_SCHEMA)
        if isinstance(result, InputRequiredResult):
            return result
        return _text(f"Elicitation completed: {_describe(result)}")


def add_input_required_tools(server: MCPServer) -> None:
    """The input-required-result-* scenarios (SEP-2322, 2026-07-28)."""

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_elicitation(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Asks for the caller's name via an in-band elicitation, then greets them."""
        answer = _accepted(ctx, "user_name")
        if answer is None:
            # Also the answer to a retry that carries only unrelated keys: ask again.
            return InputRequiredResult(input_requests={"user_name": _ask("What is your name?", "name")})
        return _text(f"Hello, {answer.get('name', 'stranger')}!")

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_sampling(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Asks the client's LLM a question via an in-band sampling request."""
        response = (ctx.input_responses or {}).get("capital_question")
        if isinstance(response, CreateMessageResult):
            reply = response.content.text if isinstance(response.content, TextContent) else "(non-text reply)"
            return _text(f"Sampling response: {reply}")
        return InputRequiredResult(input_requests={"capital_question": _sample("What is the capital of France?", 100)})

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_list_roots(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Asks for the client's roots via an in-band roots/list request."""
        response = (ctx.input_responses or {}).get("client_roots")
        if isinstance(response, ListRootsResult):
            uris = ", ".join(str(root.uri) for root in response.roots) or "(none)"
            return _text(f"Client roots: {uris}")
        return InputRequiredResult(input_requests={"client_roots": ListRootsRequest()})

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_request_state(
        ctx: Context,
    ) -> list[TextContent] | InputRequiredResult:
        """Round-trips requestState: the retry completes only with the state this tool minted."""
        if ctx.request_state == "awaiting-confirmation" and _accepted(ctx, "confirm") is not None:
            return _text("Confirmed: state-ok")
        return InputRequiredResult(
            input_requests={"confirm": _ask("Please confirm", "ok", kind="boolean")},
            request_state="awaiting-confirmation",
        )

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_multiple_inputs(
        ctx: Context,
    ) -> list[TextContent] | InputRequiredResult:
        """Asks for an elicitation, a sampling completion and the roots in one round."""
        wanted: dict[str, InputRequest] = {
            "user_name": _ask("What is your name?", "name"),
            "greeting": _sample("Generate a greeting", 50),
            "client_roots": ListRootsRequest(),
        }
        missing = {key: request for key, request in wanted.items() if not _answered(ctx, key)}
        if missing or ctx.request_state != "multiple-inputs":
            return InputRequiredResult(input_requests=missing or wanted, request_state="multiple-inputs")
        name = (_accepted(ctx, "user_name") or {}).get("name", "stranger")
        return _text(f"All inputs received for {name}")

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_multi_round(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Two rounds of questions, each with its own requestState, then a complete result."""
        if ctx.request_state == "round-2" and (color := _accepted(ctx, "step2")) is not None:
            return _text(f"Favorite color: {color.get('color')}")
        if ctx.request_state == "round-1" and _accepted(ctx, "step1") is not None:
            step2 = _ask("Step 2: What is your favorite color?", "color")
            return InputRequiredResult(input_requests={"step2": step2}, request_state="round-2")
        step1 = _ask("Step 1: What is your name?", "name")
        return InputRequiredResult(input_requests={"step1": step1}, request_state="round-1")

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_tampered_state(
        ctx: Context,
    ) -> list[TextContent] | InputRequiredResult:
        """Mints a requestState; the SDK's sealing rejects a retry whose state was altered."""
        if ctx.request_state == "untampered" and _accepted(ctx, "confirm") is not None:
            return _text("State verified")
        return InputRequiredResult(
            input_requests={"confirm": _ask("Please confirm", "ok", kind="boolean")},
            request_state="untampered",
        )

    @server.tool(annotations=READ_ONLY)
    async def test_input_required_result_capabilities(
        ctx: Context,
    ) -> list[TextContent] | InputRequiredResult:
        """Asks only for what the client declared it can answer (sampling, elicitation)."""
        declared = _declared(ctx)
        wanted: dict[str, InputRequest] = {}
        if declared.sampling is not None:
            wanted["summary"] = _sample("Summarize the conformance run", 50)
        if declared.elicitation is not None:
            wanted["user_name"] = _ask("What is your name?", "name")
        missing = {key: request for key, request in wanted.items() if not _answered(ctx, key)}
        if missing:
            return InputRequiredResult(input_requests=missing)
        return _text("Capability-scoped inputs received" if wanted else "Client declared nothing to ask")

    @server.tool(annotations=READ_ONLY)
    async def test_streaming_elicitation(ctx: Context) -> list[TextContent] | InputRequiredResult:
        """Elicits on the request stream: an InputRequiredResult, never a standalone request, on 2026-07-28."""
        result = await _elicit_form(ctx, "stream_answer", "Anything to add?", {"type": "object", "properties": {}})
        if isinstance(result, InputRequiredResult):
            return result
        return _text(f"Streaming elicitation: {_describe(result)}")

    @server.tool(annotations=READ_ONLY)
    async def test_missing_capability(ctx: Context) -> list[TextContent]:
        """Needs the client's sampling capability; refuses with -32021 when it was not declared."""
        if _declared(ctx).sampling is None:
            data = MissingRequiredClientCapabilityErrorData(
                required_capabilities=ClientCapabilities(sampling=SamplingCapability())
            )
            raise MCPError(
                code=MISSING_REQUIRED_CLIENT_CAPABILITY,
                message="This tool needs the client's sampling capability; declare it and call again",
                data=data.model_dump(by_alias=True, mode="json", exclude_none=True),
            )
        return _text("Client declared sampling")


def add_list_change_hooks(server: MCPServer) -> None:
    """Diagnostic hooks for server-stateless: each mutates a list and announces the change."""

    def spare_tool() -> list[TextContent]:
        """A tool that test_trigger_tool_change removes and restores."""
        return _text("spare tool")

    def spare_prompt() -> str:
        """A prompt that test_trigger_prompt_change removes and restores."""
        return "spare prompt"

    server.add_tool(spare_tool, name="test_spare_tool", annotations=READ_ONLY)
    server.prompt(name="test_spare_prompt")(spare_prompt)

    @server.tool(annotations=MUTATES_LISTS)
    async def test_trigger_tool_change(ctx: Context) -> list[TextContent]:
        """Removes or restores test_spare_tool and notifies tools/list_changed subscribers."""
        if any(tool.name == "test_spare_tool" for tool in await server.list_tools()):
            server.remove_tool("test_spare_tool")
        else:
            server.add_tool(spare_tool, name="test_spare_tool", annotations=READ_ONLY)
        await ctx.notify_tools_changed()
        return _text("Tool list changed")

    @server.tool(annotations=MUTATES_LISTS)
    async def test_trigger_prompt_change(ctx: Context) -> list[TextContent]:
        """Removes or restores test_spare_prompt and notifies prompts/list_changed subscribers."""
        if any(prompt.name == "test_spare_prompt" for prompt in await server.list_prompts()):
            server.remove_prompt("test_spare_prompt")
        else:
            server.prompt(name="test_spare_prompt")(spare_prompt)
        await ctx.notify_prompts_changed()
        return _text("Prompt list changed")


JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def add_schema_tools(server: MCPServer) -> None:
    """json-schema-2020-12 and http-custom-header-server-validation (both pending upstream, not scored)."""

    def json_schema_2020_12_tool() -> list[TextContent]:
        return _text("Schema-preservation fixture: only its advertised inputSchema is under test")

    server.add_tool(
        json_schema_2020_12_tool,
        name="json_schema_2020_12_tool",
        description="Tool with JSON Schema 2020-12 features",
        annotations=READ_ONLY,
    )
    # The suite checks the advertised schema keyword for keyword, so it is set
    # verbatim rather than derived from a signature that cannot express if/then/else.
    tool = server._tool_manager.get_tool("json_schema_2020_12_tool")
    assert tool is not None
    tool.parameters = JSON_SCHEMA_2020_12

    @server.tool(annotations=READ_ONLY)
    def test_x_mcp_header(
        region: Annotated[
            str,
            Field(
                description="Mirrored in the Mcp-Param-Region header",
                json_schema_extra={"x-mcp-header": "Region"},
            ),
        ],
    ) -> list[TextContent]:
        """Echoes a parameter that clients also send as a custom Mcp-Param header (SEP-2243)."""
        return _text(f"Region: {region}")


def add_resources(server: MCPServer) -> None:
    """resources-list, -read-text, -read-binary, -templates-read, -subscribe/-unsubscribe."""

    @server.resource("test://static-text", mime_type="text/plain", description="A static text resource for testing")
    def static_text() -> str:
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", mime_type="image/png", description="A static binary resource (a PNG)")
    def static_binary() -> bytes:
        return PNG

    @server.resource(
        "test://template/{id}/data",
        mime_type="application/json",
        description="A resource template with parameter substitution",
    )
    def template_data(id: str) -> str:
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"}, separators=(",", ":"))

    @server.resource("test://watched-resource", mime_type="text/plain", description="A resource clients subscribe to")
    def watched() -> str:
        return "Watched resource content"


def add_prompts(server: MCPServer) -> None:
    """prompts-list, prompts-get-*, and input-required-result-non-tool-request."""

    @server.prompt()
    def test_simple_prompt() -> list[Message]:
        """A simple prompt without arguments."""
        return [UserMessage(content=TextContent(type="text", text="This is a simple prompt for testing."))]

    @server.prompt()
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[Message]:
        """A prompt with two required arguments."""
        text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
        return [UserMessage(content=TextContent(type="text", text=text))]

    @server.prompt()
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[Message]:
        """A prompt that embeds the resource named by resourceUri."""
        resource = TextResourceContents(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            UserMessage(content=EmbeddedResource(type="resource", resource=resource)),
            UserMessage(content=TextContent(type="text", text="Please process the embedded resource above.")),
        ]

    @server.prompt()
    def test_prompt_with_image() -> list[Message]:
        """A prompt that includes image content."""
        return [
            UserMessage(content=ImageContent(type="image", data=PNG_BASE64, mime_type="image/png")),
            UserMessage(content=TextContent(type="text", text="Please analyze the image above.")),
        ]

    @server.prompt()
    async def test_input_required_result_prompt(ctx: Context) -> list[Message] | InputRequiredResult:
        """A prompt that first asks the user which context to use."""
        question = "What context should the prompt use?"
        if _is_modern(ctx):
            answer = _accepted(ctx, "user_context")
            if answer is None:
                return InputRequiredResult(input_requests={"user_context": _ask(question, "context")})
        else:
            schema = {
                "type": "object",
                "properties": {"context": {"type": "string"}},
                "required": ["context"],
            }
            result = await ctx.session.elicit_form(message=question, requested_schema=schema)
            answer = dict(result.content or {}) if result.action == "accept" else {}
        return [UserMessage(content=TextContent(type="text", text=f"Use this context: {answer.get('context', '')}"))]

    @server.completion()  # type: ignore[no-untyped-call, untyped-decorator]  # unannotated in the SDK
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        """Offers a few fixed values that start with what the user typed."""
        choices = ["paris", "park", "party", "test", "testing"]
        values = [value for value in choices if value.startswith(argument.value)]
        return Completion(values=values, total=len(values), has_more=False)


def add_legacy_methods(server: MCPServer) -> None:
    """logging/setLevel and resources/(un)subscribe: 2025-11-25 methods MCPServer has no decorator for.

    The low-level server takes them as handlers; on 2026-07-28 the SDK answers
    them as removed methods (404, -32601) whatever is registered here.
    """
    subscriptions: set[str] = set()

    async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        return EmptyResult()

    async def subscribe(ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        subscriptions.add(str(params.uri))
        return EmptyResult()

    async def unsubscribe(ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        subscriptions.discard(str(params.uri))
        return EmptyResult()

    lowlevel = server._lowlevel_server
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)


def build_fixture() -> MCPServer:
    """The ungoverned fixture server with every tool, resource and prompt the suite calls."""
    server = MCPServer(SERVER_NAME, version="1.0.0", instructions="Fixture server for the MCP conformance suite.")
    add_content_tools(server)
    add_notification_tools(server)
    add_legacy_interaction_tools(server)
    add_input_required_tools(server)
    add_list_change_hooks(server)
    add_schema_tools(server)
    add_resources(server)
    add_prompts(server)
    add_legacy_methods(server)
    return server


def build_governed(audit_dir: Path) -> tuple[MCPServer, AuditStore]:
    """The fixture behind governance: allow_all.yaml, and an audit log in `audit_dir`."""
    policy = Policy.load(POLICY_PATH)
    audit = AuditStore.open(f"sqlite:///{audit_dir}/audit.db")
    server = govern(build_fixture(), Governance(policy=policy, audit=audit))
    return server, audit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument(
        "--audit-dir",
        type=Path,
        default=None,
        help="directory for audit.db (default: a new temporary directory)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    args = parser.parse_args(argv)

    # The fixture exercises the 2025-11-25 logging and sampling APIs on purpose.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    audit_dir: Path = args.audit_dir or Path(tempfile.mkdtemp(prefix="mcpgov-conformance-"))
    audit_dir.mkdir(parents=True, exist_ok=True)
    server, audit = build_governed(audit_dir)
    app = build_gateway([server], host="127.0.0.1")
    print(
        f"conformance fixture: http://127.0.0.1:{args.port}/mcp/{SERVER_NAME} (audit: sqlite:///{audit_dir}/audit.db)",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level=args.log_level)
    finally:
        audit.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
