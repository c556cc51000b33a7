"""Model routing: which provider and model serve a skill, what to fall back to, and the hard budgets.

::

    providers:                       # how to reach each provider; keys come from the environment
      openai: {kind: openai, base_url: https://api.openai.com/v1, api_key_env: OPENAI_API_KEY}
      anthropic: {kind: anthropic, base_url: https://api.anthropic.com, api_key_env: ANTHROPIC_API_KEY}
    prices:                          # USD per million tokens; every routed model needs one
      gpt-4o-mini: {input: 0.15, output: 0.60}
      claude-3-5-haiku-latest: {input: 0.80, output: 4.00}
    defaults:
      routing: {provider: openai, model: gpt-4o-mini, timeout_s: 30}
      fallbacks:
        - {provider: anthropic, model: claude-3-5-haiku-latest, timeout_s: 30}
      budgets: {max_steps: 8, max_tokens: 20000, max_cost_usd: 0.05}
      retry_budget: 3                # failed provider attempts a session absorbs; the next failure escalates
    skills:                          # per-skill overrides, merged over defaults
      triage:
        routing: {model: gpt-4o}
        budgets: {max_steps: 4}

Budgets cannot be switched off: a file that says nothing gets the defaults below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, model_validator

ProviderKind = Literal["openai", "anthropic"]


class RoutingError(ValueError):
    """A routing file that cannot be used; the message names the field and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProviderConfig(_Strict):
    """One provider endpoint. `api_key_env` names the variable holding the key; the key is never stored."""

    kind: ProviderKind
    base_url: str
    api_key_env: str | None = None


class Price(_Strict):
    """USD per million input and output tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


class ModelChoice(_Strict):
    """A provider and model, with how long one request may take."""

    provider: str
    model: str
    timeout_s: PositiveFloat = 60.0

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"


class Budgets(_Strict):
    """Hard limits per session; reaching one stops the loop with `escalated`."""

    max_steps: PositiveInt = 10
    max_tokens: PositiveInt = 50_000
    max_cost_usd: PositiveFloat = 1.0


class Route(_Strict):
    """Everything the loop needs for one skill, defaults already merged in."""

    routing: ModelChoice
    fallbacks: tuple[ModelChoice, ...] = ()
    budgets: Budgets = Budgets()
    retry_budget: int = Field(default=3, ge=0)
    max_output_tokens: PositiveInt = 1024
    system: str = (
        "You are an assistant that uses the tools provided. Call a tool when it helps; when a tool "
        "result says a call waits for approval, was denied or is not allowed, do not retry it: say so."
    )

    @property
    def chain(self) -> tuple[ModelChoice, ...]:
        """The primary model, then each fallback, in order."""
        return (self.routing, *self.fallbacks)


class RoutingConfig(_Strict):
    """A routing file."""

    providers: dict[str, ProviderConfig]
    prices: dict[str, Price] = Field(default_factory=dict)
    defaults: dict[str, Any]
    skills: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_route_resolves(self) -> RoutingConfig:
        for skill in [None, *self.skills]:
            self.route(skill)
        return self

    def route(self, skill: str | None = None) -> Route:
        """The route for `skill` (the defaults when None).

        Raises:
            RoutingError: unknown skill, unknown provider, or a model without a price.
        """
        if skill is not None and skill not in self.skills:
            raise RoutingError(f"unknown skill {skill!r}; the routing file has: {', '.join(self.skills) or 'none'}")
        merged = _merge(self.defaults, self.skills.get(skill, {}) if skill else {})
        where = f"skills.{skill}" if skill else "defaults"
        try:
            route = Route.model_validate(merged)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise RoutingError(f"{where}: {problems}") from None
        for choice in route.chain:
            if choice.provider not in self.providers:
                known = ", ".join(self.providers)
                raise RoutingError(f"{where}: provider {choice.provider!r} is not under `providers` ({known})")
            if choice.model not in self.prices:
                raise RoutingError(
                    f"{where}: model {choice.model!r} has no entry under `prices`; budgets need one "
                    "(write {input: 0, output: 0} for a free local model)"
                )
        return route


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`: mappings merge key by key, anything else (lists included) replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_routing(path: Path) -> RoutingConfig:
    """Read a routing file.

    Raises:
        RoutingError: unreadable, not YAML, or invalid (every problem is named with its field).
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RoutingError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RoutingError(f"{path}: not valid YAML: {error}") from None
    try:
        return RoutingConfig.model_validate(document)
    except RoutingError as error:
        raise RoutingError(f"{path}: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise RoutingError(f"{path}: {problems}") from None
