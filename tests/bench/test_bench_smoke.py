"""The benchmark runs, and the checks it makes of itself hold. No timings are asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_the_benchmark_runs_in_smoke_mode_and_its_audit_matches_the_calls_it_made(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output), "--work-dir", str(tmp_path / "work")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(output.read_text())

    checks = {check["check"]: check for check in report["correctness"]["checks"]}
    assert report["correctness"]["ok"], [name for name, check in checks.items() if not check["ok"]]
    # The governed HTTP server wrote exactly one tools/call record per successful call, in a sound chain.
    http_records = [
        c for name, c in checks.items() if name.startswith("http.") and name.endswith("records_equal_calls")
    ]
    assert http_records and all(c["tools_call_records"] == c["calls_ok"] > 0 for c in http_records)
    assert any(name.startswith("http.") and name.endswith("chain_verifies") for name in checks)
    assert checks["inprocess.fixture.records_equal_calls"]["ok"]
    assert checks["audit.throughput.chain_verifies"]["ok"]
    assert checks["audit.verify.generated_chain_verifies"]["ok"]

    # Every part reported, on both protocol paths, with the machine and versions recorded.
    summary = report["http_summary"]["fixture"]
    assert set(summary) == {"modern/c1", "modern/c8", "legacy/c1", "legacy/c8"}
    assert report["stdio_cold_start"]["tools_listed"]["governed"] > 0
    assert report["machine"]["cores"] and report["machine"]["cpu_model"]
    assert {"mcp", "starlette", "uvicorn", "sqlalchemy", "python"} <= set(report["libraries"])
    assert {t["verdict"] for t in report["targets"]} <= {"PASS", "MISS", "N/A"}
