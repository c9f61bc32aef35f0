"""Seeded synthetic product catalogue: the platform's demo and test data.

Titles and descriptions are composed from adjectives x product types per category; sellers and brands
are high-cardinality and partly specialised, as on a real marketplace. Knobs shift the distributions
so that drift detection and retraining can be exercised on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CATALOGUE: dict[str, dict[str, list[str]]] = {
    "electronics": {
        "types": ["wireless headphones", "bluetooth speaker", "smartphone", "tablet", "smartwatch",
                  "usb-c charger", "power bank", "laptop", "webcam", "gaming mouse", "mechanical keyboard",
                  "hdmi cable"],
        "features": ["noise cancelling", "fast charging", "long battery life", "4k display", "hi-fi sound",
                     "water resistant", "128gb storage", "backlit keys"],
    },
    "home_kitchen": {
        "types": ["frying pan", "chef knife", "coffee maker", "blender", "toaster", "cutting board",
                  "dinner plate set", "kettle", "stand mixer", "air fryer", "food container set", "saucepan"],
        "features": ["non-stick coating", "dishwasher safe", "stainless steel", "bpa free", "ceramic finish",
                     "easy to clean", "induction ready", "heat resistant handle"],
    },
    "fashion": {
        "types": ["cotton t-shirt", "denim jeans", "summer dress", "wool sweater", "leather jacket",
                  "running shorts", "silk scarf", "hoodie", "chino trousers", "linen shirt", "maxi skirt",
                  "rain coat"],
        "features": ["slim fit", "breathable fabric", "machine washable", "relaxed cut", "organic cotton",
                     "stretch denim", "soft lining", "hidden pockets"],
    },
    "beauty": {
        "types": ["face serum", "moisturising cream", "lipstick", "shampoo", "conditioner", "eye shadow palette",
                  "sunscreen spf 50", "perfume", "nail polish", "face mask", "body lotion", "hair oil"],
        "features": ["vitamin c", "hyaluronic acid", "paraben free", "long lasting", "vegan formula",
                     "dermatologist tested", "fragrance free", "for sensitive skin"],
    },
    "sports_outdoors": {
        "types": ["yoga mat", "dumbbell set", "camping tent", "hiking backpack", "water bottle", "tennis racket",
                  "football", "cycling helmet", "sleeping bag", "resistance bands", "trekking poles",
                  "swim goggles"],
        "features": ["lightweight", "anti-slip", "weatherproof", "ergonomic grip", "foldable",
                     "shock absorbing", "uv protection", "adjustable straps"],
    },
    "toys_games": {
        "types": ["building blocks", "board game", "jigsaw puzzle", "plush teddy bear", "remote control car",
                  "doll house", "card game", "wooden train set", "science kit", "action figure", "kite",
                  "play dough set"],
        "features": ["ages 3+", "educational", "non-toxic paint", "family fun", "battery operated",
                     "1000 pieces", "collectible", "develops motor skills"],
    },
    "books": {
        "types": ["mystery novel", "cookbook", "children's picture book", "science fiction novel", "biography",
                  "travel guide", "self-help book", "history book", "poetry collection", "graphic novel",
                  "programming handbook", "fantasy saga"],
        "features": ["hardcover", "paperback", "illustrated", "bestseller", "first edition", "signed copy",
                     "large print", "annotated"],
    },
    "grocery": {
        "types": ["green tea", "ground coffee", "dark chocolate", "olive oil", "pasta", "granola",
                  "honey", "basmati rice", "peanut butter", "spice mix", "protein bar", "sparkling water"],
        "features": ["organic", "gluten free", "fair trade", "sugar free", "family pack", "cold pressed",
                     "single origin", "high protein"],
    },
}

ADJECTIVES = ["premium", "classic", "compact", "deluxe", "essential", "modern", "vintage", "eco", "pro",
              "ultra", "everyday", "smart", "handmade", "limited edition", "travel", "heavy duty"]
COLOURS = ["black", "white", "red", "blue", "green", "grey", "pink", "beige", "navy", "silver"]
BRAND_SYLLABLES = ["ko", "va", "ri", "zen", "lu", "mar", "tek", "no", "sa", "bel", "dor", "fi", "qu", "xo"]

# median price (USD) per category; prices are log-normal around it and clipped to $10-$500
PRICE_MEDIAN = {"electronics": 120.0, "home_kitchen": 45.0, "fashion": 40.0, "beauty": 22.0,
                "sports_outdoors": 55.0, "toys_games": 28.0, "books": 16.0, "grocery": 12.0}

CATEGORIES = list(CATALOGUE)

# product types that honestly belong to several categories: they keep the task from being trivial
SHARED_TYPES = {
    "gift set": ["beauty", "grocery", "toys_games", "home_kitchen"],
    "travel bag": ["fashion", "sports_outdoors", "electronics"],
    "water bottle": ["sports_outdoors", "home_kitchen", "grocery"],
    "starter kit": ["beauty", "toys_games", "electronics", "sports_outdoors"],
    "bundle": list(CATALOGUE),
    "accessory": ["electronics", "fashion", "sports_outdoors"],
}


@dataclass
class DriftKnobs:
    """Distribution shifts applied on top of the base generator (all neutral by default)."""

    category_weights: dict[str, float] = field(default_factory=dict)  # relative weight per category
    price_scale: float = 1.0  # multiply every price
    new_seller_share: float = 0.0  # share of rows from sellers unseen in the base population
    text_noise: float = 0.0  # share of title words replaced by unseen tokens
    rating_shift: float = 0.0  # added to every rating (clipped to 1-5)


def _brands(rng: np.random.Generator, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        k = int(rng.integers(2, 4))
        names.add("".join(rng.choice(BRAND_SYLLABLES, size=k)).capitalize())
    return sorted(names)


def generate_catalogue(
    rows: int,
    seed: int = 0,
    knobs: DriftKnobs | None = None,
    n_sellers: int = 3000,
    n_brands: int = 800,
    start: str = "2026-01-01",
    shared_type_share: float = 0.15,
    label_noise: float = 0.02,
) -> pd.DataFrame:
    """Return ``rows`` synthetic products with the canonical fields.

    The same ``seed`` gives the same catalogue; population (sellers, brands) depends on the seed only,
    so drifted samples with the same seed share sellers and brands with the reference.
    """
    knobs = knobs or DriftKnobs()
    pop = np.random.default_rng(seed)
    brands = _brands(pop, n_brands)
    # each brand and seller leans towards one "home" category, as real ones do
    brand_home = pop.integers(0, len(CATEGORIES), size=n_brands)
    seller_home = pop.integers(0, len(CATEGORIES), size=n_sellers)
    seller_ids = np.array([f"S{10000 + i}" for i in range(n_sellers)])

    rng = np.random.default_rng(seed + 1_000_003)
    weights = np.array([knobs.category_weights.get(c, 1.0) for c in CATEGORIES], dtype=float)
    weights = weights / weights.sum()
    cat_idx = rng.choice(len(CATEGORIES), size=rows, p=weights)

    titles, descriptions, brand_col, seller_col, prices = [], [], [], [], []
    for ci in cat_idx:
        cat = CATEGORIES[ci]
        spec = CATALOGUE[cat]
        shared = [t for t, cats in SHARED_TYPES.items() if cat in cats]
        if rng.random() < shared_type_share and shared:
            ptype = shared[int(rng.integers(len(shared)))]
        else:
            ptype = spec["types"][rng.integers(len(spec["types"]))]
        adj = ADJECTIVES[rng.integers(len(ADJECTIVES))]
        colour = COLOURS[rng.integers(len(COLOURS))]
        feats = rng.choice(spec["features"], size=2, replace=False)
        # brand: 70% from the category's own brands, otherwise any brand
        if rng.random() < 0.7:
            pool = np.flatnonzero(brand_home == ci)
            b = brands[int(rng.choice(pool))] if len(pool) else brands[int(rng.integers(n_brands))]
        else:
            b = brands[int(rng.integers(n_brands))]
        if knobs.new_seller_share and rng.random() < knobs.new_seller_share:
            seller = f"N{int(rng.integers(100000, 999999))}"
        elif rng.random() < 0.6:
            pool = np.flatnonzero(seller_home == ci)
            seller = seller_ids[int(rng.choice(pool))] if len(pool) else seller_ids[0]
        else:
            seller = seller_ids[int(rng.integers(n_sellers))]
        words = f"{adj} {colour} {ptype}".split()
        if knobs.text_noise:
            words = [f"x{int(rng.integers(1_000_000))}" if rng.random() < knobs.text_noise else w for w in words]
        title = f"{b} " + " ".join(words)
        if rng.random() < 0.5:
            title += f" - {feats[0]}"
        desc = (f"This {adj} {ptype} by {b} comes in {colour}. "
                f"{feats[0].capitalize()}, {feats[1]}. "
                f"{rng.choice(['Great value.', 'Customer favourite.', 'Ships in 24h.', 'Gift ready.', ''])}")
        price = PRICE_MEDIAN[cat] * float(np.exp(rng.normal(0.0, 0.55)))
        titles.append(title)
        descriptions.append(desc.strip())
        brand_col.append(b)
        seller_col.append(seller)
        prices.append(price)

    price_arr = np.clip(np.array(prices) * knobs.price_scale, 10.0, 500.0).round(2)
    rating = np.clip(rng.normal(4.0, 0.6, size=rows) + knobs.rating_shift, 2.0, 5.0).round(1)
    t0 = pd.Timestamp(start)
    created = t0 + pd.to_timedelta(np.sort(rng.uniform(0, 90 * 86400, size=rows)), unit="s")
    # a few listings are filed under the wrong category by their sellers, as on any marketplace
    noisy = rng.random(rows) < label_noise
    cat_idx = np.where(noisy, rng.integers(0, len(CATEGORIES), size=rows), cat_idx)
    return pd.DataFrame({
        "id": [f"P{seed}-{i:07d}" for i in range(rows)],
        "title": titles,
        "description": descriptions,
        "brand": brand_col,
        "seller_id": seller_col,
        "price": price_arr,
        "rating": rating,
        "category": [CATEGORIES[i] for i in cat_idx],
        "image": [None] * rows,
        "created_at": created,
    })
