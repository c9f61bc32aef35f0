"""Tuning on real data through `skuflow tune`'s own code path, each in a fresh SKUFLOW_HOME.

    .venv/bin/python benchmarks/tuning.py lightgbm   # PriceRunner, grouped split, 40 trials, 3 folds
    .venv/bin/python benchmarks/tuning.py linear     # PriceRunner, the linear family, no recipe given
    .venv/bin/python benchmarks/tuning.py creative   # Women's reviews, the cheap blend members
    .venv/bin/python benchmarks/tuning.py parallel   # the same 16 trials on 1 and on 2 Dask workers

Each prints the trials by state, the search and total time, the best trial's CV mean +- sd (training rows
only), its one test figure, and a JSON line. The equivalent command is printed with each.
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
# the untuned and hand-set figures these are compared with (README results, `make bench-quality`)
REFERENCE = {"lightgbm": ("untuned lightgbm, 300 rounds", 0.9474), "linear": ("hand-set configs/pricerunner.yaml",
                                                                              0.9882)}


def _config(base: str, kind: str | None = None, space: dict | None = None, replace: bool = False):
    from skuflow.training.config import TrainConfig, load_config

    raw = load_config(ROOT / "configs" / base).model_dump()
    if kind:
        raw["model"] = {"kind": kind, "params": {}}
    if space:
        raw["tune"] = {"space": space, "replace": replace}
    return TrainConfig.model_validate(raw)


def _run(label: str, data: str, config, trials: int, folds: int, timeout: float | None, workers: int | None,
         command: str, **kw) -> dict:
    from skuflow.settings import Settings
    from skuflow.tuning.study import tune

    with tempfile.TemporaryDirectory() as home:
        t = time.perf_counter()

        def progress(done: int, total: int, best: float | None) -> None:
            print(f"  {time.perf_counter() - t:7.1f}s  {done}/{total} trials, best {best}", file=sys.stderr,
                  flush=True)

        r = tune(config.task or "category", data, config, Settings(home=Path(home)), trials=trials, folds=folds,
                 timeout=timeout, n_workers=workers, on_progress=progress, **kw)
        total = time.perf_counter() - t
    metric = r.metric
    row = {"label": label, "command": command, "trials": r.trials, "workers": r.workers,
           "search_s": round(r.search_seconds, 1), "total_s": round(total, 1), "cv_mean": round(r.cv_mean, 4),
           "cv_sd": round(r.cv_sd, 4), "test": r.test_metrics.get(metric), "metric": metric,
           "best_params": r.best_params}
    if "test" in row and row["test"] is not None:
        row["test_minus_cv"] = round(row["test"] - r.cv_mean, 4)
    return row


def lightgbm(trials: int, timeout: float | None) -> list[dict]:
    cfg = _config("pricerunner-lightgbm.yaml")
    cmd = (f"skuflow tune category --data {PRICERUNNER} --config configs/pricerunner-lightgbm.yaml "
           f"--trials {trials} --folds 3")
    return [_run("lightgbm family (its own space)", str(PRICERUNNER), cfg, trials, 3, timeout, None, cmd)]


def linear(trials: int, timeout: float | None) -> list[dict]:
    cfg = _config("pricerunner-linear.yaml")
    cmd = (f"skuflow tune category --data {PRICERUNNER} --config configs/pricerunner-linear.yaml "
           f"--trials {trials} --folds 3")
    return [_run("linear family (its own space, no recipe)", str(PRICERUNNER), cfg, trials, 3, timeout, None, cmd)]


def creative(trials: int, timeout: float | None) -> list[dict]:
    cfg = _config("womens-reviews-cheap.yaml")
    cmd = (f"skuflow tune creative --data {REVIEWS} --config configs/womens-reviews-cheap.yaml "
           f"--trials {trials} --folds 3")
    return [_run("cheap blend members (TF-IDF LR, NB-LR, rating ridge)", str(REVIEWS), cfg, trials, 3, timeout,
                 None, cmd)]


def parallel(trials: int) -> list[dict]:
    """The same trials (enqueued from one seeded random draw, no pruning) on 1 and 2 workers."""
    import optuna

    from skuflow.tuning.study import open_study

    space = {"model.params.C": {"low": 0.3, "high": 10.0, "log": True},
             "features.word_ngrams": {"choices": [[1, 1], [1, 2]]}, "features.char_ngrams": {"choices": [None]},
             "features.cross_char_ngrams": {"choices": [None]}}
    cfg = _config("pricerunner-linear.yaml", kind="logreg", space=space, replace=True)
    rng = optuna.samplers.RandomSampler(seed=0)
    draw = optuna.create_study(sampler=rng)
    from skuflow.tuning.space import build_space

    dims = build_space({}, space, replace=True)
    fixed = []
    for _ in range(trials):
        t = draw.ask()
        fixed.append({d.path: t.suggest_categorical(d.path, [json.dumps(c) for c in d.choices]) if d.choices
                      else d.suggest(t) for d in dims})
    rows = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as db:
            storage = f"sqlite:///{db}/study.db"
            study = open_study("parallel", storage, seed=0, prune=False)
            for params in fixed:
                study.enqueue_trial(params)
            rows.append(_run(f"{trials} fixed trials, {workers} worker(s)", str(PRICERUNNER), cfg, trials, 3, None,
                             workers, f"skuflow tune category ... --workers {workers} --no-prune",
                             storage=storage, name="parallel", prune=False, register=False))
    rows[1]["speedup"] = round(rows[0]["search_s"] / rows[1]["search_s"], 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("which", choices=["lightgbm", "linear", "creative", "parallel"])
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    args = parser.parse_args()
    if not PRICERUNNER.exists():
        sys.exit(f"PriceRunner not found at {PRICERUNNER}")
    default_trials = {"lightgbm": 40, "linear": 60, "creative": 12, "parallel": 16}[args.which]
    trials = args.trials or default_trials
    if args.which == "parallel":
        rows = parallel(trials)
    else:
        rows = {"lightgbm": lightgbm, "linear": linear, "creative": creative}[args.which](trials, args.timeout)
    for r in rows:
        ref = REFERENCE.get(args.which)
        if ref and r.get("test") is not None:
            r["reference"], r["gain_over_reference"] = ref, round(r["test"] - ref[1], 4)
    print_table(f"tuning: {args.which}", ["run", "trials", "search s", "total s", "CV mean ± sd", "test", "ref"],
                [[r["label"], json.dumps(r["trials"]), r["search_s"], r["total_s"], f"{r['cv_mean']:.4f} ± "
                  f"{r['cv_sd']:.4f}", r.get("test") if r.get("test") is not None else "-",
                  f"{r['reference'][0]} {r['reference'][1]}" if "reference" in r else
                  (f"speed-up {r['speedup']}x" if "speedup" in r else "")] for r in rows])
    for r in rows:
        print(f"  {r['label']}: best params {r['best_params']}\n  command: {r['command']}")
    print(json.dumps({args.which: rows}, default=str))


if __name__ == "__main__":
    main()
