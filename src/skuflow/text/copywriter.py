"""Marketing copy for a listing: a social caption, hashtags and an ad (headline + body), in several
variants built from templates and keyword choices, each scored by the quality model; best first.

No language model and no network: templates, the listing's own words and a seeded random choice, so the
same product and seed always give the same copy.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

HEADLINE_MAX = 30  # the common search-ad limits: 30-character headline, 90-character description
BODY_MAX = 90
CAPTION_MAX = 280
HASHTAGS_MIN, HASHTAGS_MAX = 5, 10

STOPWORDS = frozenset("""a an and are as at be by for from has have in is it its of on or our that the this to was
were will with you your very so just all any can new one per set pack size x cm mm kg g ml l inch comes come
made make makes ships ship ready looks look feels feel gets get also than into""".split())
CAPTIONS = (
    "Meet the {name}. {kw0_cap}, {kw1} and made for you. {cta}",
    "New in {category}: the {name}. {benefit} {cta}",
    "{name} - think {kw0} and {kw1}. {cta}",
    "Our pick this week: {name}. {benefit} {price}{cta}",
    "Say hello to the {name}: {kw0}, {kw1}, {kw2}. {cta}",
)
BENEFITS = ("Made to last.", "Loved by customers.", "Quality you can feel.", "Everyday comfort, done right.",
            "Designed with care.")
CTAS = ("Shop now.", "Tap to shop.", "Link in bio.", "Order yours today.", "Get yours now.")
BODIES = (
    "{kw0_cap} and {kw1}. {cta}",
    "{benefit} {kw0_cap}, {kw1}. {cta}",
    "{price}{kw0_cap} {category}. {cta}",
)
GENERIC_TAGS = ("NewIn", "ShopNow", "MustHave", "Style", "Deals", "OnlineShopping")


@dataclass
class Copy:
    social_media_caption: str
    hashtags: list[str]
    ad_copy: dict[str, str]
    confidence_score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z0-9']+", text or "")


def keywords(product: dict[str, Any], limit: int = 8) -> list[str]:
    """Salient words of the listing, title first, without stop words, the brand or repeats."""
    brand = {w.lower() for w in _words(str(product.get("brand") or ""))}
    seen: set[str] = set()
    out = []
    for w in _words(str(product.get("title") or "")) + _words(str(product.get("description") or "")):
        lw = w.lower().strip("'")
        if len(lw) < 3 or lw in STOPWORDS or lw in brand or lw in seen or lw.isdigit():
            continue
        seen.add(lw)
        out.append(lw)
    return out[:limit]


def hashtag(text: str) -> str | None:
    """``#`` and the letters and digits of ``text`` in CamelCase, or None if nothing is left."""
    parts = re.findall(r"[A-Za-z0-9]+", text)
    tag = "".join(p[:1].upper() + p[1:] for p in parts)
    return f"#{tag}" if tag and tag[0].isalpha() else None


def hashtags(product: dict[str, Any], words: list[str], rng: random.Random) -> list[str]:
    """5-10 valid, distinct hashtags: category, brand and keywords, topped up with generic ones."""
    picked = words[:]
    rng.shuffle(picked)
    out: list[str] = []
    seen: set[str] = set()

    def add(text: str) -> None:
        tag = hashtag(text)
        if tag and tag.lower() not in seen and len(out) < HASHTAGS_MAX:
            seen.add(tag.lower())
            out.append(tag)

    for text in [str(product.get("category") or ""), str(product.get("brand") or ""), *picked[:6]]:
        add(text)
    for text in GENERIC_TAGS:
        if len(out) >= HASHTAGS_MIN:
            break
        add(text)
    return out


def _fit(text: str, limit: int) -> str:
    """Cut at a word boundary to at most ``limit`` characters."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut if cut else text[:limit]


def product_name(product: dict[str, Any], limit: int = 60) -> str:
    return _fit(str(product.get("title") or "").strip(), limit)


def _seed_for(product: dict[str, Any], seed: int) -> int:
    key = f"{seed}|{product.get('title')}|{product.get('brand')}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def draft_variants(product: dict[str, Any], n: int = 4, seed: int = 0) -> list[Copy]:
    """``n`` distinct drafts (unscored) for one product; the same inputs give the same drafts."""
    rng = random.Random(_seed_for(product, seed))
    words = keywords(product) or ["great", "value"]
    name = product_name(product)
    category = str(product.get("category") or "our shop").replace("_", " ")
    price = product.get("price")
    price_text = f"Only ${float(price):,.2f}. " if isinstance(price, int | float) and price == price and price else ""
    drafts: list[Copy] = []
    captions = list(CAPTIONS)
    rng.shuffle(captions)
    for i in range(n):
        kw = words[:]
        rng.shuffle(kw)
        kw0, kw1, kw2 = (kw * 3)[:3]
        fill = {"name": name, "category": category, "kw0": kw0, "kw1": kw1, "kw2": kw2, "kw0_cap": kw0.capitalize(),
                "benefit": rng.choice(BENEFITS), "cta": rng.choice(CTAS), "price": price_text}
        caption = _fit(captions[i % len(captions)].format(**fill), CAPTION_MAX)
        brand = str(product.get("brand") or "").strip()
        head_words = " ".join(w for w in name.split() if w.lower() != brand.lower())
        headline = _fit(f"{brand} {head_words}" if brand and i % 2 else head_words or name, HEADLINE_MAX)
        headline = headline[:1].upper() + headline[1:]
        body = _fit(rng.choice(BODIES).format(**fill), BODY_MAX)
        drafts.append(Copy(caption, hashtags(product, words, rng), {"headline": headline, "body": body}))
    return drafts


def write_copy(product: dict[str, Any], score: Callable[[list[dict[str, Any]]], list[float]], n: int = 4,
               seed: int = 0) -> list[Copy]:
    """Drafts scored by ``score`` (probability that a listing reads as good), best first."""
    drafts = draft_variants(product, n=n, seed=seed)
    listings = [{"title": c.ad_copy["headline"], "description": f"{c.social_media_caption} {c.ad_copy['body']}",
                 "brand": product.get("brand"), "category": product.get("category")} for c in drafts]
    for c, s in zip(drafts, score(listings), strict=True):
        c.confidence_score = float(s)
    return sorted(drafts, key=lambda c: -c.confidence_score)
