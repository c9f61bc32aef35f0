"""Model quality on real data, through skuflow's own training path.

Category task: PriceRunner, titles deduplicated, split 80/20 grouped by Cluster ID (seed 42).
Creative task: Women's Clothing Reviews, rows without text dropped, stratified 80/20 on good = 1 (seed
42), good = rating >= 3.5; the configured blend and each of its members (NB-LR, rating ridge, fine-tuned
MiniLM), then TF-IDF + LR and frozen MiniLM + LR alone on the same split.
Rating task: the same reviews and split, stars 1-5 as a number: the configured blend (TF-IDF ridge + MiniLM
fine-tuned to regress), the ridge alone, and predicting the mean.
Prints tables of the metrics and training times, and a JSON line with the figures.

    .venv/bin/python benchmarks/quality.py [--task category|creative|rating] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PRICERUNNER, ROOT, SHARED, print_table  # noqa: E402

REVIEWS = SHARED / "womens-reviews" / "womens_clothing_reviews.csv"


def category(skip_slow: bool) -> list[dict]:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.svm import LinearSVC

    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import ModelConfig, load_config
    from skuflow.training.train import prepare_frame, split_frame, train

    cfg = load_config(ROOT / "configs" / "pricerunner.yaml")
    task = get_task("category")
    frame, _, _ = prepare_frame(task, str(PRICERUNNER), cfg)
    tr, te = split_frame(frame, task.label, cfg.split)
    rows = []

    # 1. skuflow's configured model, trained, registered and evaluated exactly as `skuflow train` does
    with tempfile.TemporaryDirectory() as home:
        t = time.perf_counter()
        result = train("category", str(PRICERUNNER), cfg, Settings(home=Path(home)))
        rows.append({"model": f"skuflow {cfg.model.kind} (configs/pricerunner.yaml)",
                     "macro_f1": result.metrics["macro_f1"], "accuracy": result.metrics["accuracy"],
                     "train_s": time.perf_counter() - t, "test_rows": result.rows["test"]})

    # 2. the reference recipe: TF-IDF (word 1-2 + char 2-5 grams) + LinearSVC on titles
    t = time.perf_counter()
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    x_tr = hstack([words.fit_transform(tr["title"]), chars.fit_transform(tr["title"])]).tocsr()
    x_te = hstack([words.transform(te["title"]), chars.transform(te["title"])]).tocsr()
    pred = LinearSVC().fit(x_tr, tr["category"].astype(str)).predict(x_te)
    rows.append({"model": "baseline TF-IDF word+char + LinearSVC",
                 "macro_f1": f1_score(te["category"], pred, average="macro"),
                 "accuracy": accuracy_score(te["category"], pred), "train_s": time.perf_counter() - t,
                 "test_rows": len(te)})

    # 3. the other model families skuflow offers, same split
    kinds = [("lightgbm", {"n_estimators": 300})]
    if not skip_slow:
        kinds.append(("rf_smote", {"n_estimators": 200}))
    for kind, params in kinds:
        model = task.build_model(ModelConfig(kind=kind, params=params).model_dump(), {})
        t = time.perf_counter()
        model.fit(tr, tr["category"].astype(str).to_numpy())
        fit_s = time.perf_counter() - t
        pred = np.asarray(model.predict(te))
        rows.append({"model": f"skuflow {kind}", "macro_f1": f1_score(te["category"], pred, average="macro"),
                     "accuracy": accuracy_score(te["category"], pred), "train_s": fit_s, "test_rows": len(te)})
    return rows


def creative() -> list[dict]:
    """`skuflow train creative` with configs/womens-reviews.yaml, as a user runs it (the blend logs each
    member's test ROC-AUC and fit time beside its own), then the single-model references on the same
    split: TF-IDF + logistic regression and frozen MiniLM embeddings + logistic regression."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import ModelConfig, load_config
    from skuflow.training.train import prepare_frame, split_frame, train

    cfg = load_config(ROOT / "configs" / "womens-reviews.yaml")
    with tempfile.TemporaryDirectory() as home:
        t = time.perf_counter()
        result = train("creative", str(REVIEWS), cfg, Settings(home=Path(home)))
        total = time.perf_counter() - t
    m = result.metrics
    members = cfg.model.params.get("members", {})
    rounds = int(cfg.model.params.get("rounds", 1))

    def how(name: str) -> str:
        kind = (members.get(name) or {}).get("kind", name)
        return f"mean of {rounds} fold fits" if kind == "minilm_ft" else "refit on all rows"

    rows = [{"model": f"member {name} ({how(name)})", "roc_auc": v,
             "train_s": m.get(f"member_fit_seconds.{name}", float("nan"))}
            for name, v in ((k.removeprefix("member_roc_auc."), v) for k, v in m.items()
                            if k.startswith("member_roc_auc."))]
    rows.append({"model": f"skuflow {cfg.model.kind} (configs/womens-reviews.yaml)", "roc_auc": m["roc_auc"],
                 "accuracy": m["accuracy"], "f1_poor": m.get("f1.poor"), "brier": m.get("brier"),
                 "train_s": m["fit_seconds"], "command_s": total, "test_rows": result.rows["test"]})

    task = get_task("creative")
    frame, _, _ = prepare_frame(task, str(REVIEWS), cfg)
    tr, te = split_frame(frame, task.label, cfg.split, task.strata(frame))
    for kind, params in (("tfidf_lr", {"C": 2.0}), ("minilm", {"C": 4.0})):
        model = task.build_model(ModelConfig(kind=kind, params=params).model_dump(), {})
        t = time.perf_counter()
        model.fit(tr, tr[task.label].astype(str).to_numpy())
        fit_s = time.perf_counter() - t
        poor = list(model.classes_).index("poor")
        auc = roc_auc_score(te[task.label] == "poor", np.asarray(model.predict_proba(te))[:, poor])
        rows.append({"model": f"reference {kind} alone (all training rows)", "roc_auc": auc, "train_s": fit_s})
    return rows


def rating() -> list[dict]:
    """`skuflow train rating` with configs/womens-reviews-rating.yaml (the blend logs each member's test RMSE),
    then the TF-IDF ridge alone (the task's default family) and predicting the training mean, on the same
    split as the creative task."""
    import numpy as np

    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import prepare_frame, split_frame, train

    cfg = load_config(ROOT / "configs" / "womens-reviews-rating.yaml")
    rows = []
    ridge = cfg.model_validate({**cfg.model_dump(), "model": {"kind": "ridge", "params": {"alpha": 3.0}}})
    for label, config in (("skuflow blend (configs/womens-reviews-rating.yaml)", cfg),
                          ("ridge alone (TF-IDF word + char, 5-fold conformal interval)", ridge)):
        with tempfile.TemporaryDirectory() as home:
            t = time.perf_counter()
            result = train("rating", str(REVIEWS), config, Settings(home=Path(home)))
            total = time.perf_counter() - t
        m = result.metrics
        rows.append({"model": label, "rmse": m["rmse"], "mae": m["mae"], "r2": m["r2"],
                     "coverage_90": m.get("interval_coverage"), "width": m.get("interval_width"),
                     "command_s": total, "test_rows": result.rows["test"],
                     **{k: v for k, v in m.items() if k.startswith("member_rmse.")}})
    task = get_task("rating")
    frame, _, _ = prepare_frame(task, str(REVIEWS), cfg)
    tr, te = split_frame(frame, task.label, cfg.split, task.strata(frame))
    err = te[task.label].to_numpy(float) - tr[task.label].mean()
    rows.append({"model": "predict the training mean", "rmse": float(np.sqrt(np.mean(err ** 2))),
                 "mae": float(np.mean(np.abs(err))), "command_s": 0.0, "test_rows": len(te)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-slow", action="store_true", help="leave out RandomForest + SMOTE")
    parser.add_argument("--task", choices=["category", "creative", "rating"], help="one task only")
    args = parser.parse_args()
    out = {}
    if args.task in (None, "category"):
        if not PRICERUNNER.exists():
            sys.exit(f"PriceRunner not found at {PRICERUNNER}")
        rows = category(args.skip_slow)
        print_table("category on PriceRunner (grouped by Cluster ID, 80/20)", ["model", "macro-F1", "accuracy",
                    "train s", "test rows"],
                    [[r["model"], r["macro_f1"], r["accuracy"], f"{r['train_s']:.1f}", r["test_rows"]] for r in rows])
        out["category_pricerunner"] = rows
    if args.task in (None, "creative"):
        rows = creative()
        print_table("creative on Women's Clothing Reviews (stratified 80/20 on good = rating >= 3.5)",
                    ["model", "ROC-AUC", "train s"], [[r["model"], r["roc_auc"], f"{r['train_s']:.0f}"] for r in rows])
        out["creative_reviews"] = rows
    if args.task in (None, "rating"):
        rows = rating()
        print_table("rating on Women's Clothing Reviews (stars 1-5; the creative task's split)",
                    ["model", "RMSE", "MAE", "90% coverage", "command s"],
                    [[r["model"], f"{r['rmse']:.4f}", f"{r['mae']:.4f}",
                      "-" if r.get("coverage_90") is None else f"{r['coverage_90']:.3f}", f"{r['command_s']:.0f}"]
                     for r in rows])
        out["rating_reviews"] = rows
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
