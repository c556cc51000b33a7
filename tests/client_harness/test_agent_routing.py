"""Routing files: per-skill overrides over defaults, fallbacks, and budgets that are always on."""

from __future__ import annotations

from pathlib import Path

import pytest

from client_harness.agent.routing import Budgets, RoutingError, load_routing

EXAMPLES = Path(__file__).parents[2] / "client_harness" / "examples"

BASE = """
providers:
  openai: {kind: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: OPENAI_API_KEY}
  anthropic: {kind: anthropic, base_url: "http://127.0.0.1:1"}
prices:
  small: {input: 0.15, output: 0.6}
  big: {input: 3, output: 15}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(BASE + text)
    return path


def test_a_skill_overrides_the_defaults_field_by_field_and_replaces_lists(tmp_path: Path) -> None:
    routing = load_routing(
        write(
            tmp_path,
            """
defaults:
  routing: {provider: openai, model: small, timeout_s: 20}
  fallbacks: [{provider: anthropic, model: big}]
  budgets: {max_steps: 8, max_cost_usd: 0.5}
skills:
  triage:
    routing: {model: big}
    fallbacks: []
    budgets: {max_steps: 3}
""",
        )
    )
    default, triage = routing.route(), routing.route("triage")
    assert [c.label for c in default.chain] == ["openai/small", "anthropic/big"]
    assert (triage.routing.provider, triage.routing.model, triage.routing.timeout_s) == ("openai", "big", 20)
    assert triage.fallbacks == ()
    assert triage.budgets == Budgets(max_steps=3, max_tokens=50_000, max_cost_usd=0.5)


def test_budgets_are_on_when_a_file_says_nothing_about_them(tmp_path: Path) -> None:
    route = load_routing(write(tmp_path, "defaults:\n  routing: {provider: openai, model: small}\n")).route()
    assert route.budgets == Budgets(max_steps=10, max_tokens=50_000, max_cost_usd=1.0)
    assert route.retry_budget == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("defaults:\n  routing: {provider: openai, model: huge}\n", "model 'huge' has no entry under `prices`"),
        ("defaults:\n  routing: {provider: azure, model: small}\n", "provider 'azure' is not under `providers`"),
        ("defaults:\n  routing: {provider: openai, model: small}\n  budgets: {max_steps: 0}\n", "max_steps"),
        (
            "defaults:\n  routing: {provider: openai, model: small}\nskills:\n  x: {routing: {model: nope}}\n",
            "skills.x: model 'nope' has no entry under `prices`",
        ),
    ],
)
def test_a_routing_file_that_cannot_be_priced_or_reached_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RoutingError, match=r"routing\.yaml: ") as caught:
        load_routing(write(tmp_path, text))
    assert message in str(caught.value)


def test_an_unknown_skill_is_named_with_the_known_ones(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path, "defaults:\n  routing: {provider: openai, model: small}\nskills: {a: {}}\n"))
    with pytest.raises(RoutingError, match="unknown skill 'b'; the routing file has: a"):
        routing.route("b")


def test_the_shipped_example_routings_load() -> None:
    assert load_routing(EXAMPLES / "routing.yaml").route("runaway").budgets.max_steps == 4
    assert load_routing(EXAMPLES / "routing-careful.yaml").route().routing.model == "careful-model"
