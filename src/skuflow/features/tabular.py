"""Column access that works the same for a DataFrame (training, batch) and a list of dicts (online).

Online requests arrive as dicts; building a DataFrame for one row costs more than the model itself,
so the featurizers read columns through these helpers instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

Records: TypeAlias = Sequence[Mapping[str, Any]]
Table: TypeAlias = pd.DataFrame | Records


def column(X: Table, name: str) -> list[Any]:
    """Values of one column as a list; a missing column gives ``None`` for every row."""
    if isinstance(X, pd.DataFrame):
        if name not in X.columns:
            return [None] * len(X)
        return X[name].tolist()
    return [row.get(name) for row in X]


def numeric_column(X: Table, name: str) -> np.ndarray:
    """One column as floats; missing columns, missing values and non-numbers are NaN."""
    return np.array([float_or_nan(v) for v in column(X, name)], dtype=float)


def text_or_empty(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def float_or_nan(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
