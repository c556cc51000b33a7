"""The words the demo store is generated from: names, places, companies and the product range."""

from __future__ import annotations

__all__ = ["CATALOGUE", "CHANNELS", "COMPANY_KINDS", "COMPANY_WORDS", "EMAIL_DOMAINS", "GEOGRAPHY", "NAMES", "PROMOS"]

# name pool -> (first names, last names); "_" joins a multi-word surname.
NAMES = {
    "en": (
        "James Olivia Liam Emma Noah Ava Ethan Sophia Mason Isabella Lucas Mia Henry Charlotte "
        "Jack Amelia Owen Harper Caleb Grace Wyatt Chloe Ryan Hannah",
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
        "Martin Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott",
    ),
    "de": (
        "Lukas Anna Jonas Lea Felix Lena Paul Marie Max Sophie Elias Hannah Leon Emilia",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schulz Koch Richter",
    ),
    "fr": (
        "Louis Camille Hugo Léa Arthur Chloé Jules Manon Gabriel Inès Raphaël Jade",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Laurent Girard",
    ),
    "nl": (
        "Daan Emma Sem Julia Lucas Tess Levi Sophie Finn Sara Milan Fenna",
        "de_Jong Jansen de_Vries van_den_Berg Bakker Visser Smit Meijer de_Boer Mulder",
    ),
    "es": (
        "Mateo Sofía Santiago Valentina Diego Lucía Sebastián Camila Alejandro Mariana Daniel Elena",
        "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores Díaz",
    ),
    "pt": (
        "Miguel Alice Arthur Helena Heitor Laura Bernardo Manuela Davi Beatriz",
        "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes",
    ),
    "sv": (
        "William Alice Oscar Maja Hugo Elsa Lucas Astrid Elias Wilma",
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson",
    ),
    "ja": (
        "Haruto Yui Sota Hina Yuto Aoi Riku Mei Kaito Sakura",
        "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato",
    ),
}

# region -> [(country, name pool, share of customers, cities)]
GEOGRAPHY = {
    "North America": [
        ("US", "en", 34, "New York,Chicago,Austin,Seattle,Denver,Atlanta,Boston,San Diego,Portland,Minneapolis"),
        ("CA", "en", 7, "Toronto,Vancouver,Montreal,Calgary"),
    ],
    "Europe": [
        ("GB", "en", 10, "London,Manchester,Bristol,Edinburgh"),
        ("DE", "de", 8, "Berlin,Munich,Hamburg,Cologne"),
        ("FR", "fr", 6, "Paris,Lyon,Nantes"),
        ("NL", "nl", 4, "Amsterdam,Utrecht,Rotterdam"),
        ("ES", "es", 3, "Madrid,Barcelona,Valencia"),
        ("SE", "sv", 2, "Stockholm,Gothenburg"),
        ("IE", "en", 2, "Dublin,Cork"),
    ],
    "Asia Pacific": [
        ("AU", "en", 7, "Sydney,Melbourne,Brisbane,Perth"),
        ("JP", "ja", 4, "Tokyo,Osaka,Yokohama"),
        ("SG", "en", 1, "Singapore"),
        ("NZ", "en", 1, "Auckland,Wellington"),
    ],
    "Latin America": [
        ("MX", "es", 4, "Mexico City,Guadalajara,Monterrey"),
        ("BR", "pt", 3, "São Paulo,Rio de Janeiro"),
        ("CL", "es", 1, "Santiago"),
        ("CO", "es", 1, "Bogotá,Medellín"),
    ],
}

COMPANY_WORDS = (
    "Northwind Bluefin Cedar Summit Harbor Copperleaf Ironwood Lakeside Meridian Oakridge "
    "Pinecrest Redstone Silverline Tidewater Brightpath Foxglove"
).split()
COMPANY_KINDS = "Studio,Logistics,Design,Consulting,Hospitality,Outfitters,Labs,Partners,Workshop,Cafe".split(",")
# Reserved names (RFC 2606 .example): realistic addresses that can never reach a real person.
EMAIL_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example")

# category -> (sku prefix, [(product, list price in USD before the 2025 rise, variants joined by |)])
CATALOGUE = {
    "Kitchen": (
        "KIT",
        [
            ("Chef's Knife 8in", 89.0, "Carbon Steel|Stainless"),
            ("Cast Iron Skillet", 44.0, "10in|12in"),
            ("Pour-Over Coffee Kettle", 59.0, "Matte Black|Copper"),
            ("French Press 1L", 34.0, "Glass|Steel"),
            ("Burr Coffee Grinder", 129.0, ""),
            ("Enamel Dutch Oven 5.5qt", 179.0, "Sage|Cream|Flame"),
            ("Bamboo Cutting Board", 29.0, "Medium|Large"),
            ("Glass Food Storage Set", 39.0, "10-piece|18-piece"),
            ("Silicone Spatula Set", 19.0, ""),
            ("Stoneware Mug Set of 4", 42.0, "Speckled|Slate"),
            ("Chef's Apron", 38.0, "Denim|Canvas"),
            ("Espresso Tamper", 29.0, ""),
            ("Copper Measuring Cups", 32.0, ""),
        ],
    ),
    "Home": (
        "HOM",
        [
            ("Linen Duvet Cover", 149.0, "Queen Sage|Queen Oat|King Oat"),
            ("Wool Throw Blanket", 98.0, "Charcoal|Rust"),
            ("Ceramic Table Lamp", 119.0, "White|Terracotta"),
            ("Soy Candle 8oz", 24.0, "Cedar|Fig|Sea Salt"),
            ("Cotton Bath Towel Set", 64.0, "White|Stone"),
            ("Blackout Curtains 84in", 79.0, "Navy|Grey"),
            ("Memory Foam Pillow", 59.0, "Standard|King"),
            ("Woven Storage Basket", 36.0, "Small|Large"),
            ("Indoor Planter 10in", 45.0, ""),
            ("Linen Napkins Set of 4", 34.0, "Oat|Sage"),
            ("Wall Clock 12in", 55.0, "Walnut|Black"),
            ("Coir Doormat", 28.0, ""),
        ],
    ),
    "Outdoor": (
        "OUT",
        [
            ("Backpacking Tent", 329.0, "2-Person|3-Person"),
            ("Down Sleeping Bag 20F", 249.0, "Regular|Long"),
            ("Trekking Poles Pair", 89.0, ""),
            ("Insulated Water Bottle 750ml", 32.0, "Forest|Sand|Black"),
            ("Camp Stove", 69.0, ""),
            ("Rechargeable Headlamp", 39.0, ""),
            ("Daypack 28L", 119.0, "Olive|Black"),
            ("Camping Hammock", 65.0, ""),
            ("Hard Cooler 45qt", 219.0, "White|Tan"),
            ("Packable Rain Jacket", 139.0, "M|L|XL"),
            ("Folding Camp Chair", 59.0, "Green|Grey"),
            ("Solar Lantern", 42.0, ""),
            ("Trail Running Vest", 95.0, "S/M|L/XL"),
        ],
    ),
    "Office": (
        "OFF",
        [
            ("Ergonomic Office Chair", 389.0, "Black|Grey"),
            ("Standing Desk Frame", 449.0, ""),
            ("Monitor Arm", 99.0, "Single|Dual"),
            ("Mechanical Keyboard", 129.0, "Tactile|Linear"),
            ("Wireless Mouse", 49.0, ""),
            ("LED Desk Lamp", 69.0, "Black|White"),
            ("Dotted Notebook A5", 18.0, "3-Pack"),
            ("Aluminium Laptop Stand", 54.0, ""),
            ("Cable Organizer Kit", 22.0, ""),
            ("Desk Organizer Set", 36.0, "Oak|Black"),
            ("Quiet Desk Fan", 59.0, ""),
            ("Fountain Pen", 45.0, "Fine|Medium"),
        ],
    ),
    "Audio": (
        "AUD",
        [
            ("Wireless Earbuds", 129.0, "Black|White"),
            ("Noise-Cancelling Headphones", 279.0, "Black|Silver"),
            ("Portable Bluetooth Speaker", 89.0, "Blue|Black|Red"),
            ("Belt-Drive Turntable", 299.0, ""),
            ("Bookshelf Speakers Pair", 349.0, "Walnut|Black"),
            ("Compact Soundbar", 199.0, ""),
            ("USB Podcast Microphone", 119.0, ""),
            ("Portable Radio", 59.0, ""),
            ("Headphone Stand", 34.0, "Walnut|Black"),
            ("Streaming Amplifier", 249.0, ""),
        ],
    ),
    "Fitness": (
        "FIT",
        [
            ("Cork Yoga Mat", 68.0, "4mm|6mm"),
            ("Adjustable Dumbbells 25lb", 229.0, ""),
            ("Resistance Bands Set", 29.0, ""),
            ("Foam Roller", 35.0, "Smooth|Textured"),
            ("Speed Jump Rope", 24.0, ""),
            ("Kettlebell", 59.0, "12kg|16kg|20kg"),
            ("Fitness Tracker Band", 99.0, "Black|Coral"),
            ("Pull-Up Bar", 39.0, ""),
            ("Weighted Vest 20lb", 89.0, ""),
            ("Balance Board", 49.0, ""),
            ("Gym Towel Set", 22.0, ""),
        ],
    ),
}

CHANNELS = (("web", 55), ("mobile_app", 30), ("marketplace", 10), ("phone", 5))
PROMOS = (("WELCOME10", 0.10), ("SPRING15", 0.15), ("LOYAL20", 0.20))
