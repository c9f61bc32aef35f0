"""A real scikit-learn step that fails on some inputs, for guardrail tests: a registered challenger that
breaks on titles carrying a marker, as a model with a brittle featurizer would."""

from __future__ import annotations

import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class FailsOnMarker(BaseEstimator, TransformerMixin):
    def __init__(self, marker: str = "BOOM") -> None:
        self.marker = marker

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        titles = pd.DataFrame(X)["title"].astype(str)
        if titles.str.contains(self.marker, regex=False).any():
            raise ValueError(f"cannot featurize a title containing {self.marker!r}")
        return X
