"""A listing's text as the quality models read it: title and description joined, the same way for
training, serving and copy scoring."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skuflow.features.tabular import Table, column, text_or_empty


def listing_texts(X: Table) -> list[str]:
    """``"title. description"`` per row (either may be missing)."""
    out = []
    for title, desc in zip(column(X, "title"), column(X, "description"), strict=True):
        t, d = text_or_empty(title).strip(), text_or_empty(desc).strip()
        out.append(f"{t}. {d}" if t and d else t or d)
    return out


class ListingText(TransformerMixin, BaseEstimator):
    """Rows -> their listing text (a pipeline's first step)."""

    def fit(self, X: Table, y: Any = None) -> ListingText:
        return self

    def transform(self, X: Table) -> np.ndarray:
        return np.asarray(listing_texts(X), dtype=object)
