"""The demo store's data, generated from a fixed seed: the same rows on every machine, every build.

An online home-and-outdoor goods store: 500 customers on four continents, 120 products in six
categories, 5,000 orders from 2024-10-01 to 2026-09-30 with growth, a holiday peak and a Black
Friday week, a 5% list-price rise on 2025-03-01, promotions, a few products launched or dropped
along the way, and statuses that follow an order's age (the last days' orders are still pending,
processing or in transit). Nothing here reads the clock: the data ends at `DATA_END`.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from servers.analytics._vocabulary import (
    CATALOGUE,
    CHANNELS,
    COMPANY_KINDS,
    COMPANY_WORDS,
    EMAIL_DOMAINS,
    GEOGRAPHY,
    NAMES,
    PROMOS,
)

__all__ = ["DATA_END", "DATA_START", "GENERATOR_VERSION", "DemoData", "generate"]

GENERATOR_VERSION = "1"
"""Bump when the generated data changes, so that existing databases are rebuilt."""

SEED = 20261001
DATA_START = datetime(2024, 10, 1, tzinfo=UTC)
DATA_END = datetime(2026, 10, 1, tzinfo=UTC)
CUSTOMERS, ORDERS = 500, 5000
PRICE_RISE_ON, PRICE_RISE = datetime(2025, 3, 1, tzinfo=UTC), 1.05
FREE_SHIPPING_FROM, SHIPPING_FEE = 75.0, 6.95

Row = tuple[object, ...]


@dataclass
class DemoData:
    """Rows for each demo table, as tuples in the table's column order."""

    customers: list[Row] = field(default_factory=list)
    products: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    order_items: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Customer:
    id: int
    created: datetime
    loyalty: float  # relative chance of placing any given order


@dataclass(frozen=True, slots=True)
class _Product:
    id: int
    base_price: float
    launched: date
    dropped: date | None
    popularity: float

    def on_sale(self, day: date) -> bool:
        return self.launched <= day and (self.dropped is None or day <= self.dropped)


def generate() -> DemoData:
    """The demo store's rows, identical on every call."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    data = DemoData()
    customers = _customers(rng, data)
    products = _products(rng, data)
    _orders(rng, data, customers, products)
    return data


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _customers(rng: random.Random, data: DemoData) -> list[_Customer]:
    places = [(region, *place) for region, region_places in GEOGRAPHY.items() for place in region_places]
    first_signup = DATA_START - timedelta(days=480)
    span_minutes = int((DATA_END - timedelta(days=14) - first_signup).total_seconds() // 60)
    signups = sorted(first_signup + timedelta(minutes=rng.randrange(span_minutes)) for _ in range(CUSTOMERS))
    emails: set[str] = set()
    customers = []
    for customer_id, created in enumerate(signups, start=1):
        region, country, pool, _, cities = rng.choices(places, weights=[place[3] for place in places])[0]
        firsts, lasts = (names.split() for names in NAMES[pool])
        first, last = rng.choice(firsts), rng.choice(lasts).replace("_", " ")
        segment = rng.choices(("consumer", "small_business", "enterprise"), weights=(70, 22, 8))[0]
        company = None if segment == "consumer" else f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        domain = f"{company.lower().replace(' ', '-')}.example" if company else rng.choice(EMAIL_DOMAINS)
        local = f"{first}.{last}".lower().replace(" ", "")
        email = next(
            address for n in itertools.count(1) if (address := f"{local}{n if n > 1 else ''}@{domain}") not in emails
        )
        emails.add(email)
        city = rng.choice(cities.split(","))
        data.customers.append(
            (customer_id, f"{first} {last}", email, company, segment, country, city, region, _ts(created))
        )
        loyalty = min(rng.lognormvariate(0, 0.7), 5.0) * (1.8 if segment == "enterprise" else 1.0)
        customers.append(_Customer(customer_id, created, loyalty))
    return customers


def _products(rng: random.Random, data: DemoData) -> list[_Product]:
    products: list[_Product] = []
    for category, (prefix, items) in CATALOGUE.items():
        for name, price, variants in items:
            for variant in variants.split("|"):
                product_id = len(products) + 1
                launched = date(2023, 1, 16)
                if rng.random() < 0.25:  # a quarter of the range arrived later
                    launched += timedelta(days=rng.randrange(200, 940))
                dropped = None
                if rng.random() < 0.08:
                    candidate = (DATA_START + timedelta(days=rng.randrange(90, 640))).date()
                    dropped = candidate if candidate > launched + timedelta(days=60) else None
                cost = round(price * rng.uniform(0.38, 0.58), 2)
                data.products.append(
                    (
                        product_id,
                        f"{prefix}-{1000 + product_id}",
                        f"{name}, {variant}" if variant else name,
                        category,
                        round(price * PRICE_RISE, 2),
                        cost,
                        launched.isoformat(),
                        dropped.isoformat() if dropped else None,
                    )
                )
                products.append(_Product(product_id, price, launched, dropped, rng.lognormvariate(0, 0.6)))
    return products


def _day_weight(day: datetime) -> float:
    growth = 1 + 0.35 * (day - DATA_START).days / 730
    season = {11: 1.5, 12: 1.8, 1: 0.8, 2: 0.85}.get(day.month, 1.0)
    if day.month == 11 and 23 <= day.day <= 30:  # Black Friday week
        season = 3.0
    weekend = 1.15 if day.weekday() >= 5 else 1.0
    return growth * season * weekend


def _order_times(rng: random.Random) -> list[datetime]:
    days = [DATA_START + timedelta(days=n) for n in range((DATA_END - DATA_START).days)]
    chosen = rng.choices(days, weights=[_day_weight(day) for day in days], k=ORDERS)
    # Evenings are busiest (UTC, good enough for a demo).
    hour_weights = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 6, 6, 6, 7, 8, 9, 10, 9, 6, 3)
    return sorted(
        day + timedelta(hours=rng.choices(range(24), weights=hour_weights)[0], seconds=rng.randrange(3600))
        for day in chosen
    )


def _status(rng: random.Random, placed: datetime) -> tuple[str, datetime | None, datetime | None]:
    shipped = placed + timedelta(hours=rng.randrange(18, 72))
    delivered = shipped + timedelta(hours=rng.randrange(40, 150))
    if rng.random() < 0.04:
        return "cancelled", None, None
    if shipped >= DATA_END:
        return ("pending" if DATA_END - placed < timedelta(hours=12) else "processing"), None, None
    if delivered >= DATA_END:
        return "shipped", shipped, None
    return ("refunded" if rng.random() < 0.04 else "delivered"), shipped, delivered


def _orders(rng: random.Random, data: DemoData, customers: list[_Customer], products: list[_Product]) -> None:
    signups = [customer.created for customer in customers]
    cumulative = list(itertools.accumulate(customer.loyalty for customer in customers))
    for order_id, placed in enumerate(_order_times(rng), start=1):
        # Only customers who had signed up by then can order; weights favour loyal ones.
        eligible = max(1, bisect.bisect_left(signups, placed))
        customer = rng.choices(customers[:eligible], cum_weights=cumulative[:eligible])[0]
        on_sale = [product for product in products if product.on_sale(placed.date())]
        lines = rng.choices((1, 2, 3, 4, 5), weights=(45, 30, 15, 7, 3))[0]
        picked = rng.choices(on_sale, weights=[product.popularity for product in on_sale], k=lines)
        subtotal = 0.0
        for product in dict.fromkeys(picked):  # the same product twice is one line
            quantity = rng.choices((1, 2, 3, 4, 6), weights=(75, 17, 5, 2, 1))[0]
            unit_price = round(product.base_price * (PRICE_RISE if placed >= PRICE_RISE_ON else 1.0), 2)
            subtotal += quantity * unit_price
            data.order_items.append((len(data.order_items) + 1, order_id, product.id, quantity, unit_price))
        subtotal = round(subtotal, 2)
        promo, rate = None, 0.0
        if placed.month == 11 and 23 <= placed.day <= 30:
            promo, rate = "BLACKFRIDAY25", 0.25
        elif rng.random() < 0.12:
            promo, rate = rng.choice(PROMOS)
        discount = round(subtotal * rate, 2)
        shipping = 0.0 if subtotal >= FREE_SHIPPING_FROM else SHIPPING_FEE
        status, shipped, delivered = _status(rng, placed)
        channel = rng.choices([name for name, _ in CHANNELS], weights=[weight for _, weight in CHANNELS])[0]
        data.orders.append(
            (
                order_id,
                customer.id,
                _ts(placed),
                status,
                channel,
                promo,
                subtotal,
                discount,
                shipping,
                round(subtotal - discount + shipping, 2),
                _ts(shipped) if shipped else None,
                _ts(delivered) if delivered else None,
            )
        )
