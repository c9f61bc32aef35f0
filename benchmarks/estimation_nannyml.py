"""NannyML's CBPE on the windows benchmarks/estimation.py saved: the same reference rows, model and windows.

NannyML pins its own pandas, numpy and plotting stack, so it runs from its own environment:
    make bench-estimation-nannyml
(= benchmarks/estimation.py --save-windows W, then .venv-nannyml/bin/python benchmarks/estimation_nannyml.py W)

NannyML reads the whole probability matrix of every row; skuflow's estimate reads only what its prediction
log keeps (the predicted class and its confidence).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score


def main() -> None:
    # NannyML posts usage analytics to segment.io unless told not to; one window is one chunk (on purpose)
    os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
    warnings.filterwarnings("ignore", message="The resulting number of chunks is too low")
    import nannyml as nml

    folder = Path(sys.argv[1])
    reference = pd.read_parquet(folder / "reference.parquet")
    classes = [c[2:] for c in reference.columns if c.startswith("p_")]
    t = time.perf_counter()
    cbpe = nml.CBPE(problem_type="classification_multiclass", y_pred="y_pred", y_true="y_true",
                    y_pred_proba={c: f"p_{c}" for c in classes}, metrics=["accuracy", "f1"],
                    chunk_number=1)
    cbpe.fit(reference)
    fit_seconds = time.perf_counter() - t
    errors: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"accuracy": [], "macro_f1": []})
    seconds = []
    for path in sorted(folder.glob("*_[0-9][0-9][0-9].parquet")):
        kind = path.stem.rsplit("_", 1)[0]
        window = pd.read_parquet(path)
        t = time.perf_counter()
        result = cbpe.estimate(window.drop(columns=["y_true"])).to_df()
        seconds.append(time.perf_counter() - t)
        est = {"accuracy": float(result[("accuracy", "value")].iloc[-1]),
               "macro_f1": float(result[("f1", "value")].iloc[-1])}
        realised = {"accuracy": accuracy_score(window["y_true"], window["y_pred"]),
                    "macro_f1": f1_score(window["y_true"], window["y_pred"], average="macro")}
        for m in est:
            errors[kind][m].append(est[m] - realised[m])
    out = {"fit_seconds": fit_seconds, "seconds_per_window": float(np.mean(seconds)),
           "estimation": {k: {m: {"within_0.02": float(np.mean(np.abs(v) <= 0.02)),
                                  "mean_abs_error": float(np.mean(np.abs(v))), "mean_error": float(np.mean(v)),
                                  "max_abs_error": float(np.max(np.abs(v))), "windows": len(v)}
                              for m, v in by.items()} for k, by in errors.items()}}
    for kind, by in out["estimation"].items():
        for m, e in by.items():
            print(f"{kind:12s} {m:9s} within 0.02: {e['within_0.02']:.1%}  mean |err| {e['mean_abs_error']:.4f}  "
                  f"max |err| {e['max_abs_error']:.4f}  ({e['windows']} windows)")
    print(f"NannyML {nml.__version__}: fit {fit_seconds:.2f} s, {out['seconds_per_window']:.3f} s per window")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
