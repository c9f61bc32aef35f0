"""Category paths and declared catalogue attributes, end to end on a slice of the real fashion catalogue:
training (levels built from three columns, rare leaves, attributes checked by type), serving (paths with
per-level confidences, the attributes in /docs and validated), the drift profile and batch output."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.label_paths import SEPARATOR
from skuflow.monitoring.profile import Profile
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.tasks.category import CategoryTask
from skuflow.training.config import DataConfig, ModelConfig, TrainConfig
from skuflow.training.train import split_frame, train
from tests.conftest import SHARED_DATA, make_settings
from tests.helpers import wait_ready

pytestmark = pytest.mark.shared_data
STYLES = SHARED_DATA / "fashion-products" / "styles.csv"
LEVELS = ["masterCategory", "subCategory", "articleType"]
CONFIG = TrainConfig(
    data=DataConfig(columns={"productDisplayName": "title"}, path=LEVELS),
    model=ModelConfig(kind="linear"),
    # small n-gram space: this test checks the plumbing, benchmarks/category_paths.py the accuracy
    features={"categorical": ["gender", "usage"], "numeric": ["year"], "char_ngrams": None},
)


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    frame = pd.read_csv(STYLES, nrows=3000).astype({"year": object})
    frame.loc[0, "articleType"] = None  # a row without its leaf is rejected, naming the level's column
    frame.loc[1, "year"] = "last year"  # a declared number that is not one
    s = make_settings(tmp_path_factory.mktemp("paths") / "home")
    result = train("category", frame, CONFIG, s)
    return s, result, frame


@pytest.fixture(scope="module")
def api(fashion):
    s, _, _ = fashion
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        yield c


def _tree(frame: pd.DataFrame) -> set[str]:
    rows = frame.dropna(subset=LEVELS)
    return set(rows[LEVELS].astype(str).agg(SEPARATOR.join, axis=1))


def test_training_reports_every_level_and_rejects_rows_by_their_column(fashion):
    _, result, frame = fashion
    m = result.metrics
    assert result.validation["reasons"]["path: articleType missing"] == 1
    assert result.validation["reasons"]["year: not a number"] == 1
    for level in ("level_1", "level_2", "level_3", "leaf"):
        assert 0.5 < m[f"{level}.accuracy"] <= 1.0 and 0.0 < m[f"{level}.macro_f1"] <= 1.0
    # whole-path accuracy is the deepest level's; an upper level can only be easier
    assert m["accuracy"] == pytest.approx(m["level_3.accuracy"])
    assert m["level_1.accuracy"] >= m["level_2.accuracy"] >= m["level_3.accuracy"]
    counts = frame.dropna(subset=LEVELS)[LEVELS].astype(str).agg(SEPARATOR.join, axis=1).value_counts()
    assert (counts == 1).any()  # leaves with one row were in the data, and training did not fail on them


def test_every_predicted_path_exists_in_the_training_tree(fashion):
    s, result, frame = fashion
    model = RegistryStore(s).load_model(result.model_name, result.version)
    task = CategoryTask()
    clean, _ = task.validate(frame.rename(columns={"productDisplayName": "title"}), config=CONFIG.data,
                             features=CONFIG.features)
    train_rows, test_rows = split_frame(clean, task.label, CONFIG.split)
    tree = set(train_rows[task.label])
    odd = [{"title": t} for t in ("quantum flux capacitor", "", "zzzz", "Men Shoes Watch Lipstick")]
    preds = task.predict(model, [*test_rows.to_dict("records"), *odd], top_k=5)
    assert set(preds.labels) <= tree and all(lab in tree for row in preds.top_k for lab, _ in row)
    for label, levels in zip(preds.labels, preds.levels, strict=True):
        assert SEPARATOR.join(name for name, _ in levels) == label
        confidences = [p for _, p in levels]
        assert confidences == sorted(confidences, reverse=True)  # a node holds every path beneath it


def test_the_api_answers_paths_and_takes_the_declared_attributes(api):
    record = {"title": "Puma Men Black Running Shoes", "gender": "Men", "usage": "Sports", "year": 2012}
    r = api.post("/v1/category/predict", json=record)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"] == SEPARATOR.join(body["path"]) and len(body["path"]) == 3
    assert [lv["level"] for lv in body["levels"]] == [1, 2, 3]
    assert body["levels"][0]["confidence"] >= body["levels"][2]["confidence"] == pytest.approx(body["confidence"])
    assert all(SEPARATOR in t["label"] for t in body["top_k"])

    bad = api.post("/v1/category/predict", json={**record, "year": "last year"})
    assert bad.status_code == 422 and "year" in bad.text
    batch = api.post("/v1/category/predict/batch", json={"records": [record, {"title": "Lakme Lipstick"}]})
    assert batch.status_code == 200 and len(batch.json()["predictions"]) == 2

    schema = api.get("/openapi.json").json()
    body_schema = schema["paths"]["/v1/category/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert {"gender", "usage", "year", "title"} <= set(body_schema["schema"]["properties"])
    batch_schema = schema["paths"]["/v1/category/predict/batch"]["post"]["requestBody"]["content"]
    assert "gender" in str(batch_schema)


def test_the_profile_watches_the_attributes_and_each_level(fashion):
    s, result, _ = fashion
    profile = Profile.from_dict(RegistryStore(s).load_profile(result.model_name, result.version))
    assert {"gender", "usage", "prediction_level_1", "prediction_level_2", "prediction"} <= set(profile.categorical)
    assert "year" in profile.numeric


def test_batch_output_has_each_level_and_the_attributes(fashion, tmp_path):
    from skuflow.batch.score import run_batch

    s, _, frame = fashion
    src = tmp_path / "in.parquet"
    frame.iloc[100:400].rename(columns={"productDisplayName": "title"}).assign(
        year=lambda f: pd.to_numeric(f["year"], errors="coerce")).to_parquet(src)
    out = tmp_path / "out"
    res = run_batch("category", str(src), str(out), s, n_workers=1, log_to_mlflow=False)
    scored = pd.read_parquet(out)
    assert res.rows == 300 and res.invalid_rows == 0
    for col in ("level_1", "level_2", "level_3", "level_1_confidence", "gender", "usage", "year"):
        assert col in scored.columns, col
    joined = scored[["level_1", "level_2", "level_3"]].astype(str).agg(SEPARATOR.join, axis=1)
    assert (joined == scored["prediction"]).all()
