"""The demo database's tables, with the descriptions list_tables and describe_table show.

Timestamps are UTC text in SQLite's own format (``YYYY-MM-DD HH:MM:SS``), so ``date()``,
``strftime()`` and string comparison all work on them; money is USD as REAL rounded to cents.
"""

from __future__ import annotations

__all__ = ["COLUMN_NOTES", "DDL", "DEMO_TABLES", "METADATA_TABLE", "TABLE_DESCRIPTIONS"]

METADATA_TABLE = "dataset_info"
"""Key/value facts about the build (built_at, generator version); never queryable by callers."""

DEMO_TABLES = ("customers", "products", "orders", "order_items")

DDL = f"""
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    company TEXT,
    segment TEXT NOT NULL CHECK (segment IN ('consumer', 'small_business', 'enterprise')),
    country TEXT NOT NULL,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit_price REAL NOT NULL,
    unit_cost REAL NOT NULL,
    launched_on TEXT NOT NULL,
    discontinued_on TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    placed_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (
        status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded')
    ),
    channel TEXT NOT NULL,
    promo_code TEXT,
    subtotal REAL NOT NULL,
    discount REAL NOT NULL,
    shipping REAL NOT NULL,
    total REAL NOT NULL,
    shipped_at TEXT,
    delivered_at TEXT
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price REAL NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id);
CREATE INDEX orders_by_placed_at ON orders (placed_at);
CREATE INDEX order_items_by_order ON order_items (order_id);
CREATE INDEX order_items_by_product ON order_items (product_id);
CREATE TABLE {METADATA_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

TABLE_DESCRIPTIONS: dict[str, str] = {
    "customers": "People and businesses who signed up to the store, one row each.",
    "products": "The store's catalogue: current list price and unit cost per product.",
    "orders": "Orders placed over two years (Oct 2024 - Sep 2026), one row per order, with its totals.",
    "order_items": "The lines of each order: product, quantity and the price paid per unit.",
}

COLUMN_NOTES: dict[str, dict[str, str]] = {
    "customers": {
        "company": "Company name for business customers; NULL for consumers.",
        "segment": "consumer, small_business or enterprise.",
        "country": "ISO 3166-1 alpha-2 code, e.g. US, DE, JP.",
        "region": "North America, Europe, Asia Pacific or Latin America.",
        "created_at": "Sign-up time, UTC, 'YYYY-MM-DD HH:MM:SS'.",
    },
    "products": {
        "sku": "Stock-keeping unit; the prefix names the category (KIT, HOM, OUT, OFF, AUD, FIT).",
        "category": "Kitchen, Home, Outdoor, Office, Audio or Fitness.",
        "unit_price": "Current list price in USD (order_items.unit_price holds what was paid).",
        "unit_cost": "What one unit costs the store, in USD.",
        "launched_on": "First day on sale, 'YYYY-MM-DD'.",
        "discontinued_on": "Last day on sale, or NULL while still sold.",
    },
    "orders": {
        "placed_at": "When the order was placed, UTC, 'YYYY-MM-DD HH:MM:SS'.",
        "status": "pending, processing, shipped, delivered, cancelled or refunded.",
        "channel": "web, mobile_app, marketplace or phone.",
        "promo_code": "The promotion applied, or NULL.",
        "subtotal": "Sum of quantity * unit_price over the order's lines, USD.",
        "discount": "Promotion discount, USD (subtracted).",
        "shipping": "Shipping fee, USD; free from a 75.00 subtotal.",
        "total": "subtotal - discount + shipping, USD. Cancelled orders were never charged.",
        "shipped_at": "When the order left the warehouse, or NULL.",
        "delivered_at": "When the carrier delivered it, or NULL.",
    },
    "order_items": {
        "unit_price": "Price paid per unit in USD, before the order's discount.",
    },
}
