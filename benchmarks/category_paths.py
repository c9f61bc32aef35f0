"""Category paths on the fashion catalogue (44,439 titled products, 7 > 45 > 143 levels, 170 paths, leaves
down to one row), random 80/20 split with seed 42, each recipe trained by `skuflow train` itself:

- flat: one TF-IDF + LinearSVC over the 170 paths (`model.params.level_weight: 0`)
- pooled: the same path classifier pooled with classifiers of the two upper levels (configs/fashion-products.yaml)
- pooled + attributes: gender, baseColour, season, usage declared as categorical inputs
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
RECIPES = {"flat": ("fashion-products.yaml", {"level_weight": 0.0}),
           "pooled": ("fashion-products.yaml", {}),
           "pooled + attributes": ("fashion-products-attributes.yaml", {})}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from skuflow.settings import Settings
    from skuflow.tasks.category import CategoryTask
    from skuflow.training.config import load_config
    from skuflow.training.train import prepare, train

    task = CategoryTask()
    rows, out = [], {}
    with tempfile.TemporaryDirectory(prefix="skuflow-paths-") as tmp:
        for name, (config_file, params) in RECIPES.items():
            config = load_config(ROOT / "configs" / config_file)
            config.model.params.update(params)
            started = time.perf_counter()
            result = train("category", str(STYLES), config, Settings(home=Path(tmp) / name.replace(" ", "-")))
            seconds = time.perf_counter() - started
            m = result.metrics
            out[name] = {k: m[k] for k in ("accuracy", "leaf.macro_f1", "level_1.macro_f1", "level_2.macro_f1",
                                           "level_3.macro_f1", "level_1.accuracy", "level_2.accuracy", "fit_seconds")}
            out[name]["train_seconds"] = seconds
            rows.append([name, m["accuracy"], m["leaf.macro_f1"], m["level_2.macro_f1"], m["level_1.macro_f1"],
                         f"{seconds:.0f}"])
        config = load_config(ROOT / "configs" / "fashion-products.yaml")
        out["titles_only_ceiling"] = title_ceiling(prepare(task, str(STYLES), config).frame, config, task)
    print_table("Fashion catalogue: category paths (test split, 8,888 rows)",
                ["recipe", "whole-path acc", "leaf macro-F1", "level-2 macro-F1", "level-1 macro-F1", "train s"],
                rows)
    c = out["titles_only_ceiling"]
    print(f"titles alone: {c['seen_title_share']:.1%} of test rows repeat a training title; "
          f"{c['seen_title_disagreement']:.1%} of those carry another path than that title's majority "
          f"({c['unavoidable_error_share']:.2%} of all test rows are wrong for any title-only model)")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
