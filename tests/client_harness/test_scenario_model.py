"""Scenario files: the shipped ones are well-formed, and a bad one is refused naming the step and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from client_harness.run_scenarios import load_scenarios
from client_harness.scenario_model import CallStep, ReviewStep, ScenarioError, load_scenario

SHIPPED = Path(__file__).parents[2] / "client_harness" / "scenarios"
MANIFEST = Path(__file__).parents[1] / "requirements.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_the_shipped_scenarios_load_and_name_only_known_requirements() -> None:
    scenarios = load_scenarios([SHIPPED])
    known = set(yaml.safe_load(MANIFEST.read_text()))
    assert [s.name for s in scenarios] == [
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
    for scenario in scenarios:
        assert scenario.requirements, f"{scenario.path} names no requirement"
        assert set(scenario.requirements) <= known, scenario.path


def test_a_bare_list_of_steps_is_a_scenario_named_after_its_file(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "- call: kb.search\n  args: {q: x}\n- approve: req\n  as: sam\n"))
    assert scenario.name == "s"
    call, review = scenario.steps
    assert isinstance(call, CallStep) and call.expectation == "allowed"
    assert isinstance(review, ReviewStep) and (review.decision, review.ref, review.principal) == (
        "approve",
        "req",
        "sam",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- args: {}\n", r"steps\[0\]: a step has exactly one action of .*; found none"),
        ("- call: a.b\n  list: a\n", r"steps\[0\]: a step has exactly one action .*; found \['call', 'list'\]"),
        ("- name: x\n  call: a.b\n  expect: alowed\n", r"steps\[0\] \(x\): expect: Input should be 'allowed'"),
        ("- approve: req\n", r"a reviewer step needs `as: REVIEWER`"),
        ("- call: a.b\n  expect: denied\n  result: {a: 1}\n", r"`result` checks an allowed call's content"),
        ("- call: a.b\n  argz: {}\n", r"argz: Extra inputs are not permitted"),
        ("steps: []\n", r"expected a list of steps, or a mapping with a non-empty `steps` list"),
        ("name: x\nsetps: []\n", r"unknown keys \['setps'\]"),
        ("- call: [\n", r"not valid YAML"),
        ("- call: a.b\n  repeat: 0\n", r"repeat: Input should be greater than or equal to 1"),
        ("- audit: verify\n  lacks: AKIA\n", r"`contains` and `lacks` check records; use them with `audit: records`"),
        ("- audit: records\n", r"`audit: records` needs `contains` \(records that must be there\), `lacks`, or both"),
        ("- audit: records\n  lacks: x\n  expect: broken\n", r"`expect: intact \| broken` goes with `audit: verify`"),
    ],
)
def test_a_malformed_scenario_is_refused_naming_the_step_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as caught:
        load_scenario(write(tmp_path, text))
    assert str(caught.value).startswith(str(tmp_path / "s.yaml"))
