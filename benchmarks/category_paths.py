"""Category paths on the fashion catalogue (44,439 titled products, 7 > 45 > 143 levels, 170 paths, leaves
down to one row), random 80/20 split with seed 42, each recipe trained by `skuflow train` itself:

- titles, n-grams: one TF-IDF (words 1-2, within-word characters 2-5) + LinearSVC over the 170 paths
  (configs/fashion-products.yaml without its sentence embedding)
- titles: the same with the title's MiniLM sentence embedding appended (configs/fashion-products.yaml)
- titles + attributes: gender, baseColour, season, usage declared as categorical inputs
  (configs/fashion-products-attributes.yaml)

It also measures how far titles alone can go: among test rows whose exact title is in the training rows, the
share whose path differs from the path most training rows with that title carry.

    .venv/bin/python benchmarks/category_paths.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, SHARED, print_table  # noqa: E402

STYLES = SHARED / "fashion-products" / "styles.csv"
# name: (config file, features overridden)
RECIPES = {"titles, n-grams": ("fashion-products.yaml", {"embedding_weight": 0.0}),
           "titles": ("fashion-products.yaml", {}),
           "titles + attributes": ("fashion-products-attributes.yaml", {})}


def title_ceiling(frame, config, task) -> dict[str, float]:
    """Test rows whose title is a training title, and how often their path disagrees with that title's
    majority path in training: no model reading titles alone is right on those rows."""
    from skuflow.training.train import split_frame

    train_rows, test_rows = split_frame(frame, task.label, config.split)
    majority = train_rows.groupby(train_rows["title"].str.lower())[task.label].agg(lambda s: s.value_counts().index[0])
    seen = test_rows["title"].str.lower().isin(majority.index)
    disagree = test_rows.loc[seen, "title"].str.lower().map(majority) != test_rows.loc[seen, task.label]
    return {"test_rows": len(test_rows), "seen_title_share": float(seen.mean()),
            "seen_title_disagreement": float(disagree.mean()),
            "unavoidable_error_share": float(disagree.sum() / len(test_rows))}


def leaf_f1_gain(truth: list[str], base: list[str], other: list[str], resamples: int = 1000,
                 seed: int = 0) -> dict[str, float]:
    """``other`` minus ``base`` in leaf macro-F1 on the same test rows, with a 90% paired-bootstrap interval
    (each resample scores both recipes on the same drawn rows)."""
    import numpy as np
    from sklearn.metrics import f1_score

    from skuflow.label_paths import leaves

    t, a, b = (np.asarray(leaves(v)) for v in (truth, base, other))
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(resamples):
        i = rng.integers(0, len(t), len(t))
        gains.append(f1_score(t[i], b[i], average="macro", zero_division=0)
                     - f1_score(t[i], a[i], average="macro", zero_division=0))
    point = f1_score(t, b, average="macro", zero_division=0) - f1_score(t, a, average="macro", zero_division=0)
    low, high = np.percentile(gains, [5, 95])
    return {"gain": float(point), "low": float(low), "high": float(high)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.tasks.category import CategoryTask
    from skuflow.training.config import load_config
    from skuflow.training.train import prepare, split_frame, train

    task = CategoryTask()
    rows, out, predicted = [], {}, {}
    base_config = load_config(ROOT / "configs" / "fashion-products.yaml")
    test_rows = split_frame(prepare(task, str(STYLES), base_config).frame, task.label, base_config.split)[1]
    with tempfile.TemporaryDirectory(prefix="skuflow-paths-") as tmp:
        for name, (config_file, overrides) in RECIPES.items():
            config = load_config(ROOT / "configs" / config_file)
            config.features.update(overrides)
            started = time.perf_counter()
            settings = Settings(home=Path(tmp) / name.replace(" ", "-"))
            result = train("category", str(STYLES), config, settings)
            seconds = time.perf_counter() - started
            model = RegistryStore(settings).load_model(result.model_name, result.version)
            predicted[name] = task.predict(model, test_rows, top_k=1).labels
            m = result.metrics
            out[name] = {k: m[k] for k in ("accuracy", "leaf.macro_f1", "level_1.macro_f1", "level_2.macro_f1",
                                           "level_3.macro_f1", "level_1.accuracy", "level_2.accuracy", "fit_seconds")}
            out[name]["train_seconds"] = seconds
            rows.append([name, m["accuracy"], m["leaf.macro_f1"], m["level_2.macro_f1"], m["level_1.macro_f1"],
                         f"{seconds:.0f}"])
        out["titles_only_ceiling"] = title_ceiling(prepare(task, str(STYLES), base_config).frame, base_config, task)
    truth = test_rows[task.label].tolist()
    out["leaf_f1_gain"] = {f"{b} -> {a}": leaf_f1_gain(truth, predicted[b], predicted[a])
                           for b, a in (("titles, n-grams", "titles"), ("titles", "titles + attributes"))}
    print_table("Fashion catalogue: category paths (test split, 8,888 rows)",
                ["recipe", "whole-path acc", "leaf macro-F1", "level-2 macro-F1", "level-1 macro-F1", "train s"],
                rows)
    c = out["titles_only_ceiling"]
    print(f"titles alone: {c['seen_title_share']:.1%} of test rows repeat a training title; "
          f"{c['seen_title_disagreement']:.1%} of those carry another path than that title's majority "
          f"({c['unavoidable_error_share']:.2%} of all test rows are wrong for any title-only model)")
    for pair, g in out["leaf_f1_gain"].items():
        print(f"leaf macro-F1, {pair}: {g['gain']:+.4f} (90% paired bootstrap {g['low']:+.4f} to {g['high']:+.4f})")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
