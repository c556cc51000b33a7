"""Scenario results as a JSON report and as JUnit XML (one testsuite per scenario, one testcase per step)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client_harness.scenario_runner import ScenarioResult


def json_report(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    """Every scenario and step, with failures and outcomes, plus totals."""
    steps = [step for result in results for step in result.steps]
    return {
        "passed": all(result.passed for result in results),
        "totals": {
            "scenarios": len(results),
            "steps": len(steps),
            "failed_steps": sum(not step.passed for step in steps),
        },
        "scenarios": [
            {
                "name": result.scenario.name,
                "file": str(result.scenario.path),
                "requirements": list(result.scenario.requirements),
                "passed": result.passed,
                "steps": [
                    {
                        "index": step.index,
                        "name": step.name,
                        "action": step.action,
                        "target": step.target,
                        "as": step.principal,
                        "passed": step.passed,
                        "failures": list(step.failures),
                        "duration_s": round(step.duration_s, 4),
                        "outcome": step.outcome,
                    }
                    for step in result.steps
                ],
            }
            for result in results
        ],
    }


def write_json_report(results: Sequence[ScenarioResult], path: Path) -> None:
    path.write_text(json.dumps(json_report(results), indent=2, default=str) + "\n", encoding="utf-8")


def junit_xml(results: Sequence[ScenarioResult]) -> ET.Element:
    """A `<testsuites>` element CI systems read: failures carry the step's messages."""
    root = ET.Element("testsuites", name="mcpgov harness")
    total = failed = 0
    elapsed = 0.0
    for result in results:
        suite_time = sum(step.duration_s for step in result.steps)
        suite_failures = sum(not step.passed for step in result.steps)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.scenario.name,
            file=str(result.scenario.path),
            tests=str(len(result.steps)),
            failures=str(suite_failures),
            errors="0",
            skipped="0",
            time=f"{suite_time:.3f}",
        )
        for step in result.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=result.scenario.name,
                name=f"{step.index + 1:02d} {step.name}",
                time=f"{step.duration_s:.3f}",
            )
            if not step.passed:
                failure = ET.SubElement(case, "failure", message=step.failures[0][:500], type="expectation")
                failure.text = "\n".join(step.failures)
        total += len(result.steps)
        failed += suite_failures
        elapsed += suite_time
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    root.set("time", f"{elapsed:.3f}")
    return root


def write_junit(results: Sequence[ScenarioResult], path: Path) -> None:
    tree = ET.ElementTree(junit_xml(results))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
