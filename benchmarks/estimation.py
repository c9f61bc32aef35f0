"""Accuracy before labels, and outliers, on PriceRunner.

Model: the configured category family (configs/pricerunner.yaml without cross-word n-grams, as in
benchmarks/drift.py) trained on part of the grouped train split. Reference: the rest of the train split
(products the model never saw): the confidence calibration and the outlier threshold are fitted there,
as training fits them on its held-out rows. Windows: 1,000 rows of the grouped test split (products neither
the model nor the reference saw):
  - unshifted; one category's share doubled; prices x 1.2 (as in `make bench-drift`)
  - for outliers, 10% of rows replaced by women's clothing review titles posing as products
Per window, the estimated accuracy and macro-F1 (skuflow.monitoring.estimate) against the realised ones,
and the outlier share (skuflow.monitoring.novelty).

    .venv/bin/python benchmarks/estimation.py [--windows 200] [--save-windows DIR] [--json]

``--save-windows`` writes reference and windows (labels, predictions, probabilities) for
benchmarks/estimation_nannyml.py, which runs NannyML's CBPE on the same windows in its own environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, print_table  # noqa: E402
from drift import pricerunner_model, window_doubled  # noqa: E402

REVIEWS = SHARED / "womens-reviews" / "womens_clothing_reviews.csv"


def foreign_rows(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Review titles from another shop's catalogue, dressed as product offers (a seller id and a price
    taken from real offers)."""
    titles = pd.read_csv(REVIEWS, usecols=["Title"])["Title"].dropna()
    titles = titles[titles.str.split().str.len() >= 2].to_numpy()
    donors = pool.iloc[rng.choice(len(pool), n, replace=True)]
    return pd.DataFrame({"title": rng.choice(titles, n, replace=False), "seller_id": donors["seller_id"].to_numpy(),
                         "price": donors["price"].to_numpy(), "category": "__foreign__"})


def run(n_windows: int, save: Path | None) -> dict:
    from skuflow.monitoring.estimate import estimate, fit_reference
    from skuflow.monitoring.novelty import NoveltyDetector

    task, model, fit_df, ref_df, test_df = pricerunner_model()

    classes = [str(c) for c in model.classes_]
    ref_preds = task.predict(model, ref_df, top_k=1)
    t = time.perf_counter()
    reference = fit_reference(ref_preds.labels, ref_preds.confidences, ref_df["category"].astype(str).tolist(),
                              classes)
    novelty = NoveltyDetector.fit(task.novelty_features(model, fit_df), task.novelty_features(model, ref_df))
    fit_seconds = time.perf_counter() - t
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        _frame(ref_df, task.predict_proba(model, ref_df), classes).to_parquet(save / "reference.parquet")

    shares = test_df["category"].value_counts(normalize=True)
    cats = sorted(shares.index)
    rng = np.random.default_rng(0)
    kinds = ("unshifted", "category x2", "price x1.2")
    err: dict[str, dict[str, list[float]]] = {k: {"accuracy": [], "macro_f1": []} for k in kinds}
    outlier_share: dict[str, list[float]] = {"unshifted": [], "10% foreign": []}
    flagged: dict[str, list[bool]] = {"unshifted": [], "10% foreign": []}
    foreign_caught: list[float] = []
    est_seconds, nov_seconds = [], []
    for i in range(n_windows):
        base = test_df.iloc[rng.choice(len(test_df), 1000, replace=False)]
        cat = cats[i % len(cats)]
        windows = {"unshifted": base, "category x2": window_doubled(test_df, cat, shares[cat], rng, 1000),
                   "price x1.2": base.assign(price=base["price"] * 1.2)}
        for kind, w in windows.items():
            proba = task.predict_proba(model, w)
            preds = task.predict(model, w, top_k=1)
            t = time.perf_counter()
            est = estimate(reference, preds.labels, preds.confidences)
            est_seconds.append(time.perf_counter() - t)
            truth = w["category"].astype(str).to_numpy()
            realised = {"accuracy": float(np.mean(np.asarray(preds.labels) == truth)),
                        "macro_f1": float(f1_score(truth, preds.labels, average="macro"))}
            for m in ("accuracy", "macro_f1"):
                err[kind][m].append(est[m] - realised[m])
            if save is not None and i < 50:
                stem = kind.replace(" ", "_").replace(".", "")
                _frame(w, proba, classes).to_parquet(save / f"{stem}_{i:03d}.parquet")
        mixed = pd.concat([base.iloc[:900], foreign_rows(ref_df, 100, rng)], ignore_index=True)
        for kind, w in {"unshifted": base, "10% foreign": mixed}.items():
            t = time.perf_counter()
            scores = novelty.scores(task.novelty_features(model, w))
            report = novelty.window(task.novelty_features(model, w))
            nov_seconds.append(time.perf_counter() - t)
            outlier_share[kind].append(report["share"])
            flagged[kind].append(report["flagged"])
            if kind == "10% foreign":
                foreign_caught.append(float((scores[900:] > novelty.threshold).mean()))

    def within(xs: list[float], tol: float = 0.02) -> float:
        return float(np.mean(np.abs(xs) <= tol))

    return {
        "windows": n_windows, "reference_rows": len(ref_df), "test_rows": len(test_df),
        "reference_accuracy": reference.accuracy, "reference_macro_f1": reference.macro_f1,
        "estimation": {k: {m: {"within_0.02": within(v), "mean_abs_error": float(np.mean(np.abs(v))),
                               "mean_error": float(np.mean(v)), "max_abs_error": float(np.max(np.abs(v)))}
                           for m, v in err[k].items()} for k in kinds},
        "outliers": {"share_unshifted_mean": float(np.mean(outlier_share["unshifted"])),
                     "unshifted_within_0.5_2pct": float(np.mean([0.005 <= s <= 0.02
                                                                 for s in outlier_share["unshifted"]])),
                     "false_flags_unshifted": float(np.mean(flagged["unshifted"])),
                     "share_foreign_mean": float(np.mean(outlier_share["10% foreign"])),
                     "flagged_foreign": float(np.mean(flagged["10% foreign"])),
                     "foreign_rows_caught": float(np.mean(foreign_caught)),
                     "threshold": novelty.threshold},
        "seconds": {"fit_reference_and_novelty": fit_seconds, "estimate_per_window": float(np.mean(est_seconds)),
                    "outliers_per_window_incl_features": float(np.mean(nov_seconds)) / 2},
    }


def _frame(rows: pd.DataFrame, proba: np.ndarray, classes: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(proba, columns=[f"p_{c}" for c in classes])
    out["y_true"] = rows["category"].astype(str).to_numpy()
    out["y_pred"] = np.asarray(classes)[proba.argmax(axis=1)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--save-windows", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = run(args.windows, args.save_windows)
    rows = []
    for kind, by_metric in r["estimation"].items():
        for metric, e in by_metric.items():
            rows.append([kind, metric, f"{e['within_0.02']:.1%}", f"{e['mean_abs_error']:.4f}",
                         f"{e['mean_error']:+.4f}", f"{e['max_abs_error']:.4f}"])
    print_table(f"estimated vs realised, {r['windows']} windows of 1,000 test rows (goal: >= 90% within 0.02)",
                ["windows", "metric", "within ±0.02", "mean |error|", "mean error", "max |error|"], rows)
    o = r["outliers"]
    print_table("outliers (threshold: 99th percentile of held-out rows)", ["measure", "value", "goal"], [
        ["mean outlier share, unshifted", f"{o['share_unshifted_mean']:.2%}", ""],
        ["unshifted windows with share in 0.5-2%", f"{o['unshifted_within_0.5_2pct']:.1%}", "(most)"],
        ["unshifted windows flagged", f"{o['false_flags_unshifted']:.1%}", "low"],
        ["mean outlier share, 10% foreign rows", f"{o['share_foreign_mean']:.2%}", ""],
        ["foreign rows scored as outliers", f"{o['foreign_rows_caught']:.1%}", ""],
        ["windows with 10% foreign rows flagged", f"{o['flagged_foreign']:.1%}", ">= 95%"]])
    s = r["seconds"]
    print_table("seconds", ["step", "seconds"], [[k, f"{v:.4f}"] for k, v in s.items()])
    print(json.dumps(r))


if __name__ == "__main__":
    main()
