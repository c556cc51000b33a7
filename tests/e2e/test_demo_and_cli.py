"""The Quickstart's main job and the host config snippets, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from processes import mcpgov_command
from typer.testing import CliRunner

from governance.audit import AuditStore, verify_chain
from mcpgov.cli import app

pytestmark = pytest.mark.e2e


def test_the_demo_shows_a_governed_call_two_refusals_and_an_intact_audit_trail(tmp_path: Path) -> None:
    state = tmp_path / "demo"
    done = subprocess.run(
        mcpgov_command("demo", "--state-dir", str(state)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "provenance: {'source': 'knowledge_base'" in out
    assert "isError=True: Invalid argument 'limit'" in out
    assert "isError=True: Unknown tool: get_article" in out
    assert "chain intact" in out
    with AuditStore.open(f"sqlite:///{state / 'mcpgov.db'}", create=False) as store:
        assert verify_chain(store).ok
        outcomes = [(s.record.tool, s.record.outcome) for s in store.iter_records() if s.record.tool]
    assert outcomes == [
        ("search_articles", "ok"),
        ("search_articles", "tool_error"),
        ("get_article", "tool_error"),
    ]


@pytest.mark.parametrize("host", ["claude", "vscode", "cursor"])
def test_config_prints_a_snippet_that_runs_each_server_over_stdio_with_absolute_paths(
    host: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["config", host, "--server", "knowledge_base", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    snippet = json.loads(result.output)
    entries = snippet["servers" if host == "vscode" else "mcpServers"]
    entry = entries["mcpgov-knowledge_base"]
    assert entry["args"] == ["serve", "knowledge_base", "--transport", "stdio"]
    assert Path(entry["command"]).is_absolute()
    assert entry["env"]["MCPGOV_STATE_DIR"] == str(tmp_path.resolve())
    assert (entry.get("type") == "stdio") is (host == "vscode")


def test_config_refuses_an_unknown_server_by_name() -> None:
    result = CliRunner().invoke(app, ["config", "claude", "--server", "payroll"])
    assert result.exit_code == 2
    assert "unknown server(s) payroll; the suite has: knowledge_base" in result.output


def test_serve_over_stdio_needs_exactly_one_server_and_says_so() -> None:
    done = subprocess.run(mcpgov_command("serve", "--transport", "stdio"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "stdio serves exactly one server; name one of:" in done.stderr


def test_serve_refuses_a_bad_policy_before_starting(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("roles:\n  r:\n    allow: [nonsense]\n")
    done = subprocess.run(
        mcpgov_command("serve", "knowledge_base", "--policy", str(tmp_path / "p.yaml"), "--state-dir", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{tmp_path / 'p.yaml'}:3: roles.r.allow: 'nonsense' is not a tool pattern" in done.stderr
    assert not (tmp_path / "mcpgov.db").exists()  # nothing half-started


def test_the_mcpgov_command_is_installed_and_lists_its_commands() -> None:
    done = subprocess.run([sys.executable, "-m", "mcpgov", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("serve", "config", "demo", "audit", "policy"):
        assert command in done.stdout
