"""Evidently's default data-drift preset on the windows benchmarks/drift.py saved.

Evidently 0.7 needs pandas < 3, so this runs from its own environment:
    make bench-drift-evidently
(= benchmarks/drift.py --save-windows W, then .venv-evidently/bin/python benchmarks/drift_evidently.py W)
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def verdicts(snapshot: dict) -> tuple[bool, set[str]]:
    """Dataset-level verdict (Evidently's drifted-columns share >= 0.5) and the drifted columns."""
    drifted_cols, dataset = set(), False
    for m in snapshot["metrics"]:
        name = m.get("metric_name", "")
        value = m.get("value")
        if name.startswith("DriftedColumnsCount"):
            dataset = float(value["share"]) >= 0.5
        elif name.startswith("ValueDrift"):
            col = m["config"]["column"]
            threshold = float(m["config"].get("threshold") or 0.05)
            method = str(m["config"].get("method", ""))
            # p-value tests drift below the threshold; distance measures drift at or above it
            is_p = any(k in method.lower() for k in ("p_value", "ks", "chi", "z-test", "z_test"))
            if (value < threshold) if is_p else (value >= threshold):
                drifted_cols.add(col)
    return dataset, drifted_cols


def main() -> None:
    folder = Path(sys.argv[1])
    reference = pd.read_parquet(folder / "reference.parquet")
    kinds = ("unshifted", "category_x2", "price_x1.2")
    out, per_col, seconds = {}, {k: Counter() for k in kinds}, []
    for kind in kinds:
        files = sorted(folder.glob(f"{kind}_*.parquet"))
        hits = 0
        for f in files:
            t = time.perf_counter()
            snap = Report([DataDriftPreset()]).run(current_data=pd.read_parquet(f), reference_data=reference).dict()
            seconds.append(time.perf_counter() - t)
            dataset, cols = verdicts(snap)
            hits += dataset
            per_col[kind].update(cols)
        out[kind] = {"windows": len(files), "dataset_drift_rate": hits / max(1, len(files)),
                     "column_drift_rate": {c: n / max(1, len(files)) for c, n in per_col[kind].items()}}
    out["seconds_per_window"] = sum(seconds) / max(1, len(seconds))
    for kind in kinds:
        print(f"{kind:12s} dataset-level drift {out[kind]['dataset_drift_rate']:.0%}; "
              f"by column {json.dumps(out[kind]['column_drift_rate'])}")
    print(f"{out['seconds_per_window']:.2f} s per window")
    print(json.dumps({"evidently": out}))


if __name__ == "__main__":
    main()
