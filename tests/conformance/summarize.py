"""Summarize conformance results: required scenarios decide, the rest is reported.

Reads the suite's own requirement set (`requirements/<revision>.yaml` in the
installed package) and the `checks.json` each scenario wrote under
`--output-dir`, and prints one line per scenario, grouped as required or not
scored. A scenario fails when any of its checks has status FAILURE (WARNING is
a SHOULD the suite reports without failing, as it does itself).

    summarize.py RESULTS_ROOT REVISION...   # RESULTS_ROOT/<revision>/server-<scenario>-<timestamp>/

Exits 1 when a required scenario failed or did not run, else 0. Its last line
is `conformance: N passed, M failed` over the required scenarios of every
revision given.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

PACKAGE = Path(__file__).with_name("node_modules") / "@modelcontextprotocol" / "conformance"
_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@dataclass(frozen=True)
class Verdict:
    scenario: str
    ran: bool
    failed_checks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.ran and not self.failed_checks


def requirement_set(revision: str) -> tuple[list[str], dict[str, str]]:
    """The required server scenarios of `revision`, and the not-scored ones with their reason."""
    document = yaml.safe_load((PACKAGE / "requirements" / f"{revision}.yaml").read_text())
    required = list(document.get("server") or [])
    not_scored = {
        entry["scenario"]: entry.get("reason", "not scored")
        for entry in document.get("not_scored") or []
        if entry.get("leg") == "server"
    }
    return required, not_scored


def read_results(root: Path) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        match = _RESULT_DIR.match(directory.name)
        checks_file = directory / "checks.json"
        if match is None or not checks_file.is_file():
            continue
        checks = json.loads(checks_file.read_text())
        verdicts[match["scenario"]] = Verdict(
            scenario=match["scenario"],
            ran=True,
            failed_checks=tuple(c["id"] for c in checks if c.get("status") == "FAILURE"),
            warnings=tuple(c["id"] for c in checks if c.get("status") == "WARNING"),
        )
    return verdicts


def describe(verdict: Verdict) -> str:
    if not verdict.ran:
        return f"  ✗ {verdict.scenario}: did not run"
    mark = "✓" if verdict.passed else "✗"
    notes = []
    if verdict.failed_checks:
        notes.append("failed: " + ", ".join(sorted(set(verdict.failed_checks))))
    if verdict.warnings:
        notes.append("warnings: " + ", ".join(sorted(set(verdict.warnings))))
    return f"  {mark} {verdict.scenario}" + (f" ({'; '.join(notes)})" if notes else "")


def summarize(root: Path, revision: str) -> tuple[int, int]:
    """Print the revision's summary; return (required passed, required failed)."""
    required, not_scored = requirement_set(revision)
    results = read_results(root / revision)
    verdicts = [results.get(name, Verdict(name, ran=False)) for name in required]
    passed = sum(v.passed for v in verdicts)
    print(f"\n{revision}: required scenarios {passed}/{len(verdicts)} passed")
    for verdict in verdicts:
        print(describe(verdict))
    optional = [(results.get(name, Verdict(name, ran=False)), reason) for name, reason in not_scored.items()]
    if optional:
        failing = sum(not v.passed for v, _ in optional)
        print(f"{revision}: not scored ({len(optional)} run for information, {failing} failing; never fails the run)")
        for verdict, reason in optional:
            print(f"{describe(verdict)} [{reason}]")
    return passed, len(verdicts) - passed


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    passed = failed = 0
    for revision in argv[1:]:
        p, f = summarize(root, revision)
        passed, failed = passed + p, failed + f
    print(f"\nconformance: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
