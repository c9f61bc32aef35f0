"""Drift detection quality on real data, and drift speed at scale.

Reference: the PriceRunner test split (titles deduplicated, grouped by Cluster ID, as in
configs/pricerunner.yaml) with the predictions of a category model trained on the train split.
Windows: 200 x 1,000 rows drawn from the reference population (the test split):
  - unshifted                      -> every alarm is a false alarm
  - one category's share doubled   -> must be detected (the category rotates over all ten)
  - prices scaled by 1.2           -> must be detected
A second false-alarm figure draws unshifted windows from products that neither the model nor the
reference saw (a held-out part of the train split). PriceRunner rows are clustered -- many offers of one
product share its category and price -- so row-level tests see the new sample of products as a shift;
that figure is reported as measured, not as the acceptance figure.
PriceRunner has no price column: each product cluster gets a synthetic price (log-normal around a
per-category median), the same for every offer of the product.
Speed: drift of 1,000,000 rows x 20 columns against a profile.

    .venv/bin/python benchmarks/drift.py [--windows 200] [--save-windows DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PRICERUNNER, ROOT, print_table  # noqa: E402

MEDIAN_PRICE = {"CPUs": 250, "Digital Cameras": 400, "Dishwashers": 350, "Freezers": 300, "Fridge Freezers": 450,
                "Fridges": 300, "Microwaves": 120, "Mobile Phones": 350, "TVs": 500, "Washing Machines": 400}


def with_prices(frame: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    clusters = frame["Cluster ID"].unique()
    factor = dict(zip(clusters, np.exp(rng.normal(0, 0.35, len(clusters))), strict=True))
    base = frame["category"].map(MEDIAN_PRICE).astype(float)
    return frame.assign(price=(base * frame["Cluster ID"].map(factor)).clip(10, 3000).round(2))


def window_doubled(pool: pd.DataFrame, category: str, share: float, rng: np.random.Generator, n: int) -> pd.DataFrame:
    k = int(round(min(0.95, 2 * share) * n))
    inside = pool[pool["category"] == category]
    outside = pool[pool["category"] != category]
    return pd.concat([inside.iloc[rng.choice(len(inside), k, replace=len(inside) < k)],
                      outside.iloc[rng.choice(len(outside), n - k, replace=False)]])


def evid_cols(frame: pd.DataFrame, predictions: list[str]) -> pd.DataFrame:
    """The columns handed to Evidently, as the original file has them (Merchant ID is an integer)."""
    return pd.DataFrame({"Product Title": frame["title"].to_numpy(), "Merchant ID": frame["seller_id"].astype(int),
                         "price": frame["price"].to_numpy(), "prediction": predictions})


def pricerunner_model() -> tuple[Any, Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The monitoring benchmarks' setup: the task, a model of the configured family without cross-word
    n-grams (faster, ~0.985 macro-F1) fitted on 70% of the grouped train split, the other 30% (products it
    never saw), and the grouped test split; every offer priced by ``with_prices``."""
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import prepare, split_frame

    task = get_task("category")
    cfg = load_config(ROOT / "configs" / "pricerunner.yaml")
    frame = with_prices(prepare(task, str(PRICERUNNER), cfg).frame)
    train_df, test_df = split_frame(frame, "category", cfg.split)
    fit_df, pool = split_frame(train_df, "category", cfg.split.model_copy(update={"test_size": 0.3}))
    t = time.perf_counter()
    model = task.build_model(cfg.model.model_dump(), {**cfg.features, "cross_char_ngrams": None})
    model.fit(fit_df, fit_df["category"].astype(str).to_numpy())
    print(f"model trained on {len(fit_df):,} rows in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    return task, model, fit_df, pool, test_df


def quality(n_windows: int, save: Path | None) -> dict:
    from skuflow.monitoring.drift import detect_drift
    from skuflow.training.train import reference_profile

    task, model, _, pool, test_df = pricerunner_model()
    profile = reference_profile(task, test_df, task.predict(model, test_df, top_k=1))
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        ref_preds = task.predict(model, test_df, top_k=1)
        evid_cols(test_df, ref_preds.labels).to_parquet(save / "reference.parquet", index=False)
    shares = test_df["category"].value_counts(normalize=True)
    cats = sorted(shares.index)

    rng = np.random.default_rng(0)
    kinds = {"unshifted": [], "category x2": [], "price x1.2": [], "unseen products": []}
    per_column: dict[str, Counter] = {k: Counter() for k in kinds}
    seconds = []
    for i in range(n_windows):
        base = test_df.iloc[rng.choice(len(test_df), 1000, replace=False)]
        cat = cats[i % len(cats)]
        windows = {"unshifted": base,
                   "category x2": window_doubled(test_df, cat, shares[cat], rng, 1000),
                   "price x1.2": base.assign(price=base["price"] * 1.2),
                   "unseen products": pool.iloc[rng.choice(len(pool), 1000, replace=False)]}
        for kind, w in windows.items():
            t = time.perf_counter()
            preds = task.predict(model, w, top_k=1)
            report = detect_drift(profile, task.monitored_features(w), preds.labels, preds.confidences)
            seconds.append(time.perf_counter() - t)
            kinds[kind].append(report.drifted)
            if save is not None and i < 50:
                evid_cols(w, preds.labels).to_parquet(save / f"{kind.replace(' ', '_')}_{i:03d}.parquet", index=False)
            for c in report.columns:
                per_column[kind][c.column] += c.drifted
    columns = [c.column for c in report.columns]
    return {
        "windows": n_windows,
        "false_alarm_rate": float(np.mean(kinds["unshifted"])),
        "detection_category_x2": float(np.mean(kinds["category x2"])),
        "detection_price_x1.2": float(np.mean(kinds["price x1.2"])),
        "false_alarm_rate_unseen_products": float(np.mean(kinds["unseen products"])),
        "per_column_false_alarms": {c: per_column["unshifted"][c] / n_windows for c in columns},
        "per_column_alarms_unseen_products": {c: per_column["unseen products"][c] / n_windows for c in columns},
        "per_column_detection": {k: {c: per_column[k][c] / n_windows for c in columns}
                                 for k in ("category x2", "price x1.2")},
        "seconds_per_window_incl_predict": float(np.mean(seconds)),
    }


def speed(rows: int = 1_000_000, n_cols: int = 20) -> dict:
    from skuflow.monitoring.drift import detect_drift
    from skuflow.monitoring.profile import Profile, categorical_profile, numeric_profile

    rng = np.random.default_rng(1)
    half = n_cols // 2
    ref = {f"num{i}": rng.lognormal(i % 5, 0.6, 100_000) for i in range(half)}
    ref.update({f"cat{i}": rng.integers(0, 50 * (i + 1), 100_000).astype(str) for i in range(n_cols - half)})
    profile = Profile("speed", 100_000,
                      numeric={k: numeric_profile(v) for k, v in ref.items() if k.startswith("num")},
                      categorical={k: categorical_profile(v) for k, v in ref.items() if k.startswith("cat")})
    cur = pd.DataFrame({f"num{i}": rng.lognormal(i % 5, 0.6, rows) for i in range(half)})
    for i in range(n_cols - half):
        cur[f"cat{i}"] = rng.integers(0, 50 * (i + 1), rows).astype(str)
    t = time.perf_counter()
    report = detect_drift(profile, cur)
    took = time.perf_counter() - t
    return {"rows": rows, "columns": n_cols, "seconds": took, "drifted": report.drifted,
            "methods": sorted({c.method for c in report.columns})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--save-windows", type=Path, default=None,
                        help="write the first 50 windows of each kind (for benchmarks/drift_evidently.py)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    q = quality(args.windows, args.save_windows)
    s = speed()
    rows = [["false alarms, unshifted windows", f"{q['false_alarm_rate']:.1%}", "<= 5%"],
            ["detected, one category's share doubled", f"{q['detection_category_x2']:.1%}", ">= 95%"],
            ["detected, prices x 1.2", f"{q['detection_price_x1.2']:.1%}", ">= 95%"],
            ["worst per-column false-alarm rate", f"{max(q['per_column_false_alarms'].values()):.1%}", "<= 5%"],
            ["alarms, windows of unseen products (see docstring)", f"{q['false_alarm_rate_unseen_products']:.1%}",
             ""],
            ["seconds per window (predict + drift)", f"{q['seconds_per_window_incl_predict']:.3f}", ""],
            [f"drift of {s['rows']:,} rows x {s['columns']} columns (s)", f"{s['seconds']:.2f}", "<= 10 s"]]
    print_table(f"drift on PriceRunner, {args.windows} windows of 1,000 rows", ["measure", "value", "goal"], rows)
    print_table("alarms per column", ["column", "unshifted", "category x2", "price x1.2", "unseen products"],
                [[c, f"{v:.1%}", f"{q['per_column_detection']['category x2'][c]:.1%}",
                  f"{q['per_column_detection']['price x1.2'][c]:.1%}",
                  f"{q['per_column_alarms_unseen_products'][c]:.1%}"] for c, v in q["per_column_false_alarms"].items()])
    print(json.dumps({"quality": q, "speed": s}))


if __name__ == "__main__":
    main()
