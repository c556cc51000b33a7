"""The catalog's store: an in-memory SQLite database with an FTS5 index, built at server start.

In memory rather than a file in ``data_dir`` because nothing outlives a run: the rows are
generated (`data.catalog_products`), the tools only read, and each source's last sync is computed
from the server's start time. A file would hold sync times from an earlier start, which would be
wrong the moment they were read back.

One connection serves every worker thread under a lock; a lookup takes well under a millisecond.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from servers.catalog.data import SOURCES, Product, catalog_products

__all__ = ["CatalogStore", "SearchPage", "SearchTextError", "StoredProduct"]

_SCHEMA = """
CREATE TABLE sources (name TEXT PRIMARY KEY, currency TEXT NOT NULL, warehouse TEXT NOT NULL,
                      last_sync TEXT NOT NULL);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    brand TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    source TEXT NOT NULL REFERENCES sources (name),
    price TEXT NOT NULL,
    stock INTEGER NOT NULL
);
CREATE VIRTUAL TABLE products_fts USING fts5(
    name, brand, category, description,
    content='products', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
"""

_COLUMNS = "p.sku, p.name, p.brand, p.category, p.description, p.source, p.price, p.stock, s.currency, s.warehouse"
_FILTERS = "(:category IS NULL OR p.category = :category) AND (:in_stock = 0 OR p.stock > 0)"
# bm25 column weights: a word in the name matters most, then brand, category, description.
_SEARCH = f"""
WITH hits AS MATERIALIZED (
    SELECT rowid AS id, bm25(products_fts, 10.0, 4.0, 2.0, 1.0) AS rank
    FROM products_fts WHERE products_fts MATCH :match
)
SELECT {_COLUMNS}, count(*) OVER () AS total
FROM hits JOIN products AS p ON p.id = hits.id JOIN sources AS s ON s.name = p.source
WHERE {_FILTERS}
ORDER BY hits.rank, p.sku
LIMIT :limit
"""  # noqa: S608 - only the constant fragments above are interpolated
_BROWSE = f"""
SELECT {_COLUMNS}, count(*) OVER () AS total
FROM products AS p JOIN sources AS s ON s.name = p.source
WHERE {_FILTERS}
ORDER BY p.name, p.sku
LIMIT :limit
"""  # noqa: S608
_GET = f"SELECT {_COLUMNS}, 1 FROM products AS p JOIN sources AS s ON s.name = p.source WHERE p.sku = ?"  # noqa: S608

_WORD = re.compile(r"[^\W_]+")


class SearchTextError(ValueError):
    """Search text with nothing to search for."""


@dataclass(frozen=True, slots=True)
class StoredProduct:
    """A product with its source's currency, warehouse and last sync."""

    sku: str
    name: str
    brand: str
    category: str
    description: str
    source: str
    price: Decimal
    currency: str
    stock: int
    warehouse: str
    synced_at: datetime


@dataclass(frozen=True, slots=True)
class SearchPage:
    """The first `limit` matches and how many there were in all."""

    products: list[StoredProduct]
    total: int


class CatalogStore:
    """The catalog, queried by SKU or by words and filters."""

    def __init__(self, products: tuple[Product, ...], last_sync: dict[str, datetime]) -> None:
        self.last_sync = dict(last_sync)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._db.executemany(
            "INSERT INTO sources VALUES (?, ?, ?, ?)",
            [(s.name, s.currency, s.warehouse, last_sync[s.name].isoformat()) for s in SOURCES],
        )
        self._db.executemany(
            "INSERT INTO products (sku, name, brand, category, description, source, price, stock) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(p.sku, p.name, p.brand, p.category, p.description, p.source, str(p.price), p.stock) for p in products],
        )
        self._db.execute("INSERT INTO products_fts (products_fts) VALUES ('rebuild')")

    @classmethod
    def build(cls, sync_times: dict[str, datetime]) -> CatalogStore:
        """The demo catalog, with each source's last sync as given."""
        return cls(catalog_products(), sync_times)

    def get(self, sku: str) -> StoredProduct | None:
        """The product with this SKU (case-insensitive), or None."""
        with self._lock:
            row = self._db.execute(_GET, (sku.upper(),)).fetchone()
        return None if row is None else self._product(row)

    def search(self, text: str | None, *, category: str | None, in_stock: bool, limit: int) -> SearchPage:
        """Products matching every word of `text` (best first), or all products by name when None.

        Raises:
            SearchTextError: `text` holds no letters or digits.
        """
        params: dict[str, object] = {"category": category, "in_stock": int(in_stock), "limit": limit}
        query = _BROWSE
        if text is not None:
            words = _WORD.findall(text.lower())
            if not words:
                raise SearchTextError(
                    f"The search text {text!r} has no letters or digits; search for words such as 'kettle'."
                )
            # Each word quoted as a prefix phrase: FTS5 syntax in the text is searched for, never run.
            params["match"] = " ".join(f'"{word}"*' for word in words)
            query = _SEARCH
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return SearchPage(products=[self._product(row) for row in rows], total=int(rows[0][-1]) if rows else 0)

    def _product(self, row: tuple[object, ...]) -> StoredProduct:
        sku, name, brand, category, description, source, price, stock, currency, warehouse, _ = row
        return StoredProduct(
            sku=str(sku),
            name=str(name),
            brand=str(brand),
            category=str(category),
            description=str(description),
            source=str(source),
            price=Decimal(str(price)),
            currency=str(currency),
            stock=int(str(stock)),
            warehouse=str(warehouse),
            synced_at=self.last_sync[str(source)],
        )
