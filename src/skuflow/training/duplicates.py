"""Duplicates a catalogue carries into training, and the ones that leak across the split.

5-core review dumps and marketplace exports repeat rows. An exact repeat only weighs one row twice, but a
test row whose model inputs also sit in the training rows is scored on something the model has seen, so
the reported figure is inflated and nothing says so. Training counts both and names the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from skuflow.training.seen_rows import SeenRows, row_digests


def duplicate_report(frame: pd.DataFrame, seen: SeenRows, test: pd.DataFrame,
                     inputs: list[str]) -> dict[str, Any]:
    """Exact duplicate rows in ``frame``, and test rows whose ``inputs`` repeat a training row's: ``seen``
    holds the training rows' digests the version logs for the gate (``skuflow.training.seen_rows``)."""
    exact = int(pd.Series(row_digests(frame, list(frame.columns))).duplicated().sum()) if len(frame) else 0
    straddling = int(np.isin(row_digests(test, inputs), seen.rows).sum()) if len(test) else 0
    report: dict[str, Any] = {"exact_rows": exact, "test_rows_seen_in_training": straddling,
                              "test_share_seen_in_training": straddling / len(test) if len(test) else 0.0,
                              "compared_on": inputs}
    if straddling:
        report["hint"] = (f"{straddling} of {len(test)} test rows repeat a training row's {', '.join(inputs)}: "
                          f"the test figures are inflated. Set data.dedupe: [{', '.join(inputs[:2])}] in the "
                          "training config to keep one of each before the split")
    return report
