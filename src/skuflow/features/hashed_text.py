"""Word n-grams hashed into a fixed number of columns, weighted by TF-IDF: text features for catalogues too
big for a learned vocabulary.

A learned vocabulary holds every n-gram of the training rows before it prunes them (tens of millions of
strings for a million titles) and must see all rows in one process. Hashing needs no vocabulary: memory is
the column count, and any process computes the same columns for the same text (partitions, workers,
serving). Only the inverse document frequencies are learned, per column, from a sample of the rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from skuflow.features.sparse import Block, hashed_block

IDF_SAMPLE_ROWS = 200_000  # document frequencies of 2^20 columns settle long before this many rows
NAMED_SAMPLE_ROWS = 20_000
FEW_ROWS = 8  # rows whose n-grams name the columns they land in (explanations)


class HashedTfidf:
    """``fit`` learns per-column IDF; ``block`` gives sublinear TF x IDF rows with unit norm, as
    ``TfidfVectorizer(sublinear_tf=True)`` would over the hashed columns."""

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2), n_features: int = 2**20) -> None:
        self.analyzer = analyzer
        self.ngram_range = tuple(ngram_range)
        self.width = int(n_features)

    def _hasher(self) -> HashingVectorizer:
        extra = {"token_pattern": r"(?u)\b\w+\b"} if self.analyzer == "word" else {}
        return HashingVectorizer(analyzer=self.analyzer, ngram_range=self.ngram_range, n_features=self.width,
                                 alternate_sign=False, norm=None, lowercase=False, dtype=np.float32, **extra)

    def fit(self, texts: list[str]) -> HashedTfidf:
        step = max(1, len(texts) // IDF_SAMPLE_ROWS)
        sample = texts[::step]
        df = np.bincount(self._hasher().transform(sample).indices, minlength=self.width)
        self.idf_ = (np.log((1.0 + len(sample)) / (1.0 + df)) + 1.0).astype(np.float32)
        self.names_ = self._names(sample[:NAMED_SAMPLE_ROWS])
        return self

    def _names(self, texts: list[str]) -> dict[int, str]:
        """Column -> the first sampled n-gram that lands there: hashing forgets names, explanations need them."""
        analyzer = self._hasher().build_analyzer()
        grams = list(dict.fromkeys(g for t in texts for g in analyzer(t)))
        columns = hashed_block([[g] for g in grams], self.width).indices.tolist()
        out: dict[int, str] = {}
        for j, gram in zip(columns, grams, strict=True):
            out.setdefault(j, gram)
        return out

    def _counts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, counts). A few rows (serving) are hashed token by token, cheaper than a
        HashingVectorizer call's fixed cost; many rows go through its compiled loop. Both give the same columns
        and counts (a test holds them equal)."""
        if len(texts) <= FEW_ROWS:
            analyzer = self.__dict__.get("_analyzer")
            if analyzer is None:
                analyzer = self._analyzer = self._hasher().build_analyzer()
            b = hashed_block([analyzer(t) for t in texts], self.width)
            return b.indptr, b.indices, b.data
        counts = self._hasher().transform(texts)
        counts.sum_duplicates()
        counts.sort_indices()
        return counts.indptr.astype(np.int64), counts.indices.astype(np.int32), counts.data.astype(np.float64)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_analyzer", None)  # a closure: rebuilt on first use after unpickling
        return state

    def block(self, texts: list[str]) -> Block:
        indptr, indices, counts = self._counts(texts)
        data = (1.0 + np.log(counts)) * self.idf_[indices]
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(texts)))
        if len(data):
            data /= norms[rows]
        return Block(indptr, indices, data.astype(np.float64), self.width)

    def name(self, j: int) -> str:
        return self.names_.get(j, f"hashed n-gram bucket {j}")
