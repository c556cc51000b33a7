"""The demo catalog: ~200 products whose price and stock each come from one named source.

Three sources feed the catalog, each syncing on its own schedule:

- ``erp-eu``: the European ERP (EUR, warehouse Rotterdam). Feeds every ``EU-`` SKU: the house
  brands' European range. Last synced 7 minutes before the server started.
- ``erp-us``: the US ERP (USD, warehouse Reno). Feeds every ``US-`` SKU: the same house-brand
  models, priced for the US. Last synced 1 hour 50 minutes before the server started.
- ``supplier-feed-acme``: Acme Outdoor Supply's drop-ship feed (USD). Feeds every ``ACME-`` SKU:
  the Acme Outdoor range (tents, sleeping bags, stoves, packs...; 28 products, all in category
  ``outdoor``). **Stale on purpose**: last synced 23 days before the server started, so its
  prices and stock are weeks old whenever the demo runs.

Sync times are offsets back from the server's start (`sync_times`), never fixed dates, so the
stale source stays stale and the others fresh. Everything else is fixed: the same SKUs, prices
and stock on every machine.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = [
    "CATEGORIES",
    "SOURCES",
    "STALE_SOURCE",
    "Product",
    "Source",
    "catalog_products",
    "products_from",
    "source_named",
    "sync_times",
]

_SEED = 20261001


@dataclass(frozen=True, slots=True)
class Source:
    """A system that feeds prices and stock into the catalog."""

    name: str
    description: str
    currency: str
    warehouse: str
    sync_lag: timedelta
    """How long before the server's start this source last synced."""


SOURCES: tuple[Source, ...] = (
    Source("erp-eu", "European ERP, synced every 15 minutes", "EUR", "Rotterdam, NL", timedelta(minutes=7)),
    Source("erp-us", "US ERP, synced every 2 hours", "USD", "Reno, NV, US", timedelta(hours=1, minutes=50)),
    Source(
        "supplier-feed-acme",
        "Acme Outdoor Supply's drop-ship feed; its nightly export has been failing",
        "USD",
        "Acme Outdoor Supply (drop-ship)",
        timedelta(days=23),
    ),
)
STALE_SOURCE = "supplier-feed-acme"
"""The source whose last sync is weeks behind."""


@dataclass(frozen=True, slots=True)
class Product:
    """One sellable SKU with its price and stock as its source last reported them."""

    sku: str
    name: str
    brand: str
    category: str
    description: str
    source: str
    price: Decimal
    currency: str
    stock: int


# category -> (sku code, brand, [(model, base price in USD, variants joined by |, description)])
_HOUSE_RANGE = {
    "kitchen": (
        "KIT",
        "Tidewater Kitchen",
        [
            ("Pour-Over Kettle 1L", 59, "Matte Black|Brushed Steel|Copper", "Gooseneck spout for a slow, even pour."),
            ("Cast Iron Skillet", 44, "10in|12in", "Pre-seasoned, oven-safe to 260 °C."),
            ("Chef's Knife 8in", 89, "Carbon Steel|Stainless", "Full-tang blade with a walnut handle."),
            ("Enamel Dutch Oven 5.5qt", 179, "Sage|Cream|Flame", "Enamelled cast iron for braises and bread."),
            ("Burr Coffee Grinder", 129, "", "40 grind settings from espresso to cold brew."),
            ("Insulated Travel Mug 16oz", 28, "Black|Sand|Forest", "Keeps coffee hot for six hours; leak-proof lid."),
            ("Glass Food Storage Set", 39, "10-piece|18-piece", "Oven-safe borosilicate glass with snap lids."),
            ("Stoneware Mug Set of 4", 42, "Speckled|Slate", "Hand-glazed, dishwasher-safe mugs."),
            ("Bamboo Cutting Board", 29, "Medium|Large", "End-grain board with a juice groove."),
        ],
    ),
    "home": (
        "HOM",
        "Larch & Linen",
        [
            ("Linen Duvet Cover", 149, "Queen Sage|Queen Oat|King Oat|King Sage", "Stonewashed European flax linen."),
            ("Wool Throw Blanket", 98, "Charcoal|Rust|Oat", "Woven from soft merino lambswool."),
            ("Ceramic Table Lamp", 119, "White|Terracotta", "Linen shade, E27 bulb, inline dimmer."),
            ("Soy Candle 8oz", 24, "Cedar|Fig|Sea Salt", "Hand-poured, 50-hour burn time."),
            ("Cotton Bath Towel Set", 64, "White|Stone|Navy", "600 gsm long-staple cotton."),
            ("Blackout Curtains 84in", 79, "Navy|Grey", "Thermal-lined panels that block 99% of light."),
            ("Memory Foam Pillow", 59, "Standard|King", "Cooling gel foam with a washable cover."),
        ],
    ),
    "office": (
        "OFF",
        "Foundry Works",
        [
            ("Ergonomic Office Chair", 389, "Black|Grey", "Adjustable lumbar support and 4D armrests."),
            ("Standing Desk Frame", 449, "Black|White", "Dual-motor frame with four height presets."),
            ("Monitor Arm", 99, "Single|Dual", "Gas-spring arm for screens up to 32 inches."),
            ("Mechanical Keyboard", 129, "Tactile|Linear", "Hot-swappable switches, USB-C and Bluetooth."),
            ("Wireless Mouse", 49, "Graphite|Pale Grey", "Silent clicks, 70-day battery."),
            ("LED Desk Lamp", 69, "Black|White", "Adjustable colour temperature and a USB-C port."),
            ("Aluminium Laptop Stand", 54, "Silver|Space Grey", "Six height settings; folds flat."),
        ],
    ),
    "audio": (
        "AUD",
        "Meridian Audio",
        [
            ("Wireless Earbuds", 129, "Black|White", "Active noise cancelling, 30 hours with the case."),
            ("Noise-Cancelling Headphones", 279, "Black|Silver", "Over-ear, 40-hour battery, multipoint Bluetooth."),
            ("Portable Bluetooth Speaker", 89, "Blue|Black|Red", "Waterproof (IP67) with 12-hour playback."),
            ("Bookshelf Speakers Pair", 349, "Walnut|Black", "Powered speakers with phono input."),
            ("Compact Soundbar", 199, "", "Dolby Atmos virtual surround in 60 cm."),
            ("USB Podcast Microphone", 119, "", "Cardioid condenser with a headphone jack."),
        ],
    ),
    "fitness": (
        "FIT",
        "Kinetic",
        [
            ("Cork Yoga Mat", 68, "4mm|6mm", "Natural cork top over a grippy rubber base."),
            ("Adjustable Dumbbells 25lb", 229, "", "Dial from 5 to 25 lb in seconds."),
            ("Resistance Bands Set", 29, "Light|Heavy", "Five stackable bands with handles and door anchor."),
            ("Foam Roller", 35, "Smooth|Textured", "High-density EVA foam, 45 cm."),
            ("Kettlebell", 59, "8kg|12kg|16kg|20kg", "Cast iron with a powder-coated handle."),
            ("Speed Jump Rope", 24, "", "Ball-bearing handles and an adjustable cable."),
            ("Weighted Vest 20lb", 89, "", "Adjustable fit with removable weights."),
        ],
    ),
    "outdoor": (
        "OUT",
        "Trailhead",
        [
            ("Insulated Water Bottle 750ml", 32, "Forest|Black|Sand", "Double-walled steel; cold for 24 hours."),
            ("Rechargeable Headlamp", 39, "", "350 lumens, red night mode, USB-C charging."),
            ("Picnic Blanket", 49, "Plaid|Navy", "Water-resistant backing, folds into a carry strap."),
            ("Enamel Camp Mug", 18, "White|Green", "Enamelled steel, 350 ml."),
            ("Folding Picnic Table", 79, "", "Aluminium slats, rolls up into a carry bag."),
        ],
    ),
}
_ACME_RANGE = [
    ("Ridgeline Backpacking Tent", 329, "2-Person|3-Person", "Freestanding, 1.9 kg, two doors and vestibules."),
    ("Summit Down Sleeping Bag 20F", 249, "Regular|Long", "650-fill responsibly sourced down."),
    ("Trekking Poles Pair", 89, "Aluminium|Carbon", "Flick-lock adjustment, cork grips."),
    ("Trail Water Bottle 1L", 26, "Blue|Orange", "BPA-free Tritan bottle with a loop cap."),
    ("Canister Camp Stove", 69, "", "Boils a litre in 3.5 minutes; piezo ignition."),
    ("Camp Cookset 4-Piece", 55, "", "Hard-anodised pot, pan, mug and spork."),
    ("Daypack 28L", 119, "Olive|Black", "Ventilated back panel and hydration sleeve."),
    ("Ultralight Hammock", 65, "", "Parachute nylon, 300 lb capacity, tree straps included."),
    ("Hard Cooler 45qt", 219, "White|Tan", "Rotomoulded; keeps ice for five days."),
    ("Packable Rain Jacket", 139, "S|M|L|XL", "2.5-layer waterproof shell that packs into its pocket."),
    ("Folding Camp Chair", 59, "Green|Grey", "Aluminium frame, cup holder, 1.2 kg."),
    ("Solar Lantern", 42, "", "Inflatable, solar or USB charged."),
    ("Trail Running Vest", 95, "S/M|L/XL", "12 L with two soft flasks."),
    ("Insulated Sleeping Pad", 129, "Regular|Wide", "R-value 4.2, packs to the size of a bottle."),
    ("Squeeze Water Filter", 39, "", "0.1 micron hollow-fibre filter."),
    ("Headlamp 400 Lumen", 45, "", "Rechargeable, with a lock mode for your pack."),
]
CATEGORIES: tuple[str, ...] = tuple(_HOUSE_RANGE)
"""Every product category (Acme's range is all ``outdoor``)."""


def source_named(name: str) -> Source:
    """The source called `name`.

    Raises:
        KeyError: no source has that name.
    """
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)


def sync_times(started_at: datetime) -> dict[str, datetime]:
    """Each source's last sync, for a server that started at `started_at` (aware)."""
    return {source.name: started_at - source.sync_lag for source in SOURCES}


def products_from(source: str) -> list[Product]:
    """Every product whose price and stock come from `source`."""
    return [product for product in catalog_products() if product.source == source]


@functools.cache
def catalog_products() -> tuple[Product, ...]:
    """The whole catalog, identical on every call and every machine."""
    rng = random.Random(_SEED)  # noqa: S311 - reproducible demo data, not secrets
    products: list[Product] = []
    for category, (code, brand, models) in _HOUSE_RANGE.items():
        for number, (model, usd, variants, text) in enumerate(models, start=1):
            for index, variant in enumerate(variants.split("|"), start=1):
                name = f"{model}, {variant}" if variant else model
                tail = f"{code}-{number:02d}{index}"
                eur = Decimal(math.floor(usd * 0.95)) - Decimal("0.10")
                products.append(_product(rng, f"EU-{tail}", name, brand, category, text, "erp-eu", eur))
                usd_price = Decimal(usd) - Decimal("0.01")
                products.append(_product(rng, f"US-{tail}", name, brand, category, text, "erp-us", usd_price))
    for number, (model, usd, variants, text) in enumerate(_ACME_RANGE, start=1):
        for index, variant in enumerate(variants.split("|"), start=1):
            name = f"{model}, {variant}" if variant else model
            price = Decimal(usd) - Decimal("0.05")
            sku = f"ACME-{400 + number}-{index}"
            products.append(_product(rng, sku, name, "Acme Outdoor", "outdoor", text, STALE_SOURCE, price))
    return tuple(products)


def _product(
    rng: random.Random, sku: str, name: str, brand: str, category: str, text: str, source: str, price: Decimal
) -> Product:
    # About one SKU in eight is sold out; cheap items are stocked deeper than expensive ones.
    stock = 0 if rng.random() < 0.12 else rng.randint(1, 40 if price > 150 else 240)
    return Product(
        sku=sku,
        name=name,
        brand=brand,
        category=category,
        description=text,
        source=source,
        price=price,
        currency=source_named(source).currency,
        stock=stock,
    )
