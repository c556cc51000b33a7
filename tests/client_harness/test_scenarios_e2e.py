"""The shipped scenarios against the suite over real stdio servers with the example policy, as CI runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from processes import EXAMPLE_POLICY, mcpgov_command
from typer.testing import CliRunner

from governance.audit import AuditStore, verify_chain
from mcpgov.cli import app

pytestmark = pytest.mark.e2e
SCENARIOS = Path(__file__).parents[2] / "client_harness" / "scenarios"


def test_every_shipped_scenario_passes_against_the_suite_and_reports_as_json_and_junit(tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    command = mcpgov_command(
        "harness", "run", str(SCENARIOS), "--policy", str(EXAMPLE_POLICY), "--state-dir", str(tmp_path / "state"),
        "--json-report", str(report), "--junit", str(junit),
    )  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every expectation met" in done.stdout
    body = json.loads(report.read_text())
    assert body["passed"] and body["totals"]["failed_steps"] == 0
    assert [s["name"] for s in body["scenarios"]] == [
        "allowlist",
        "params",
        "approval",
        "recency",
        "loops-and-rates",
        "result-size",
        "untrusted",
        "redaction",
        "audit",
    ]
    suites = ET.parse(junit).getroot()
    assert suites.get("failures") == "0" and int(suites.get("tests") or 0) == body["totals"]["steps"]
    # The reviewer steps went through `mcpgov approvals`, and everything is on one intact chain.
    with AuditStore.open(f"sqlite:///{tmp_path / 'state' / 'mcpgov.db'}", create=False) as store:
        assert verify_chain(store).ok
        events = [s.record.method for s in store.iter_records() if s.record.method.startswith("approvals/")]
    assert {"approvals/requested", "approvals/approved", "approvals/denied", "approvals/consumed"} <= set(events)


def test_scenarios_run_in_the_legacy_era_from_a_config_printed_by_mcpgov_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `mcpgov config` writes the absolute path of the `mcpgov` it finds on PATH, as a user's shell would.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    runner = CliRunner()
    state = tmp_path / "state"
    printed = runner.invoke(
        app,
        ["config", "claude", "--server", "knowledge_base", "--state-dir", str(state), "--policy", str(EXAMPLE_POLICY)],
    )
    assert printed.exit_code == 0
    result = runner.invoke(
        app,
        ["harness", "run", str(SCENARIOS / "20-params.yaml"), "--config", "-", "--mode", "legacy",
         "--state-dir", str(tmp_path / "run"), "--json-report", str(tmp_path / "r.json")],
        input=printed.output,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    steps = json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["steps"]
    assert [s["passed"] for s in steps] == [True] * 6
    assert (state / "mcpgov.db").exists()  # the servers used the state the config named


def test_a_failed_expectation_exits_1_and_is_named_in_both_reports(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "- name: the widget can read articles (it cannot)\n"
        "  call: knowledge_base.get_article\n  as: anonymous\n  args: {article_id: 1}\n  expect: allowed\n"
        "- name: this one holds\n  call: knowledge_base.get_article\n  as: anonymous\n  args: {article_id: 1}\n"
        "  expect: denied\n"
    )
    result = CliRunner().invoke(
        app,
        ["harness", "run", str(scenario), "--policy", str(EXAMPLE_POLICY), "--server", "knowledge_base",
         "--state-dir", str(tmp_path / "state"), "--json-report", str(tmp_path / "r.json"),
         "--junit", str(tmp_path / "j.xml")],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "1 step(s) failed" in result.output
    steps = json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["steps"]
    assert steps[0]["failures"] == [
        "expected the call to be allowed; got denied: Unknown tool: get_article",
    ]
    assert steps[1]["passed"]
    failure = ET.parse(tmp_path / "j.xml").getroot().find("testsuite/testcase/failure")
    assert failure is not None and "Unknown tool: get_article" in (failure.get("message") or "")


def test_a_malformed_scenario_exits_2_before_any_server_starts(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("- call: knowledge_base.search_articles\n  expect: maybe\n")
    result = CliRunner().invoke(app, ["harness", "run", str(tmp_path / "bad.yaml"), "--state-dir", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "bad.yaml: steps[0]: expect: Input should be" in result.output
    assert not (tmp_path / "s" / "logs").exists()
