"""Big category trees: an export's tree column as shops write it (wrapped, ragged, product names as the last
level), the family a config without ``model.kind`` gets for many classes, and reports that stay readable
with hundreds of classes. Real training, a real MLflow store and the real app over HTTP."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.data.tree_catalogue import generate_tree_catalogue
from skuflow.label_paths import SEPARATOR
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.tasks.base import get_task
from skuflow.training.config import DataConfig, TrainConfig
from skuflow.training.train import train
from tests.conftest import make_settings
from tests.helpers import wait_ready

BRANCHES = {
    "Home Furnishing": {"Curtains & Accessories": ["curtain", "eyelet", "blackout"],
                        "Bed Linen": ["bedsheet", "duvet", "pillow"]},
    "Clothing": {"Women's Clothing": ["kurta", "dress", "top"], "Men's Clothing": ["shirt", "jeans", "trouser"]},
    "Computers": {"Laptop Accessories": ["keyboard", "mouse", "sleeve"], "Storage": ["pendrive", "ssd", "disk"]},
}


def export(rows: int, seed: int = 0) -> pd.DataFrame:
    """A product export: the tree column is a JSON list of one string, levels joined by ' >> ', 2 to 6
    category levels deep, then the product's own name as the last level (so almost every full path is unique)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(rows):
        top = list(BRANCHES)[i % 3]
        sub = list(BRANCHES[top])[int(rng.integers(2))]
        word = BRANCHES[top][sub][int(rng.integers(3))]
        name = f"Brand{int(rng.integers(40))} {word} {rng.choice(['blue', 'red', 'large', 'set of 2', 'cotton'])} {i}"
        deeper = [f"{word} {kind}" for kind in ("range", "line", "series", "edition")][: int(rng.integers(0, 5))]
        out.append({"product_name": name,
                    "product_category_tree": json.dumps([" >> ".join([top, sub, *deeper, name])])})
    return pd.DataFrame(out)


def test_exported_tree_learns_clean_top_levels(tmp_path):
    frame = export(600)
    config = TrainConfig(data=DataConfig(columns={"product_name": "title", "product_category_tree": "category"},
                                         path_separator=">>", path_depth=2))
    s = make_settings(tmp_path / "home")
    result = train("category", frame, config, s)
    model = RegistryStore(s).load_model(result.model_name, result.version)
    # exactly the six second-level nodes: no JSON wrapper, no quotes, no product names
    assert {str(c) for c in model.classes_} == {f"{top}{SEPARATOR}{sub}" for top, subs in BRANCHES.items()
                                                for sub in subs}
    assert result.metrics["level_1.accuracy"] > 0.9 and result.metrics["accuracy"] > 0.8


def test_exported_tree_without_depth_warns_naming_the_fix(tmp_path):
    frame = export(300)
    config = TrainConfig(data=DataConfig(columns={"product_name": "title", "product_category_tree": "category"},
                                         path_separator=">>"))
    steps: list[str] = []
    train("category", frame, config, make_settings(tmp_path / "home"), on_step=steps.append)
    warnings = [s for s in steps if s.startswith("warning:")]
    assert any("single row" in w and "data.path_depth" in w and "data.min_leaf_rows" in w for w in warnings), steps


def test_min_leaf_rows_folds_thin_leaves_into_parents(tmp_path):
    frame = generate_tree_catalogue(3000, leaves=120, depth=4, seed=3)
    counts = frame["category"].value_counts()
    thin = set(counts[counts < 8].index)
    assert thin, "the Zipf tree should have thin leaves"
    config = TrainConfig(data=DataConfig(min_leaf_rows=8))
    steps: list[str] = []
    result = train("category", frame, config, make_settings(tmp_path / "home"), on_step=steps.append)
    assert any("folded into their parents" in s for s in steps), steps
    model = RegistryStore(make_settings(tmp_path / "home")).load_model(result.model_name, result.version)
    classes = {str(c) for c in model.classes_}
    assert not (thin & classes)  # every thin leaf went to an ancestor


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    """400 leaves, no model.kind: the data picks the family."""
    home = tmp_path_factory.mktemp("scale") / "home"
    frame = generate_tree_catalogue(12000, leaves=400, depth=5, seed=1)
    steps: list[str] = []
    result = train("category", frame, TrainConfig(), make_settings(home), on_step=steps.append)
    return make_settings(home), result, steps


def test_many_classes_choose_the_embedding_softmax_and_stay_readable(big_tree):
    s, result, steps = big_tree
    assert any("model: embedding_bag, chosen because" in x for x in steps), steps
    m = result.metrics
    # 400 Zipf-popular leaves, most with a few dozen rows: the largest holds ~15% of them
    assert m["accuracy"] > 0.6 and m["level_1.accuracy"] > m["accuracy"]
    assert not any(k.startswith("f1.") for k in m)  # per-class figures live in the table artifact
    assert len(json.dumps(result.to_dict())) < 4096
    store = RegistryStore(s)
    assert not any(k.startswith("f1.") for k in store.client.get_run(result.run_id).data.metrics)
    files = {f.path for f in store.client.list_artifacts(result.run_id)}
    assert {"per_class.csv", "confused_pairs.csv", "worst_classes.png", "confusion_matrix.png"} <= files
    table = pd.read_csv(store.client.download_artifacts(result.run_id, "per_class.csv", str(s.home)))
    assert len(table) == len(store.load_model(result.model_name, result.version).classes_)
    assert table["f1"].is_monotonic_increasing


def test_served_tree_answers_like_the_logged_model(big_tree):
    s, result, _ = big_tree
    model = RegistryStore(s).load_model(result.model_name, result.version)
    rows = generate_tree_catalogue(20, leaves=400, depth=5, seed=1).drop(columns=["category", "id"])
    records = json.loads(rows.to_json(orient="records"))
    expected = get_task("category").predict(model, pd.DataFrame(records), top_k=1)
    with TestClient(create_app(s)) as client:
        wait_ready(client)
        answer = client.post("/v1/category/predict/batch", json={"records": records}).json()
    got = [p["prediction"] for p in answer["predictions"]]
    assert got == expected.labels
    assert [p["path"] for p in answer["predictions"]] == [lv and [n for n, _ in lv] for lv in expected.levels]
