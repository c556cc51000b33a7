"""The requirements manifest and the tests agree in both directions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TESTS = Path(__file__).parent
MARKER = re.compile(r"""pytest\.mark\.requirement\(\s*["']([^"']+)["']\s*\)""")


def test_every_requirement_has_a_test_and_every_test_names_a_known_requirement() -> None:
    manifest = set(yaml.safe_load((TESTS / "requirements.yaml").read_text()))
    named = {
        match
        for path in TESTS.rglob("test_*.py")
        if "node_modules" not in path.parts
        for match in MARKER.findall(path.read_text())
    }
    assert sorted(manifest - named) == [], "requirements without a test"
    assert sorted(named - manifest) == [], "tests naming requirements that are not in tests/requirements.yaml"
