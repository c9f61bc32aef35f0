"""Vectoriser fits shared between tuning trials in one process.

A study's trials differ in C, alpha or one n-gram range at a time, while each fold's rows stay the same:
refitting every vectoriser per trial was half of a linear trial on PriceRunner and three quarters of a
text-blend trial on the reviews. Featurizers built with ``share_vectors=True`` (tuning sets it in trials
only, never in a registered model) look a fit up here by their settings and a digest of the texts, and the
transform of the same rows too. Entries go least-recently-used first once the budget is spent; callers
read what they get and never write to it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
BUDGET_BYTES = 3 * 2**30  # per worker process: room for the blocks of several folds of a reviews catalogue
_CACHE: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()


def digest(texts: Sequence[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def size_of(value: Any) -> int:
    """Bytes held by arrays, sparse matrices, vocabularies and containers of them (an estimate)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple | list):
        return sum(size_of(v) for v in value)
    if hasattr(value, "tocsr") or hasattr(value, "indptr"):  # scipy sparse, sparse.Block
        return sum(size_of(getattr(value, a, None)) for a in ("data", "indices", "indptr"))
    parts = getattr(value, "transformer_list", None)
    if parts is not None:  # a FeatureUnion of vectorisers
        return sum(size_of(v) for _, v in parts)
    vocabulary = getattr(value, "vocabulary_", None)
    return 100 * len(vocabulary) if vocabulary is not None else 0


def remember(key: tuple[Any, ...], make: Callable[[], T]) -> T:
    """``make()``'s value for ``key``, computed once while it stays within the budget."""
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key][0]
    value = make()
    _CACHE[key] = (value, size_of(value))
    while len(_CACHE) > 1 and sum(size for _, size in _CACHE.values()) > BUDGET_BYTES:
        _CACHE.popitem(last=False)
    return value


def keys() -> list[tuple[Any, ...]]:
    return list(_CACHE)


def clear() -> None:
    _CACHE.clear()
