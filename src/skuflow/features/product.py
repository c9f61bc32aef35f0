"""ProductFeaturizer: text n-grams, hashed high-cardinality ids, brand x price-range cross, log price.

One sklearn transformer, fitted in training and logged inside the model pipeline, so serving, batch
scoring and evaluation run exactly this code.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from skuflow.features.tabular import Table, column, float_or_nan, text_or_empty

PRICE_EDGES = (10.0, 25.0, 50.0, 100.0, 250.0)
_LOG_PRICE_SCALE = math.log1p(500.0)


def price_bucket(price: float) -> int:
    """Index of the price range (0 = unknown, 1.. = ascending ranges)."""
    if math.isnan(price):
        return 0
    return 1 + int(np.searchsorted(PRICE_EDGES, price, side="right"))


class ProductFeaturizer(TransformerMixin, BaseEstimator):
    """Turn product records into one sparse feature matrix.

    ``char_analyzer="char"`` lets character n-grams cross word boundaries ("fridge freezer"), which
    separates near-identical categories better than within-word n-grams on short titles.

    Parameters are only stored here (sklearn contract); vocabularies are learned in ``fit``.
    """

    def __init__(
        self,
        text_fields: tuple[str, ...] = ("title", "description"),
        id_fields: tuple[str, ...] = ("brand", "seller_id"),
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        char_analyzer: str = "char_wb",
        max_word_features: int | None = None,
        max_char_features: int | None = None,
        min_df: int = 1,
        id_hash_bits: int = 18,
        id_weight: float = 1.0,
        price_weight: float = 1.0,
    ) -> None:
        self.text_fields = text_fields
        self.id_fields = id_fields
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_analyzer = char_analyzer
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.id_hash_bits = id_hash_bits
        self.id_weight = id_weight
        self.price_weight = price_weight

    # -- pieces ---------------------------------------------------------------------------------
    def _texts(self, X: Table) -> list[str]:
        cols = [column(X, f) for f in self.text_fields]
        return [" ".join(t for t in map(text_or_empty, vals) if t).lower() for vals in zip(*cols, strict=True)]

    def _id_tokens(self, X: Table, prices: list[float]) -> list[list[str]]:
        cols = {f: column(X, f) for f in self.id_fields}
        brands = cols.get("brand") or [None] * len(prices)
        tokens = []
        for i, price in enumerate(prices):
            bucket = price_bucket(price)
            row = [f"{f}={text_or_empty(cols[f][i]).lower()}" for f in self.id_fields]
            row.append(f"price_bucket={bucket}")
            row.append(f"brand_x_price={text_or_empty(brands[i]).lower()}|{bucket}")
            tokens.append(row)
        return tokens

    def _numeric(self, prices: list[float]) -> sp.csr_matrix:
        p = np.asarray(prices, dtype=float)
        missing = np.isnan(p)
        logp = np.where(missing, 0.0, np.log1p(np.where(missing, 0.0, np.maximum(p, 0.0))) / _LOG_PRICE_SCALE)
        return sp.csr_matrix(np.column_stack([logp, missing.astype(float)]) * self.price_weight)

    # -- sklearn API ------------------------------------------------------------------------------
    def fit(self, X: Table, y=None) -> ProductFeaturizer:
        texts = self._texts(X)
        self.word_vectorizer_ = TfidfVectorizer(
            ngram_range=tuple(self.word_ngrams), sublinear_tf=True, min_df=self.min_df,
            max_features=self.max_word_features, token_pattern=r"(?u)\b\w+\b", dtype=np.float32,
        ).fit(texts)
        self.char_vectorizer_ = None
        if self.char_ngrams:
            self.char_vectorizer_ = TfidfVectorizer(
                analyzer=self.char_analyzer, ngram_range=tuple(self.char_ngrams), sublinear_tf=True,
                min_df=self.min_df, max_features=self.max_char_features, dtype=np.float32,
            ).fit(texts)
        self.hasher_ = FeatureHasher(n_features=2**self.id_hash_bits, input_type="string",
                                     alternate_sign=False, dtype=np.float32)
        self.n_features_out_ = self.transform(X[:1] if len(X) else X).shape[1]
        return self

    def transform(self, X: Table) -> sp.csr_matrix:
        check_is_fitted(self, "word_vectorizer_")
        texts = self._texts(X)
        prices = [float_or_nan(v) for v in column(X, "price")]
        blocks = [self.word_vectorizer_.transform(texts)]
        if self.char_vectorizer_ is not None:
            blocks.append(self.char_vectorizer_.transform(texts))
        if self.id_weight:
            blocks.append(self.hasher_.transform(self._id_tokens(X, prices)) * self.id_weight)
        blocks.append(self._numeric(prices))
        return sp.hstack(blocks, format="csr", dtype=np.float32)
