"""A deterministic help-centre corpus: the topics in ``catalog.yaml`` expanded into articles.

Nothing here is random or reads the clock. An article's ``updated_at`` is an offset back from
`CORPUS_EPOCH` taken from a hash of its slug, so every build on every machine yields the same
corpus, and adding a topic leaves the other articles' dates alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

try:
    # libyaml parses the catalogue ten times faster than pure Python (8 ms against 80 ms).
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

__all__ = ["CORPUS_EPOCH", "Article", "generate_articles"]

CORPUS_EPOCH = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
"""The corpus's "now": every article was last updated within about 18 months before it."""

_SPREAD_MINUTES = 548 * 24 * 60

_CLOSINGS = (
    "Still stuck? Contact Harbor Support from Help > Contact us and mention this article.",
    "Was this article helpful? Rate it below so we can keep improving our help centre.",
    "Our support team answers chat messages around the clock on weekdays if you need more help.",
)


@dataclass(frozen=True, slots=True)
class Article:
    """One help-centre article as the store keeps it."""

    id: int
    slug: str
    collection: str
    title: str
    body: str
    tags: tuple[str, ...]
    updated_at: datetime


_Text = Annotated[str, StringConstraints(min_length=1)]
_Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class _Topic(BaseModel):
    # strict + forbid: a YAML slip (an unquoted "key: value" turning into a mapping) fails loudly here.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    title: _Text
    summary: _Text
    steps: Annotated[list[_Text], Field(min_length=1)]
    tip: _Text
    tags: Annotated[list[_Tag], Field(min_length=1)]
    variants: dict[str, _Text] = Field(default_factory=dict)


class _Collection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: _Tag
    roles: Annotated[list[_Text], Field(min_length=1)]
    context: Annotated[list[_Text], Field(min_length=1)]
    topics: Annotated[list[_Topic], Field(min_length=1)]


class _Catalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    collections: Annotated[list[_Collection], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class _Draft:
    """An article before its body is written: the body links to other articles' titles."""

    collection: _Collection
    topic: _Topic
    variant: str | None
    title: str


def generate_articles() -> tuple[Article, ...]:
    """Build the whole corpus from the bundled catalogue.

    Returns:
        Every article, ids from 1 in catalogue order.

    Raises:
        pydantic.ValidationError: If ``catalog.yaml`` does not have the expected shape.
        ValueError: If two articles would share a slug.
    """
    catalog = _load_catalog()
    drafts = [
        _Draft(collection, topic, variant, _fill(topic.title, variant))
        for collection in catalog.collections
        for topic in collection.topics
        for variant in _variants(topic)
    ]
    slugs = [_slugify(draft.title) for draft in drafts]
    if len(set(slugs)) != len(slugs):
        duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
        raise ValueError(f"catalog.yaml yields duplicate article slugs: {duplicates}")
    return tuple(
        Article(
            id=index,
            slug=slug,
            collection=draft.collection.name,
            title=draft.title,
            body=_body(draft, slug, _related_titles(drafts, index - 1)),
            tags=tuple(dict.fromkeys(draft.topic.tags)),
            updated_at=CORPUS_EPOCH - timedelta(minutes=_stable_int(slug) % _SPREAD_MINUTES),
        )
        for index, (draft, slug) in enumerate(zip(drafts, slugs, strict=True), start=1)
    )


def _load_catalog() -> _Catalog:
    text = files(__package__).joinpath("catalog.yaml").read_text(encoding="utf-8")
    return _Catalog.model_validate(yaml.load(text, Loader=_YamlLoader))


def _body(draft: _Draft, slug: str, related: list[str]) -> str:
    topic, collection, variant = draft.topic, draft.collection, draft.variant
    steps = "\n".join(f"{number}. {_fill(step, variant)}" for number, step in enumerate(topic.steps, 1))
    paragraphs = [
        f"{_fill(topic.summary, variant)} {_pick(collection.context, slug, 'context')}",
        f"Before you start: you need the {' or '.join(collection.roles)} role in the workspace.",
        f"Steps:\n{steps}",
    ]
    if variant is not None:
        paragraphs.append(topic.variants[variant])
    paragraphs += [
        f"Tip: {_fill(topic.tip, variant)}",
        _pick(_CLOSINGS, slug, "closing"),
    ]
    if related:
        paragraphs.append("Related articles: " + "; ".join(related) + ".")
    return "\n\n".join(paragraphs)


def _related_titles(drafts: list[_Draft], position: int) -> list[str]:
    # The next two articles of the same collection that come from other topics: variants of one
    # topic linking to each other would only repeat the title words and blur the ranking.
    here = drafts[position]
    siblings = [
        (index, draft)
        for index, draft in enumerate(drafts)
        if draft.collection.name == here.collection.name and draft.topic is not here.topic
    ]
    # Wrap around so the last articles of a collection link back to its first ones.
    ordered = [d for i, d in siblings if i > position] + [d for _, d in siblings]
    return list(dict.fromkeys(d.title for d in ordered))[:2]


def _variants(topic: _Topic) -> list[str | None]:
    # None stands for "the topic has no variants": it still yields its one article.
    return [*topic.variants] or [None]


def _fill(text: str, variant: str | None) -> str:
    # str.replace, not str.format: catalogue prose may contain braces of its own.
    return text if variant is None else text.replace("{v}", variant)


def _pick(options: list[str] | tuple[str, ...], slug: str, salt: str) -> str:
    return options[_stable_int(f"{slug}/{salt}") % len(options)]


def _stable_int(key: str) -> int:
    # hash() is salted per process; a digest is the same everywhere.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
