"""The two checks every skuflow estimator's ``fit`` makes before any work. Prediction makes none: on the
serving path the featurizer already guarantees the input, and validating a row costs more than scoring it."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning


def labels_for(estimator: object, X: Any, y: Any) -> np.ndarray:
    """``y`` as an array, once it is known to be given and to hold one label per row of ``X``."""
    name = type(estimator).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # a column of labels, as sklearn's own estimators accept it
        warnings.warn(f"{name}: a column vector y was passed when a 1-d array was expected", DataConversionWarning,
                      stacklevel=3)
        y = y.ravel()
    rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if y.ndim != 1 or len(y) != rows:
        raise ValueError(f"{name}: {rows} rows but labels of shape {y.shape}; one label per row is needed")
    return y
