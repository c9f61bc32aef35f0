"""Sparse linear text models: TF-IDF word + character n-grams with logistic regression, and NB-LR
(logistic regression on features scaled by their naive-Bayes log-count ratio; Wang & Manning 2012)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from skuflow.text.listing import ListingText


def tfidf_union(word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5),
                min_df: int = 2, binary: bool = False) -> FeatureUnion:
    return FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=word_ngrams, min_df=min_df, sublinear_tf=True, binary=binary,
                                 strip_accents="unicode")),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=char_ngrams, min_df=min_df, sublinear_tf=True,
                                 binary=binary, max_features=300_000, strip_accents="unicode")),
    ])


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary NB-LR: features multiplied by log((p + a) / (q + a)), the ratio of their normalised sums in
    the positive and negative class, then an L2 logistic regression."""

    def __init__(self, C: float = 4.0, alpha: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> NBLogisticRegression:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError("NB-LR is a binary classifier")
        pos = y == self.classes_[1]
        X = sparse.csr_matrix(X)
        p = np.asarray(X[pos].sum(0)).ravel() + self.alpha
        q = np.asarray(X[~pos].sum(0)).ravel() + self.alpha
        self.r_ = np.log((p / p.sum()) / (q / q.sum()))
        self.lr_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(X.multiply(self.r_).tocsr(), y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.lr_.predict_proba(sparse.csr_matrix(X).multiply(self.r_).tocsr())

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]


def tfidf_lr(C: float = 8.0, **tfidf: Any) -> Pipeline:
    return Pipeline([("text", ListingText()), ("tfidf", tfidf_union(**tfidf)),
                     ("model", LogisticRegression(C=C, max_iter=3000))])


def nb_lr(C: float = 4.0, **tfidf: Any) -> Pipeline:
    return Pipeline([("text", ListingText()), ("tfidf", tfidf_union(binary=True, **tfidf)),
                     ("model", NBLogisticRegression(C=C))])
