"""Secrets in what a server returns are redacted before they leave, and never stored or logged raw."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from governance.audit import AuditStore
from governance.redaction import MARKER
from governance.testing import audit_records, governed_server, open_audit
from servers._config import ServerConfig
from servers.knowledge_base import build_server as build_knowledge_base

pytestmark = pytest.mark.anyio
ERAS = ["legacy", "auto"]

AWS_KEY = "AKIA" + "Z3MQ7XK2LP9RTW4B"  # the shape of an AWS access key id; not a real one
PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
PEM_BODY = PEM.splitlines()[1]  # a line of the key itself, not the BEGIN header

POLICY = """
principals:
  alice: {roles: [ops]}
roles:
  ops: {allow: ["deploy.*", "knowledge_base.*"]}
tools:
  deploy.rotate_keys: {approval: never}
"""


class DeployConfig(BaseModel):
    environment: str
    region: str
    aws_access_key_id: str
    signing_key: str
    note: str


def deploy_server() -> MCPServer:
    """A server whose tools leak credentials the way a careless one would."""
    server = MCPServer("deploy")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    def show_config(environment: str, note: str = "") -> DeployConfig:
        """The deployment's configuration, secrets included."""
        return DeployConfig(
            environment=environment,
            region="eu-west-1",
            aws_access_key_id=AWS_KEY,
            signing_key=PEM,
            note=f"rotate {AWS_KEY} before Friday; {note}",
        )

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False))
    def rotate_keys(environment: str) -> str:
        """Fails, quoting the key in its error."""
        raise ToolError(f"could not rotate {AWS_KEY} in {environment}: the new key was refused")

    return server


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditStore]:
    store = open_audit(tmp_path)
    yield store
    store.close()


def raw_secrets_in(text: str) -> list[str]:
    return [secret for secret in (AWS_KEY, PEM_BODY) if secret in text]


@pytest.mark.requirement("redaction.results")
@pytest.mark.parametrize("mode", ERAS)
async def test_an_aws_key_and_a_private_key_in_a_result_are_redacted_in_text_and_structured_content(
    mode: str, audit: AuditStore
) -> None:
    server = governed_server(deploy_server(), POLICY, audit, principal="alice")
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("show_config", {"environment": "production"})
    assert not result.is_error
    wire = result.model_dump_json(by_alias=True)
    assert raw_secrets_in(wire) == []
    assert result.structured_content == {
        "environment": "production",
        "region": "eu-west-1",
        "aws_access_key_id": MARKER,
        "signing_key": f"{MARKER}\n",  # the key file's final newline is not part of the key
        "note": f"rotate {MARKER} before Friday; ",
    }
    text = result.content[0].text  # type: ignore[union-attr]
    assert text.count(MARKER) == 3 and '"region": "eu-west-1"' in text


@pytest.mark.requirement("redaction.results")
@pytest.mark.parametrize("mode", ERAS)
async def test_a_key_quoted_in_a_tool_error_is_redacted_in_the_error_text(mode: str, audit: AuditStore) -> None:
    server = governed_server(deploy_server(), POLICY, audit, principal="alice")
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("rotate_keys", {"environment": "production"})
    assert result.is_error
    assert result.content[0].text.endswith(f"could not rotate {MARKER} in production: the new key was refused")  # type: ignore[union-attr]


@pytest.mark.requirement("redaction.results")
@pytest.mark.requirement("redaction.audit-arguments")
async def test_neither_key_is_ever_written_raw_to_the_audit_database(tmp_path: Path) -> None:
    audit = open_audit(tmp_path)
    server = governed_server(deploy_server(), POLICY, audit, principal="alice")
    async with Client(server) as client:
        await client.call_tool("show_config", {"environment": "production", "note": f"old key {AWS_KEY}"})
        await client.call_tool("rotate_keys", {"environment": f"production {AWS_KEY}"})
        await client.call_tool("show_config", {"environment": "staging", "note": PEM})
    records = audit_records(audit)
    audit.close()
    calls = [r for r in records if r.method == "tools/call" and r.phase == "request"]
    assert [r.outcome for r in calls] == ["ok", "tool_error", "ok"]
    assert records[0].arguments["note"] == f"old key {MARKER}"
    stored = database_bytes(tmp_path)
    assert stored  # the database and its write-ahead log were read
    assert AWS_KEY.encode() not in stored
    assert PEM_BODY.encode() not in stored


def database_bytes(directory: Path) -> bytes:
    """Every byte of the audit database and its write-ahead log, as they lie on disk."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("audit.db*")))


LOGGING_SCRIPT = textwrap.dedent(
    """
    import anyio
    from pathlib import Path
    from mcp import Client
    from governance.testing import governed_server, open_audit
    from tests.governance.test_redaction import POLICY, deploy_server

    async def main(directory):
        server = governed_server(deploy_server(), POLICY, open_audit(directory), principal="alice")
        async with Client(server) as client:
            await client.call_tool("show_config", {"environment": "production"})
            await client.call_tool("rotate_keys", {"environment": "production"})

    anyio.run(main, Path(DIRECTORY))
    """
)


@pytest.mark.requirement("redaction.logs")
def test_neither_key_reaches_the_logs_even_where_the_sdk_logs_a_tool_error(tmp_path: Path) -> None:
    script = LOGGING_SCRIPT.replace("DIRECTORY", repr(str(tmp_path)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, timeout=60)
    stderr = done.stderr.decode()
    assert raw_secrets_in(stderr) == []
    assert raw_secrets_in(done.stdout.decode()) == []
    # The SDK's own line about the failed tool is there, redacted.
    assert "Tool 'rotate_keys' failed" in stderr and MARKER in stderr
    events = [orjson.loads(line) for line in done.stderr.splitlines() if line.startswith(b"{")]
    redacted = [e for e in events if e["event"] == "mcp.result_redacted"]
    assert [(e["tool"], e["fields"]) for e in redacted] == [
        ("show_config", ["content", "structuredContent"]),
        ("rotate_keys", ["content"]),
    ]


@pytest.mark.requirement("redaction.results")
@pytest.mark.parametrize("query", ["reset password", "api key", "webhook signature secret", "refund"])
async def test_ordinary_knowledge_base_results_pass_through_unchanged(
    query: str, tmp_path: Path, audit: AuditStore
) -> None:
    bare = build_knowledge_base(ServerConfig(data_dir=tmp_path))
    governed = governed_server(build_knowledge_base(ServerConfig(data_dir=tmp_path)), POLICY, audit, principal="alice")
    arguments = {"query": query, "limit": 10}
    async with Client(bare) as bare_client, Client(governed) as governed_client:
        expected = await bare_client.call_tool("search_articles", arguments)
        got = await governed_client.call_tool("search_articles", arguments)
    assert expected.structured_content is not None and expected.structured_content["hits"]
    assert got.structured_content == expected.structured_content
    assert got.content == expected.content
