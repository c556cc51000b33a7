"""The knowledge base's index: an in-memory SQLite database with an FTS5 table over the articles.

User text never reaches FTS5 as syntax: `fts_query` keeps only words and quotes each one as a
phrase, so ``OR``, ``NEAR(``, ``*``, ``"``, ``-`` and ``column:`` are searched for as text (or
dropped, being punctuation) and cannot raise an FTS5 syntax error.

One connection serves every thread under a lock. The SDK runs sync tools on worker threads, and a
search takes about 70 µs, so the lock is cheaper than a connection per call: measured over 2,000
searches on two cores, 70 µs each with the lock against 160 µs with a fresh connection to a
shared-cache in-memory copy (and 125 µs against 235 µs of wall time per search from 8 threads),
a new connection having to load the schema before its first query.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from servers.knowledge_base._articles import Article, generate_articles

__all__ = ["CollectionCount", "KnowledgeBaseStore", "QueryError", "SearchHit", "SearchResult", "fts_query"]

MAX_LIMIT = 50

# Words a question carries that say nothing about its subject ("how do I reset my password").
# Dropped only while other words remain, so a query of nothing but "not" still searches for "not".
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it my of on or our the to "
    "we what when where why will with you your".split()
)
# What the FTS5 unicode61 tokenizer treats as word characters: letters and digits, not "_".
_WORD = re.compile(r"[^\W_]+")
# Column weights for bm25(): a word in the title says far more than one in the body.
_TITLE_WEIGHT, _BODY_WEIGHT, _TAGS_WEIGHT = 8.0, 1.0, 4.0

_SCHEMA = """
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    collection TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, article_id)
);
CREATE INDEX articles_by_collection ON articles(collection);
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, body, tags,
    content='articles', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
"""

_SEARCH = f"""
SELECT a.id, a.title, a.collection, a.tags, a.updated_at,
       snippet(articles_fts, 1, '**', '**', '…', 24) AS snippet,
       bm25(articles_fts, {_TITLE_WEIGHT}, {_BODY_WEIGHT}, {_TAGS_WEIGHT}) AS rank
FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid
WHERE articles_fts MATCH :match
  AND (:collection IS NULL OR a.collection = :collection)
  AND (:tag IS NULL OR EXISTS (
        SELECT 1 FROM article_tags AS t WHERE t.article_id = a.id AND t.tag = :tag))
ORDER BY rank, a.id
LIMIT :limit
"""  # noqa: S608 - the interpolated values are the float constants above, never input.


class QueryError(ValueError):
    """A search the store refuses; the message names the problem and the fix."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked search result; ``score`` is bm25 relevance with higher meaning better."""

    article_id: int
    title: str
    collection: str
    tags: tuple[str, ...]
    snippet: str
    score: float
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The hits, and whether they contain every word of the query or only some."""

    hits: tuple[SearchHit, ...]
    matched: Literal["all_words", "any_word"]


@dataclass(frozen=True, slots=True)
class CollectionCount:
    """A collection and how many articles it holds."""

    name: str
    article_count: int


def fts_query(text: str, joiner: Literal[" ", " OR "] = " ") -> str:
    """Turn user text into an FTS5 query that can only mean "these words".

    Args:
        text: Whatever the caller typed.
        joiner: ``" "`` to require every word (FTS5's implicit AND), ``" OR "`` to accept any.

    Returns:
        The words of ``text``, each quoted as a phrase, joined by ``joiner``.

    Raises:
        QueryError: If ``text`` holds no letters or digits to search for.
    """
    words = [word.lower() for word in _WORD.findall(text)]
    if not words:
        raise QueryError(
            f"The search query {text!r} has no words to search for: use letters or digits, "
            "for example 'reset password'."
        )
    meaningful = [word for word in words if word not in _STOPWORDS] or words
    # A word never holds a double quote (see _WORD), so wrapping it in quotes cannot be escaped.
    return joiner.join(f'"{word}"' for word in dict.fromkeys(meaningful))


class KnowledgeBaseStore:
    """A read-only full-text index over help-centre articles, safe to share between threads."""

    def __init__(self, articles: Iterable[Article], *, built_at: datetime | None = None) -> None:
        """Load ``articles`` into a fresh in-memory database.

        Args:
            articles: The corpus to index.
            built_at: When the index was built (aware); defaults to now, in UTC.

        Raises:
            ValueError: If ``built_at`` is naive.
        """
        built_at = built_at or datetime.now(UTC)
        if built_at.tzinfo is None:
            raise ValueError("built_at must be timezone-aware, for example datetime.now(UTC)")
        self.built_at = built_at
        self._lock = threading.Lock()
        # check_same_thread=False is safe only because every use below holds self._lock.
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        # A server has no shutdown hook for its tools' state: close the database with the store.
        weakref.finalize(self, self._db.close)
        with self._db:
            self._db.executescript(_SCHEMA)
            self._insert(list(articles))
        self._collections = self._load_collections()
        self._tags = frozenset(row[0] for row in self._db.execute("SELECT DISTINCT tag FROM article_tags"))

    @classmethod
    def build(cls) -> KnowledgeBaseStore:
        """Index the generated help-centre corpus; the index's ``built_at`` is now."""
        return cls(generate_articles())

    @property
    def article_count(self) -> int:
        """How many articles the index holds."""
        return sum(c.article_count for c in self._collections)

    def search(
        self, query: str, collection: str | None = None, tag: str | None = None, limit: int = 10
    ) -> SearchResult:
        """Rank articles by relevance to ``query``.

        Articles holding every word of the query are returned when there are any; otherwise
        articles holding any of its words (``matched`` says which).

        Args:
            query: Free text; FTS5 operators in it are searched for as plain words.
            collection: Only articles in this collection (case-insensitive).
            tag: Only articles carrying this tag (case-insensitive).
            limit: At most this many hits, 1 to 50.

        Returns:
            The hits, best first.

        Raises:
            QueryError: If the query has no words, the collection or tag is unknown, or the
                limit is out of range.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        params = {
            "collection": self._known_collection(collection),
            "tag": self._known_tag(tag),
            "limit": limit,
        }
        all_words = fts_query(query)
        with self._lock:
            rows = self._db.execute(_SEARCH, {**params, "match": all_words}).fetchall()
            matched: Literal["all_words", "any_word"] = "all_words"
            if not rows:
                rows = self._db.execute(_SEARCH, {**params, "match": fts_query(query, " OR ")}).fetchall()
                matched = "any_word"
        hits = tuple(
            SearchHit(
                article_id=row[0],
                title=row[1],
                collection=row[2],
                tags=tuple(row[3].split()),
                updated_at=datetime.fromisoformat(row[4]),
                snippet=row[5],
                score=round(-row[6], 4),
            )
            for row in rows
        )
        return SearchResult(hits=hits, matched=matched)

    def get(self, article_id: int) -> Article | None:
        """The article with this id, or None when there is none."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, slug, collection, title, body, tags, updated_at FROM articles WHERE id = ?",
                (article_id,),
            ).fetchone()
        if row is None:
            return None
        return Article(
            id=row[0],
            slug=row[1],
            collection=row[2],
            title=row[3],
            body=row[4],
            tags=tuple(row[5].split()),
            updated_at=datetime.fromisoformat(row[6]),
        )

    def collections(self) -> tuple[CollectionCount, ...]:
        """Every collection with its article count, by name."""
        return self._collections

    def _insert(self, articles: list[Article]) -> None:
        self._db.executemany(
            "INSERT INTO articles (id, slug, collection, title, body, tags, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (a.id, a.slug, a.collection, a.title, a.body, " ".join(a.tags), a.updated_at.isoformat())
                for a in articles
            ],
        )
        self._db.executemany(
            "INSERT INTO article_tags (article_id, tag) VALUES (?, ?)",
            [(a.id, tag) for a in articles for tag in a.tags],
        )
        # An external-content FTS table is filled from its content table in one statement.
        self._db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")

    def _load_collections(self) -> tuple[CollectionCount, ...]:
        rows = self._db.execute(
            "SELECT collection, count(*) FROM articles GROUP BY collection ORDER BY collection"
        ).fetchall()
        return tuple(CollectionCount(name=name, article_count=count) for name, count in rows)

    def _known_collection(self, collection: str | None) -> str | None:
        if collection is None:
            return None
        names = [c.name for c in self._collections]
        if (wanted := collection.strip().lower()) not in names:
            raise QueryError(
                f"Unknown collection {collection!r}; use one of {', '.join(names)} (see list_collections)."
            )
        return wanted

    def _known_tag(self, tag: str | None) -> str | None:
        if tag is None:
            return None
        if (wanted := tag.strip().lower()) not in self._tags:
            raise QueryError(f"No article is tagged {tag!r}; search without a tag to see the tags articles carry.")
        return wanted
