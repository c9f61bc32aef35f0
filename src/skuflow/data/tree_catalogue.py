"""A seeded synthetic catalogue filed under a deep, ragged category tree: the scale benchmark's data.

A shop's tree is uneven (a branch may stop at level 2 while another goes to level 7), its leaves are
Zipf-popular (a few hold most products, most hold a few) and sibling leaves share words: "trail running
shoes" and "road running shoes" both say "running shoes". Each node owns a few words of its own; a product's
title mixes its leaf's words with its ancestors', a brand and some filler, so the leaf is learnable from the
title but only by telling siblings apart. Brand, seller, price and description go missing at rates seen in
real exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from skuflow.label_paths import SEPARATOR

_SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "du", "ni", "por", "ta", "qui", "ber", "zo", "fa", "lin",
              "mo", "ra", "sen", "ti", "gar", "nu", "pe", "xo", "cal", "de", "ri", "vo", "ham", "si", "tu", "bro"]
_FILLER = ["new", "set", "pack", "premium", "classic", "2 pcs", "for men", "for women", "kids", "large", "small",
           "black", "white", "blue", "red", "grey", "xl", "original", "pro", "mini", "deluxe", "eco", "v2", "2026"]
_MISSING = {"description": 0.35, "brand": 0.2, "seller_id": 0.05, "price": 0.1}  # share of rows without the field


@dataclass
class Node:
    name: str
    words: list[str]  # the node's own words; a title under it uses some of them
    parent: int  # -1 for a top-level node
    depth: int  # 1 = top level


def _word(rng: np.random.Generator, seen: set[str]) -> str:
    while True:
        word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4))))
        if word not in seen:
            seen.add(word)
            return word


def build_tree(leaves: int, depth: int, seed: int = 0) -> list[Node]:
    """A ragged tree with exactly ``leaves`` leaves, no deeper than ``depth`` levels (at least 2).

    A leaf is split into 2-6 children with a probability falling with its depth, shallow ones first, so
    every branch reaches level 2 while some stop there and others run to the full depth."""
    if leaves < 2 or depth < 2:
        raise ValueError("a category tree needs at least 2 leaves and 2 levels")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    top = int(min(max(2, round(leaves ** (1 / depth) * 1.5)), leaves // 2))
    nodes = [Node(_word(rng, seen), [_word(rng, seen) for _ in range(2)], -1, 1) for _ in range(top)]
    open_leaves = list(range(top))
    while len(open_leaves) < leaves:
        level_one_left = any(nodes[i].depth == 1 for i in open_leaves)
        weights = np.array([0.0 if nodes[i].depth >= depth or (level_one_left and nodes[i].depth > 1)
                            else nodes[i].depth ** -1.5 for i in open_leaves])
        if not weights.sum():
            raise ValueError(f"{leaves} leaves do not fit in {depth} levels")
        pick = open_leaves.pop(int(rng.choice(len(open_leaves), p=weights / weights.sum())))
        for _ in range(min(int(rng.integers(2, 7)), leaves - len(open_leaves))):
            nodes.append(Node(_word(rng, seen), [_word(rng, seen) for _ in range(3)], pick, nodes[pick].depth + 1))
            open_leaves.append(len(nodes) - 1)
    return nodes


def leaf_ids(nodes: list[Node]) -> list[int]:
    parents = {n.parent for n in nodes}
    return [i for i in range(len(nodes)) if i not in parents]


def path_of(nodes: list[Node], i: int) -> list[int]:
    out = []
    while i >= 0:
        out.append(i)
        i = nodes[i].parent
    return out[::-1]


def generate_tree_catalogue(rows: int, leaves: int = 300, depth: int = 5, seed: int = 0,
                            zipf: float = 1.0, label_noise: float = 0.01, part: int = 0) -> pd.DataFrame:
    """``rows`` products with the canonical fields; ``category`` holds the leaf's whole path
    (levels joined by ``label_paths.SEPARATOR``). The same arguments give the same rows; another ``part``
    gives other products of the same shop (same tree, brands, prices), to write a big catalogue in pieces."""
    nodes = build_tree(leaves, depth, seed)
    leaf_list = leaf_ids(nodes)
    n_leaves = len(leaf_list)
    shop = np.random.default_rng(seed + 7919)  # the shop: leaf popularity, brands, prices
    rng = np.random.default_rng([seed, part, 7919])  # this part's products
    popularity = 1.0 / np.arange(1, n_leaves + 1) ** zipf
    shop.shuffle(popularity)
    leaf_of_row = rng.choice(n_leaves, size=rows, p=popularity / popularity.sum())
    paths = [path_of(nodes, i) for i in leaf_list]
    own = [nodes[p[-1]].words for p in paths]
    ancestors = [[w for j in p[:-1] for w in nodes[j].words] for p in paths]
    # a brand sells under a few leaves anywhere in the tree; a leaf's products come from its 2 brands 70% of
    # the time: brands help, but they never name the leaf alone
    n_brands = max(50, n_leaves // 3)
    brands = [_word(shop, set()).capitalize() for _ in range(n_brands)]
    leaf_brands = shop.integers(0, n_brands, size=(n_leaves, 2))
    cost = 10.0 * np.exp(shop.normal(0.0, 0.8, size=n_leaves))  # each leaf has its own typical price

    u = rng.random((rows, 8))
    k = rng.integers(0, 1 << 30, size=(rows, 8))
    titles, descriptions, brand_col = [], [], []
    for r, leaf in enumerate(leaf_of_row.tolist()):
        mine, above, ur, kr = own[leaf], ancestors[leaf], u[r], k[r]
        # 8% of titles name only the branch, not the leaf: no model can tell those leaves apart
        words = [] if ur[0] < 0.08 else [mine[kr[0] % 3]] + ([mine[kr[1] % 3]] if ur[1] < 0.4 else [])
        words += [above[kr[2] % len(above)]] + ([above[kr[3] % len(above)]] if ur[2] < 0.5 else [])
        words += [_FILLER[kr[4] % len(_FILLER)]] if ur[3] < 0.6 else []
        words += [_FILLER[kr[5] % len(_FILLER)]] if ur[4] < 0.3 else []
        if ur[5] < 0.5:
            words.reverse()
        brand = brands[leaf_brands[leaf, kr[6] % 2]] if ur[6] < 0.7 else brands[kr[6] % n_brands]
        titles.append(f"{brand} " + " ".join(dict.fromkeys(words)))
        brand_col.append(brand)
        descriptions.append(f"{mine[kr[7] % 3]} {above[kr[7] % len(above)]} by {brand}, "
                            f"{_FILLER[kr[1] % len(_FILLER)]} and {_FILLER[kr[2] % len(_FILLER)]}.")
    price = np.round(cost[leaf_of_row] * np.exp(rng.normal(0.0, 0.4, size=rows)), 2)
    noisy = rng.random(rows) < label_noise  # a few products filed under the wrong leaf, as in any shop
    labels = np.where(noisy, rng.integers(0, n_leaves, size=rows), leaf_of_row)
    names = np.asarray([SEPARATOR.join(nodes[j].name for j in p) for p in paths], dtype=object)
    frame = pd.DataFrame({
        "id": [f"T{seed}-{part}-{i:08d}" for i in range(rows)],
        "title": titles,
        "description": descriptions,
        "brand": brand_col,
        "seller_id": [f"S{s}" for s in ((leaf_of_row * 7 + rng.integers(0, 40, size=rows)) % 5000).tolist()],
        "price": price,
        "category": names[labels],
    })
    for col, share in _MISSING.items():
        frame[col] = frame[col].astype(object).where(rng.random(rows) >= share, None)
    return frame
