"""Host configs (Claude Desktop, Cursor, VS Code, `mcpgov config`) read into server entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from client_harness._expand import expand
from client_harness.config import (
    HarnessConfigError,
    HttpEntry,
    StdioEntry,
    load_config,
    parse_config,
)
from mcpgov.cli import app


def test_claude_and_cursor_entries_become_stdio_and_http_servers() -> None:
    config = parse_config(
        {
            "mcpServers": {
                "kb": {"command": "mcpgov", "args": ["serve", "knowledge_base"], "env": {"A": "1"}, "autoApprove": []},
                "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${env:TOKEN}"}},
                "off": {"command": "x", "disabled": True},
            }
        }
    )
    assert config.servers["kb"] == StdioEntry(command="mcpgov", args=["serve", "knowledge_base"], env={"A": "1"})
    assert config.servers["remote"] == HttpEntry(
        url="https://mcp.example.com/mcp", headers={"Authorization": "Bearer ${env:TOKEN}"}
    )
    assert "off" not in config.servers


def test_vscode_servers_are_read_by_their_type() -> None:
    config = parse_config(
        {
            "servers": {
                "a": {"type": "stdio", "command": "python", "args": ["-m", "x"]},
                "b": {"type": "http", "url": "http://127.0.0.1:8000/mcp/tickets"},
                "c": {"type": "sse", "url": "http://127.0.0.1:9000/sse"},
            }
        }
    )
    assert isinstance(config.servers["a"], StdioEntry)
    assert config.servers["b"] == HttpEntry(url="http://127.0.0.1:8000/mcp/tickets")
    assert config.servers["c"] == HttpEntry(url="http://127.0.0.1:9000/sse", transport="sse")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"mcpServers": {"x": {"args": []}}}, "server 'x' has neither `command` (stdio) nor `url` (HTTP)"),
        ({"servers": {"x": {"type": "ws", "url": "ws://h"}}}, "its type 'ws' is not stdio, http or sse"),
        ({"mcpServers": {"x": {"command": 3}}}, "server 'x': command: Input should be a valid string"),
        ({"tools": {}}, "no servers; write them under `mcpServers`"),
    ],
)
def test_a_malformed_config_is_refused_naming_the_entry(document: object, message: str) -> None:
    with pytest.raises(HarnessConfigError, match=r"^mcp\.json: ") as caught:
        parse_config(document, "mcp.json")
    assert message in str(caught.value)


def test_the_output_of_mcpgov_config_is_a_config_and_its_servers_answer_to_their_bare_names(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["config", "cursor", "--server", "knowledge_base", "--state-dir", str(tmp_path)])
    path = tmp_path / "mcp.json"
    path.write_text(printed.output)
    config = load_config(path)
    assert config.key_for("knowledge_base") == "mcpgov-knowledge_base"
    assert config.key_for("mcpgov-knowledge_base") == "mcpgov-knowledge_base"
    assert config.names() == ["knowledge_base"]
    with pytest.raises(
        HarnessConfigError, match=r"no server .payroll. in .*mcp\.json; its servers: mcpgov-knowledge_base"
    ):
        config.key_for("payroll")


def test_a_config_file_may_be_yaml_and_a_missing_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "mcp.yaml").write_text("mcpServers:\n  kb: {command: mcpgov}\n")
    assert list(load_config(tmp_path / "mcp.yaml").servers) == ["kb"]
    with pytest.raises(HarnessConfigError, match=r"cannot read the config .*nope\.json"):
        load_config(tmp_path / "nope.json")


def test_environment_references_are_expanded_and_a_missing_one_is_named_without_values() -> None:
    environ = {"TOKEN": "s3cr3t"}
    assert expand("Bearer ${env:TOKEN}", "h", environ) == "Bearer s3cr3t"
    assert expand("${TOKEN}/${UNSET:-fallback}", "h", environ) == "s3cr3t/fallback"
    with pytest.raises(HarnessConfigError, match=r"remote.headers uses \$\{MISSING\}, which is not set") as caught:
        expand("${env:MISSING} ${TOKEN}", "remote.headers", environ)
    assert "s3cr3t" not in str(caught.value)
