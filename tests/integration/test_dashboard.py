"""Every dashboard page driven by Streamlit's AppTest against a real SQLite MLflow store with trained
models, a prediction log filled through the real API, and a real batch job."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from skuflow.data.generate import generate_catalogue, listing_records  # noqa: E402
from skuflow.images.sources import FASHION_MNIST_DIR, read_images  # noqa: E402
from skuflow.registry.store import RegistryStore  # noqa: E402
from skuflow.serving.app import create_app  # noqa: E402
from skuflow.training.config import TrainConfig  # noqa: E402
from skuflow.training.train import train  # noqa: E402
from tests.conftest import FAST_LGBM, make_settings  # noqa: E402
from tests.helpers import FEEDBACK  # noqa: E402

APP = str(Path(__file__).resolve().parents[2] / "src" / "skuflow" / "dashboard" / "app.py")
FAST_CNN = TrainConfig.model_validate(
    {"model": {"kind": "cnn", "params": {"epochs": 2, "width": 16, "batch_size": 32}}})


@pytest.fixture(scope="module")
def board_home(tmp_path_factory):
    from skuflow.batch.score import run_batch
    from skuflow.data.ingest import write_table

    home = tmp_path_factory.mktemp("board") / "home"
    settings = make_settings(home, reload_interval=0.0)
    cfg = TrainConfig(model=FAST_LGBM)
    train("category", generate_catalogue(1500, seed=1), cfg, settings)
    train("category", generate_catalogue(1500, seed=2), cfg, settings)
    if os.path.exists(FASHION_MNIST_DIR):
        train("returns", "fashion-mnist:200", FAST_CNN, settings)
    with TestClient(create_app(settings)) as client:
        while client.get("/ready").status_code != 200:
            time.sleep(0.1)
        answered = []
        for row in listing_records(generate_catalogue(150, seed=9)):
            r = client.post("/v1/category/predict", json={k: row[k] for k in ("title", "description", "brand",
                                                                               "seller_id", "price") if k in row})
            answered.append((r.json()["request_id"], row["category"]))
        client.app.state.scorer.plog.flush()  # feedback must find its prediction in the log
        for rid, label in answered[::3]:
            r = client.post("/v1/category/feedback", json={"request_id": rid, "label": label}, headers=FEEDBACK)
            assert r.status_code == 200
    path = str(home.parent / "catalogue.parquet")
    write_table(generate_catalogue(600, seed=5), path)
    run_batch("category", path, str(home.parent / "scored"), settings, n_workers=1)
    return settings


ADMIN_KEY = "board-key"


@pytest.fixture
def app(board_home, monkeypatch):
    """The dashboard with the admin key configured and entered (without one it is read-only)."""
    monkeypatch.setenv("SKUFLOW_HOME", str(board_home.home))
    monkeypatch.setenv("SKUFLOW_ADMIN_API_KEY", ADMIN_KEY)
    # the Monitoring page's retraining is a real flow run: on a small catalogue with a small model
    recipe = board_home.home.parent / "retrain.yaml"
    recipe.write_text("model:\n  kind: lightgbm\n  params: {n_estimators: 40, num_leaves: 15}\n")
    monkeypatch.setenv("SKUFLOW_TRAIN_DATA", "synthetic:800")
    monkeypatch.setenv("SKUFLOW_TRAIN_CONFIG", str(recipe))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.sidebar.text_input(key="admin_key").set_value(ADMIN_KEY).run()
    assert not at.exception, at.exception
    return at


def _page(at: AppTest, name: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(name).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_predict_page_scores_a_typed_product(app):
    app.selectbox(key="predict_task").set_value("category").run()
    app.text_input[0].set_value("Zenlu non-stick frying pan 28cm")
    app.button[0].click().run()  # the form's submit button
    assert not app.exception
    from skuflow.data.generate import CATEGORIES

    assert _metric(app, "Prediction") in CATEGORIES
    assert _metric(app, "Confidence").endswith("%")
    # the probabilities and the explanation: two charts, and the decomposition in the caption
    assert len(app.get("arrow_bar_chart")) + len(app.get("vega_lite_chart")) >= 2
    assert any(h.value == "Why" for h in app.subheader)
    assert any("Raw score of" in c.value and "bias" in c.value for c in app.caption)


@pytest.mark.skipif(not os.path.exists(FASHION_MNIST_DIR), reason="dataset-fashion-mnist not installed")
def test_predict_page_classifies_an_uploaded_photo(app):
    app.selectbox(key="predict_task").set_value("returns").run()
    image = read_images("fashion-mnist:3")["image"].iloc[-1]
    app.file_uploader(key="photo").set_value(("item.png", image, "image/png")).run()
    assert not app.exception, app.exception
    from skuflow.images.sources import FASHION_MNIST_CLASSES

    assert _metric(app, "Prediction") in FASHION_MNIST_CLASSES
    assert any("occlusion" in c for i in app.get("image") for c in i.captions)  # the heat map under the prediction


def test_models_page_lists_versions_history_and_moves_the_alias_on_confirmation(app, board_home):
    _page(app, "Models")
    app.selectbox(key="models_task").set_value("category").run()
    versions = app.dataframe[0].value
    assert sorted(versions["version"].tolist()) == [1, 2]
    history = app.dataframe[1].value
    assert len(history) >= 1 and "reason" in history.columns
    champion = RegistryStore(board_home).champion("category").version
    assert len(app.get("image")) >= 4  # the champion's confusion matrix, curves, reliability, importance
    other = 1 if champion == 2 else 2
    app.selectbox(key="inspect_version").set_value(other).run()
    assert not app.exception, app.exception
    assert len(app.get("image")) >= 8  # the inspected version beside the champion
    summary = app.dataframe[2].value
    assert "ECE" in summary.index and f"v{champion} (champion)" in summary.columns and f"v{other}" in summary.columns
    store = RegistryStore(board_home)
    before = store.champion("category").version
    target = 1 if before == 2 else 2
    app.selectbox(key="promote_version").set_value(target).run()
    app.button(key="ask_promote").click().run()
    assert store.champion("category").version == before  # nothing moves before confirmation
    assert any("Confirm" in w.value for w in app.warning)
    app.button(key="confirm").click().run()
    assert not app.exception, app.exception
    assert store.champion("category").version == target
    assert any(f"-> v{target}" in s.value for s in app.success)
    from skuflow.registry.aliases import promote

    promote(store, "category", before, reason="restore for the next tests")  # monitoring reads the champion


def test_monitoring_page_shows_traffic_drift_accuracy_and_starts_retraining(app, board_home, prefect_api,
                                                                             monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the retraining flow runs in a child process
    _page(app, "Monitoring")
    app.selectbox(key="monitoring_task").set_value("category").run()
    assert not app.exception, app.exception
    drift = app.dataframe[0].value
    assert {"feature", "threshold", "drifted"} <= set(drift.columns) and "price" in drift["feature"].tolist()
    assert _metric(app, "Live accuracy").endswith("of 50")
    assert _metric(app, "Estimated accuracy (no labels)").endswith("%") and _metric(app, "Outliers").endswith("%")
    app.button(key="retrain").click().run()
    assert any("retraining started" in s.value for s in app.success)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not any("succeeded" in m.value or "failed" in m.value
                                                   for m in app.markdown):
        time.sleep(2)
        app.run()
    states = [m.value for m in app.markdown if "after" in m.value]
    assert states and "**succeeded**" in states[0], states


def test_batch_page_shows_the_latest_job(app):
    _page(app, "Batch")
    app.selectbox(key="batch_task").set_value("category").run()
    assert _metric(app, "Rows scored (latest)") == "600"
    assert any("scored" in m.value for m in app.markdown)


def test_experiments_page_starts_shows_and_stops_an_experiment(app, board_home):
    from skuflow.experiments import record

    store = RegistryStore(board_home)
    champion = store.champion("category").version
    _page(app, "Experiments")
    app.selectbox(key="experiments_task").set_value("category").run()
    app.radio(key="exp_mode").set_value("shadow")
    app.slider(key="exp_traffic").set_value(0.5)
    app.button[0].click().run()  # the form's Start
    assert not app.exception, app.exception
    exp = record.load(store, "category")
    assert exp.running and exp.mode == "shadow" and exp.traffic == 0.5 and exp.champion == champion
    assert exp.started_by == "dashboard" and store.audit("category")[-1]["action"] == "experiment start"
    assert _metric(app, "State") == "running" and "variant" in app.dataframe[0].value.columns
    app.button(key="stop_experiment").click().run()
    assert record.load(store, "category").state == "stopped"
    assert store.champion("category").version == champion


@pytest.mark.parametrize("configured", [False, True])
def test_changes_need_the_admin_key_and_without_one_the_dashboard_is_read_only(board_home, monkeypatch, configured):
    from skuflow.experiments import record

    monkeypatch.setenv("SKUFLOW_HOME", str(board_home.home))
    if configured:
        monkeypatch.setenv("SKUFLOW_ADMIN_API_KEY", ADMIN_KEY)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _page(at, "Experiments")
    at.selectbox(key="experiments_task").set_value("category").run()
    store = RegistryStore(board_home)
    before = record.load(store, "category")
    at.button[0].click().run()
    assert any(("admin key" if configured else "Read-only") in w.value for w in at.warning)
    assert record.load(store, "category") == before  # nothing started
    if not configured:
        return
    at.sidebar.text_input(key="admin_key").set_value(ADMIN_KEY).run()
    at.button[0].click().run()
    assert record.load(store, "category").running
    record.end(store, "category", "stopped", "test teardown")
