"""Sparse feature blocks computed straight into CSR arrays.

sklearn's vectorizers learn the vocabulary and idf in ``fit``; turning one product into features
through their ``transform`` costs about half a millisecond of validation and sparse bookkeeping.
These functions apply the same learned state in one pass, and ProductFeaturizer uses them for every
transform (training, batch and online alike), so there is still exactly one feature code path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import murmurhash3_32

_INT32_MIN = -(2**31)


@dataclass
class Block:
    """One horizontal block of a CSR matrix."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    width: int


def tfidf_block(docs: Sequence[str], analyzer: Callable[[str], list[str]], vocabulary: dict[str, int],
                idf: np.ndarray, sublinear_tf: bool, width: int) -> Block:
    """TF-IDF with l2 row norm, as ``TfidfVectorizer.transform`` computes it from the same fitted state."""
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    get = vocabulary.get
    for doc in docs:
        row: dict[int, int] = {}
        for token in analyzer(doc):
            j = get(token)
            if j is not None:
                row[j] = row.get(j, 0) + 1
        for j in sorted(row):
            indices.append(j)
            counts.append(row[j])
        indptr.append(len(indices))
    ptr = np.asarray(indptr, dtype=np.int64)
    idx = np.asarray(indices, dtype=np.int32)
    data = np.asarray(counts, dtype=np.float64)
    if sublinear_tf:
        data = 1.0 + np.log(data)
    data *= idf[idx]
    rows = np.repeat(np.arange(len(docs)), np.diff(ptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(docs)))
    if len(data):
        data /= norms[rows]
    return Block(ptr, idx, data, width)


def hashed_block(token_rows: Sequence[Sequence[str]], n_features: int, weight: float = 1.0) -> Block:
    """Hashed one-hot tokens, the same indices as ``FeatureHasher(alternate_sign=False)``."""
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for tokens in token_rows:
        row: dict[int, float] = {}
        for tok in tokens:
            h = murmurhash3_32(tok, seed=0)
            j = (2**31 - 1 if h == _INT32_MIN else abs(h)) % n_features
            row[j] = row.get(j, 0.0) + weight
        for j in sorted(row):
            indices.append(j)
            values.append(row[j])
        indptr.append(len(indices))
    return Block(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int32),
                 np.asarray(values, dtype=np.float64), n_features)


def dense_block(values: np.ndarray) -> Block:
    """A small dense block (every cell stored, zeros included, so the column layout never shifts)."""
    n, k = values.shape
    return Block(np.arange(0, n * k + 1, k, dtype=np.int64), np.tile(np.arange(k, dtype=np.int32), n),
                 values.astype(np.float64).ravel(), k)


def trusted_csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix from arrays this module built valid (sorted int32 indices within ``shape``), without
    scipy's constructor checks, a noticeable share of a served single-row request. The result has exactly the
    attributes the checked constructor sets (a test holds the two equal, format and all, so a scipy upgrade that
    adds one fails there, not in serving)."""
    m = sp.csr_matrix.__new__(sp.csr_matrix)
    m.data, m.indices, m.indptr, m._shape, m.maxprint = data, indices, indptr, shape, 50
    return m


def hstack_blocks(blocks: Sequence[Block], n_rows: int, dtype=np.float32) -> sp.csr_matrix:
    """Blocks side by side as one CSR matrix."""
    width = sum(b.width for b in blocks)
    if n_rows == 1:  # the online path: concatenation beats scipy's general stacking by far
        index = np.int32 if width < 2**31 else np.int64  # the type scipy's constructor would pick
        offsets = np.cumsum([0] + [b.width for b in blocks[:-1]])
        indices = np.concatenate([b.indices.astype(np.int64) + o for b, o in zip(blocks, offsets, strict=True)])
        data = np.concatenate([b.data for b in blocks]).astype(dtype)
        return trusted_csr(data, indices.astype(index), np.array([0, len(indices)], dtype=index), (1, width))
    mats = [sp.csr_matrix((b.data, b.indices, b.indptr), shape=(n_rows, b.width)) for b in blocks]
    return sp.hstack(mats, format="csr", dtype=dtype)
