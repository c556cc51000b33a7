"""``mcpgov audit verify|tail|export`` over a real SQLite audit database."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from governance.audit import GENESIS_HASH, AuditStore
from governance.audit.cli import app
from governance.model import AuditRecord, canonical_json

runner = CliRunner()


def make_record(i: int) -> AuditRecord:
    return AuditRecord(
        time=f"2026-07-28T12:00:{i:02d}Z",
        method="tools/call",
        principal="alice",
        transport="stdio",
        server="desk",
        tool=f"tool{i}",
        arguments={"order_id": i, "note": "ünïcode"},
        decision="allow",
        outcome="ok",
        policy_version="p" * 64,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    with AuditStore.open(f"sqlite:///{path}") as store:
        for i in range(1, 6):
            store.append_sync(make_record(i))
    return path


@pytest.fixture
def db(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


def test_verify_says_ok_and_exits_0_when_the_chain_is_intact(db: str) -> None:
    result = runner.invoke(app, ["verify", "--db", db])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 5 records, chain intact\n"


def test_verify_names_the_first_bad_record_and_exits_1(db: str, db_path: Path) -> None:
    with sqlite3.connect(db_path) as tamper:
        tamper.execute("DELETE FROM audit_record WHERE seq = 3")
    result = runner.invoke(app, ["verify", "--db", db])
    assert result.exit_code == 1
    assert result.stdout.startswith("first bad record: seq 3 (deleted): ")


@pytest.mark.parametrize("command", ["verify", "tail", "export"])
def test_a_missing_database_is_an_error_and_is_never_created(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "audit.db"
    result = runner.invoke(app, [command, "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 2
    assert f"no audit database at {missing}; pass --db or set MCPGOV_DB_URL" in result.stderr
    assert not missing.parent.exists()


def test_the_database_url_can_come_from_the_environment(db: str) -> None:
    result = runner.invoke(app, ["verify"], env={"MCPGOV_DB_URL": db})
    assert result.exit_code == 0, result.output
    assert "5 records" in result.stdout


def test_without_a_url_the_database_in_the_state_directory_is_used(tmp_path: Path) -> None:
    with AuditStore.open(f"sqlite:///{tmp_path / 'mcpgov.db'}") as store:
        store.append_sync(make_record(1))
    result = runner.invoke(app, ["verify"], env={"MCPGOV_STATE_DIR": str(tmp_path), "MCPGOV_DB_URL": None})
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 1 records, chain intact\n"


def test_tail_shows_the_newest_records_in_a_table(db: str) -> None:
    result = runner.invoke(app, ["tail", "-n", "2", "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "tool5" in result.stdout and "tool4" in result.stdout
    assert "tool3" not in result.stdout
    assert result.stdout.index("tool4") < result.stdout.index("tool5")


def test_tail_json_prints_one_object_per_line_newest_last(db: str) -> None:
    result = runner.invoke(app, ["tail", "-n", "3", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [3, 4, 5]
    assert AuditRecord.model_validate(lines[-1]["record"]) == make_record(5)


def test_an_export_can_be_rechecked_without_mcpgov(db: str) -> None:
    result = runner.invoke(app, ["export", "--format", "jsonl", "--db", db])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    prev_hash = GENESIS_HASH
    for line in lines:
        assert line["prev_hash"] == prev_hash
        hashed = line["prev_hash"].encode() + b"\n" + canonical_json(line["record"])
        assert hashlib.sha256(hashed).hexdigest() == line["hash"]
        prev_hash = line["hash"]


def test_export_writes_the_file_named_by_output(db: str, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = runner.invoke(app, ["export", "--output", str(target), "--db", db])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert len(target.read_text().splitlines()) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".audit.jsonl")] == []


def test_export_refuses_other_formats_and_names_the_supported_one(db: str, tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    result = runner.invoke(app, ["export", "--format", "csv", "--output", str(target), "--db", db])
    assert result.exit_code == 2
    assert "unsupported format 'csv'" in result.stderr
    assert "jsonl" in result.stderr
    assert not target.exists()


def test_the_commands_run_as_a_module_in_a_real_process(db: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "governance.audit.cli", "verify", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok: 5 records, chain intact\n"
