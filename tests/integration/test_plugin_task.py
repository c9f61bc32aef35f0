"""Plug-in proof: a regression task written outside skuflow (tests/plugins/toy_price.py), registered by
hand, goes through train -> gate -> serve -> feedback -> drift -> batch -> the dashboard with no change to
skuflow's code. Real MLflow store, real API over TestClient, real Dask local cluster, real AppTest."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.batch.score import run_batch
from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.tasks import base
from skuflow.training.train import train
from tests.conftest import make_settings
from tests.helpers import FEEDBACK, logged
from tests.plugins.toy_price import PriceTask

APP = str(Path(__file__).resolve().parents[2] / "src" / "skuflow" / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def toy_task():
    base.task_names()  # the built-ins first: restoring the registry afterwards keeps them
    saved = dict(base._REGISTRY)
    base.register_task("toy_price", PriceTask)
    yield PriceTask()
    base._REGISTRY.clear()
    base._REGISTRY.update(saved)


def _rows(n: int, seed: int) -> pd.DataFrame:
    return generate_catalogue(n, seed=seed)[["id", "title", "brand", "price"]].dropna(subset=["price"])  # the label


@pytest.fixture(scope="module")
def trained(toy_task, tmp_path_factory):
    home = tmp_path_factory.mktemp("plugin") / "home"
    settings = make_settings(home, reload_interval=0.0, monitor_interval=0.0, promotion_min_rows=100)
    first = train("toy_price", _rows(1500, 1), None, settings)
    second = train("toy_price", _rows(1500, 2), None, settings)
    return settings, first, second


def test_a_regression_plugin_trains_with_intervals_and_the_gate_weighs_rmse(trained):
    settings, first, second = trained
    assert first.promoted and first.decision["verdict"] == "no champion yet"
    m = first.metrics
    assert {"rmse", "mae", "r2", "interval_coverage"} <= set(m) and m["r2"] > 0.2
    assert 0.8 <= m["interval_coverage"] <= 0.97  # 90% intervals on 300 held-out rows
    d = second.decision
    assert d["metric"] == "rmse" and d["rows_compared"] >= 100
    # a positive gain means a lower RMSE: the sign follows the metric's direction
    assert np.isclose(d["gain"], d["champion_score"] - d["challenger_score"])
    assert d["verdict"] in ("promoted", "no significant difference", "challenger worse")
    store = RegistryStore(settings)
    run = store.client.get_run(first.run_id)
    logged = {a.path for a in store.client.list_artifacts(run.info.run_id)}
    assert {"predicted_vs_actual.png", "residuals.png"} <= logged


def test_a_regression_plugin_is_served_logged_scored_by_feedback_and_drift_checked(trained):
    settings, *_ = trained
    rows = _rows(200, 7)
    with TestClient(create_app(settings)) as client:
        for _ in range(400):
            if client.get("/ready").status_code == 200:
                break
            time.sleep(0.05)
        r = client.post("/v1/toy_price/predict", json={"title": "Kovari wireless headphones", "brand": "Kovari"})
        assert r.status_code == 200, r.text
        body = r.json()
        low, high = body["interval"]
        assert isinstance(body["prediction"], float) and low <= body["prediction"] <= high
        assert client.post("/v1/toy_price/predict", json={"brand": "x"}).status_code == 422
        ids = []
        for rec in listing_records(rows):
            r = client.post("/v1/toy_price/predict", json={k: rec[k] for k in ("title", "brand") if k in rec})
            ids.append((r.json()["request_id"], rec["price"]))
        logged(client, "toy_price")
        for rid, price in ids[:50]:
            r = client.post("/v1/toy_price/feedback", json={"request_id": rid, "label": str(price)}, headers=FEEDBACK)
            assert r.status_code == 200
        drift = client.get("/v1/toy_price/drift?window=200").json()
        cols = {c["column"]: c for c in drift["columns"]}
        assert cols["prediction"]["kind"] == "prediction" and cols["prediction"]["method"] == "ks"
        assert "confidence" not in cols
        assert drift["live"]["metric"] == "rmse" and drift["live"]["n"] == 50 and drift["live"]["value"] > 0
        text = client.get("/metrics").text
        assert 'skuflow_prediction_value_count{model_version="' in text and 'task="toy_price"' in text
        assert 'skuflow_predictions_total{label=' not in text  # numbers never become label values


def test_a_regression_plugin_is_batch_scored_on_dask(trained, tmp_path):
    settings, *_ = trained
    source = tmp_path / "catalogue.parquet"
    frame = _rows(600, 11).drop(columns=["price"])
    frame.to_parquet(source)
    out = run_batch("toy_price", str(source), str(tmp_path / "scored"), settings, n_workers=1, partition_rows=200)
    scored = pd.read_parquet(tmp_path / "scored")
    assert out.rows == len(frame) and out.summary["rows"] == len(frame) and out.summary["min"] <= out.summary["mean"]
    assert {"prediction", "lower", "upper"} <= set(scored.columns)
    assert (scored["lower"] <= scored["prediction"]).all() and (scored["prediction"] <= scored["upper"]).all()


def test_a_regression_plugin_shows_on_the_dashboard(trained, monkeypatch):
    pytest.importorskip("streamlit", reason="the dashboard extra is not installed")
    from streamlit.testing.v1 import AppTest

    settings, *_ = trained
    monkeypatch.setenv("SKUFLOW_HOME", str(settings.home))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="predict_task").set_value("toy_price").run()
    at.text_input[0].set_value("Zenlu non-stick frying pan 28cm")
    at.button[0].click().run()
    assert not at.exception, at.exception
    figures = {m.label: m.value for m in at.metric}
    assert float(figures["Prediction"]) > 0 and " to " in figures["Interval"]
