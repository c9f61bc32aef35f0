"""SMOTE that trains on any class layout a shop's catalogue has.

SMOTE interpolates between a row and its k nearest neighbours of the same class, so a class with k rows or
fewer cannot be oversampled with k neighbours ("Expected n_neighbors <= n_samples_fit"), and a class of one
row cannot be oversampled at all. Real category trees have such leaves. This sampler lowers k to what the
smallest class allows, leaves single-row classes as they are, and raises every other class to the size of
the largest, as plain SMOTE does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from imblearn.over_sampling import SMOTE


class RareSafeSMOTE(SMOTE):
    def fit_resample(self, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
        classes, counts = np.unique(np.asarray(y), return_counts=True)
        largest = int(counts.max())
        grow = {c: largest for c, n in zip(classes.tolist(), counts.tolist(), strict=True) if 2 <= n < largest}
        if not grow:  # every class is a single row or already the largest: nothing to interpolate
            return X, y
        smallest = min(int(n) for n in counts if n >= 2)
        inner = SMOTE(sampling_strategy=grow, random_state=self.random_state,
                      k_neighbors=max(1, min(int(self.k_neighbors), smallest - 1)))
        return inner.fit_resample(X, y)
