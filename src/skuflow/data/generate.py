"""Seeded synthetic product catalogue: the platform's demo and test data.

Titles are written many ways from a broad vocabulary (``skuflow.data.vocabulary``): hundreds of product
kinds per category, features, sizes, audiences, real-world brands that sell in several categories and
invented ones. Descriptions, brands, sellers and prices go missing at export-like rates, so a model has to
read the title. Sellers and brands are high-cardinality and partly specialised, as on a real marketplace.
Knobs shift the distributions so that drift detection and retraining can be exercised on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from skuflow.data.vocabulary import (
    ADJECTIVES,
    BOOK_WORDS,
    COLOURS,
    FIRST_NAMES,
    LANGUAGES,
    PLACES,
    SHARED_FEATURES,
    SHARED_KINDS,
    SURNAMES,
    UNITS,
    VOCABULARY,
    CategoryWords,
)

# median price (USD) per category; prices are log-normal around it and clipped to $10-$500
PRICE_MEDIAN = {"electronics": 120.0, "home_kitchen": 45.0, "fashion": 40.0, "beauty": 22.0,
                "sports_outdoors": 55.0, "toys_games": 28.0, "books": 16.0, "grocery": 12.0}

CATEGORIES = list(VOCABULARY)
BRAND_SYLLABLES = ["ko", "va", "ri", "zen", "lu", "mar", "tek", "no", "sa", "bel", "dor", "fi", "qu", "xo"]

# How often a listing leaves a field empty (marketplace exports leave these out often; the title never).
MISSING = {"description": 0.35, "brand": 0.2, "seller_id": 0.1, "price": 0.1}
MARKETING = ("Great value.", "Customer favourite.", "Ships in 24h.", "Gift ready.", "Free returns.",
             "Top rated.", "New for this season.", "")


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


def plural(kind: str) -> str:
    """The kind in the plural, as titles counting several items write it ("cushion covers")."""
    if kind.endswith(("s", "x", "ch", "sh")):
        return kind if kind.endswith("s") else kind + "es"
    if kind.endswith("y") and kind[-2:-1] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"


class _Writer:
    """Writes one listing's title and description the many ways shops do."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def pick(self, options: Any) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def model_code(self) -> str:
        letters = "".join(self.rng.choice(list("ABCDEFGHKMNPRSTVXZ"), size=int(self.rng.integers(1, 3))))
        return f"{letters}{int(self.rng.integers(1, 999))}" + (" Pro" if self.chance(0.15) else "")

    def feature(self, words: CategoryWords) -> str:
        """Mostly the category's own; often a material or quality any category's listings name."""
        return self.pick(SHARED_FEATURES) if self.chance(0.3) else self.pick(words.features)

    def size(self, words: CategoryWords) -> str:
        """The category's typical sizes, or a count, dimension, weight or volume of any kind: units are weak
        evidence in real catalogues (jars and lotions both come in ml)."""
        if self.chance(0.55):
            return self.pick(words.sizes)
        n, m = int(self.rng.integers(2, 13)), int(self.pick((5, 10, 20, 25, 30, 45, 50, 100, 150, 200, 250, 400)))
        unit = self.pick(UNITS)
        return self.pick((f"pack of {n}", f"{n} pack", f"{n}-pack", f"set of {n}", f"{n} pieces", f"{n} x {m}{unit}",
                          f"{m}{unit}", f"{m} {unit}", f"{n * 10}cm", f'{n * 2}"', f"{n} x {m}cm"))

    def title(self, words: CategoryWords, kind: str, brand: str | None, colour: str, book: bool) -> str:
        if book:
            return self.book_title(words, kind, brand)
        kind_part = plural(kind) if self.chance(0.15) else kind
        if words.audiences and self.chance(0.35):
            kind_part = f"{self.pick(words.audiences)} {kind_part}"
        if self.chance(0.35):
            kind_part = f"{self.feature(words)} {kind_part}"
        elif self.chance(0.25):
            kind_part = f"{self.pick(ADJECTIVES)} {kind_part}"
        head = []
        if brand and self.chance(0.8):
            head.append(brand)
            if self.chance(0.25):
                head.append(self.model_code())
        tail = []
        if self.chance(0.45):
            tail.append(self.size(words))
        if self.chance(0.3):
            tail.append(colour)
        if self.chance(0.35):
            tail.append(self.feature(words))
        sep = self.pick((" ", ", ", " - ", " | "))
        title = " ".join([*head, kind_part]) + (sep + " ".join(tail) if tail else "")
        if self.chance(0.4):  # Title Case, as many shops write it
            return " ".join(w[:1].upper() + w[1:] for w in title.split(" "))
        return title[0].upper() + title[1:]

    def book_title(self, words: CategoryWords, kind: str, brand: str | None) -> str:
        """A book is named by its title, author, format, series or subject, rarely by a product word."""
        w = [self.pick(BOOK_WORDS).capitalize() for _ in range(2)]
        name = self.pick((f"The {w[0]} {w[1]}", f"{w[0]} of {w[1]}", f"The {w[0]}", f"A {w[0]} in the {w[1]}",
                          f"{w[0]} and {w[1]}", f"{w[0]}: {self.pick(BOOK_WORDS).capitalize()} {w[1]}"))
        author = f"{self.pick(FIRST_NAMES)} {self.pick(SURNAMES)}"
        form = self.rng.random()
        if form < 0.12:  # reference books name their subject: a country, a language
            subject = self.pick(PLACES) if self.chance(0.6) else self.pick(LANGUAGES)
            return self.pick((f"{brand or 'Pocket'} {subject} {kind}", f"{kind.capitalize()} to {subject}",
                              f"{subject} {kind}, {self.pick(words.features)}"))
        if form < 0.22:  # series: a volume or a book number
            return self.pick((f"{name}, Vol. {self.rng.integers(1, 30)}", f"{name} (Book {self.rng.integers(1, 9)})",
                              f"{name} vol {self.rng.integers(1, 30)} {kind}"))
        parts = [name]
        if self.chance(0.5):
            parts.append(f"by {author}")
        if form < 0.45:
            parts.append(f"({self.pick(words.features)})")
        elif form < 0.75:
            parts = [f"{kind.capitalize()}:", *parts] if self.chance(0.3) else [*parts, f"- {kind}"]
        elif form < 0.87:
            parts = [f"{author}:", name, self.pick(words.sizes)]
        return " ".join(parts)

    def description(self, kind: str, brand: str | None, colour: str, words: CategoryWords) -> str:
        feats = self.rng.choice(words.features, size=2, replace=False)
        by = f" by {brand}" if brand else ""
        first = self.pick((f"This {kind}{by} comes in {colour}.", f"{kind.capitalize()}{by}.",
                           f"A {self.pick(ADJECTIVES)} {kind} for every day."))
        return f"{first} {feats[0].capitalize()}, {feats[1]}. {self.pick(MARKETING)}".strip()


@dataclass
class _Population:
    """Who sells: invented brands and sellers, each leaning towards one "home" category as real ones do, and
    the real-world brands of the vocabulary. It depends on the seed only, so drifted samples with the same
    seed share it with the reference."""

    invented: list[str]
    brand_home: np.ndarray
    seller_home: np.ndarray
    seller_ids: np.ndarray
    every_brand: list[str]

    @classmethod
    def of(cls, seed: int, n_brands: int, n_sellers: int) -> _Population:
        pop = np.random.default_rng(seed)
        invented = _brands(pop, n_brands)
        brand_home = pop.integers(0, len(CATEGORIES), size=n_brands)
        seller_home = pop.integers(0, len(CATEGORIES), size=n_sellers)
        return cls(invented, brand_home, seller_home, np.array([f"S{10000 + i}" for i in range(n_sellers)]),
                   sorted({b for words in VOCABULARY.values() for b in words.brands}))

    def brand(self, write: _Writer, ci: int) -> str:
        """The category's own real brands, an invented brand leaning here, or any brand at all."""
        draw = write.rng.random()
        if draw < 0.45:
            return str(write.pick(VOCABULARY[CATEGORIES[ci]].brands))
        if draw < 0.85:
            pool = np.flatnonzero(self.brand_home == ci)
            return self.invented[int(write.rng.choice(pool))] if len(pool) else str(write.pick(self.invented))
        return str(write.pick(self.every_brand) if write.chance(0.5) else write.pick(self.invented))

    def seller(self, write: _Writer, ci: int, new_seller_share: float) -> str:
        """A seller unseen in the population (drift), one leaning here, or any seller."""
        if new_seller_share and write.chance(new_seller_share):
            return f"N{int(write.rng.integers(100000, 999999))}"
        if write.chance(0.6):
            pool = np.flatnonzero(self.seller_home == ci)
            return str(self.seller_ids[int(write.rng.choice(pool))] if len(pool) else self.seller_ids[0])
        return str(self.seller_ids[int(write.rng.integers(len(self.seller_ids)))])


def _listing(write: _Writer, people: _Population, ci: int, knobs: DriftKnobs, shared_type_share: float,
             with_description: bool) -> tuple[str, str | None, str, str, float]:
    """One product of category ``ci``: title, description, brand, seller and price (before the other missing
    fields are dropped)."""
    cat = CATEGORIES[ci]
    words = VOCABULARY[cat]
    shared = [k for k, cats in SHARED_KINDS.items() if cat in cats]
    kind = write.pick(shared) if shared and write.chance(shared_type_share) else write.pick(words.kinds)
    colour = write.pick(COLOURS)
    brand = people.brand(write, ci)
    seller = people.seller(write, ci, knobs.new_seller_share)
    title = write.title(words, kind, brand, colour, book=cat == "books" and kind in words.kinds)
    if knobs.text_noise:
        title = " ".join(f"x{int(write.rng.integers(1_000_000))}" if write.chance(knobs.text_noise) else w
                         for w in title.split())
    description = write.description(kind, brand, colour, words) if with_description else None
    return title, description, brand, seller, PRICE_MEDIAN[cat] * float(np.exp(write.rng.normal(0.0, 0.55)))


def generate_catalogue(
    rows: int,
    seed: int = 0,
    knobs: DriftKnobs | None = None,
    n_sellers: int = 3000,
    n_brands: int = 800,
    start: str = "2026-01-01",
    shared_type_share: float = 0.08,
    label_noise: float = 0.02,
) -> pd.DataFrame:
    """Return ``rows`` synthetic products with the canonical fields; the same ``seed`` gives the same ones."""
    knobs = knobs or DriftKnobs()
    people = _Population.of(seed, n_brands, n_sellers)
    rng = np.random.default_rng(seed + 1_000_003)
    write = _Writer(rng)
    weights = np.array([knobs.category_weights.get(c, 1.0) for c in CATEGORIES], dtype=float)
    cat_idx = rng.choice(len(CATEGORIES), size=rows, p=weights / weights.sum())
    missing = {f: rng.random(rows) < share for f, share in MISSING.items()}
    listings = [_listing(write, people, int(ci), knobs, shared_type_share, not gone)
                for ci, gone in zip(cat_idx, missing["description"], strict=True)]
    titles, descriptions, brands, sellers, prices = (list(col) for col in zip(*listings, strict=True)) \
        if listings else ([], [], [], [], [])
    price_arr = np.clip(np.array(prices, dtype=float) * knobs.price_scale, 10.0, 500.0).round(2)
    price_arr[missing["price"]] = np.nan
    rating = np.clip(rng.normal(4.0, 0.6, size=rows) + knobs.rating_shift, 2.0, 5.0).round(1)
    created = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, 90 * 86400, size=rows)), unit="s")
    # a few listings are filed under the wrong category by their sellers, as on any marketplace
    noisy = rng.random(rows) < label_noise
    cat_idx = np.where(noisy, rng.integers(0, len(CATEGORIES), size=rows), cat_idx)
    return pd.DataFrame({
        "id": [f"P{seed}-{i:07d}" for i in range(rows)],
        "title": titles,
        "description": descriptions,
        "brand": [None if gone else b for b, gone in zip(brands, missing["brand"], strict=True)],
        "seller_id": [None if gone else v for v, gone in zip(sellers, missing["seller_id"], strict=True)],
        "price": price_arr,
        "rating": rating,
        "category": [CATEGORIES[i] for i in cat_idx],
        "image": [None] * rows,
        "created_at": created,
    })


def listing_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready records, each without its missing fields, as a shop's own JSON would send them
    (NaN is not JSON, and a missing price is a missing key, not a number)."""
    cells = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{k: v for k, v in row.items() if v is not None} for row in cells]
