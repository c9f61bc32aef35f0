"""The built-in regression task on real reviews: stars from text with calibrated intervals, trained into a
real MLflow store, gated on RMSE, served over the API with its interval, and rejected input named."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.serving.app import create_app
from skuflow.training.config import TrainConfig
from skuflow.training.train import train
from tests.conftest import SHARED_DATA, make_settings

REVIEWS = SHARED_DATA / "womens-reviews" / "womens_clothing_reviews.csv"
COLUMNS = {"Title": "title", "Review Text": "description", "Rating": "rating"}


@pytest.fixture(scope="module")
def reviews() -> pd.DataFrame:
    if not REVIEWS.exists():
        pytest.skip(f"{REVIEWS} not found")
    return pd.read_csv(REVIEWS).sample(3000, random_state=3)


def test_rating_learns_stars_with_intervals_that_cover(reviews, tmp_path):
    settings = make_settings(tmp_path / "home", promotion_min_rows=100)
    cfg = TrainConfig.model_validate({"data": {"columns": COLUMNS},
                                      "split": {"strategy": "random", "test_size": 0.25, "seed": 42}})
    first = train("rating", reviews.iloc[:1500], cfg, settings)
    m = first.metrics
    truth = pd.to_numeric(reviews.iloc[:1500]["Rating"])
    baseline = float(truth.std())  # predicting the mean scores about this RMSE
    assert m["rmse"] < 0.85 * baseline and m["r2"] > 0.25, m
    assert 0.84 <= m["interval_coverage"] <= 0.96, m  # 90% intervals on ~370 held-out reviews

    second = train("rating", reviews.iloc[1500:], cfg, settings)
    d = second.decision
    assert d["metric"] == "rmse" and np.isclose(d["gain"], d["champion_score"] - d["challenger_score"])

    with TestClient(create_app(settings)) as client:
        for _ in range(400):
            if client.get("/ready").status_code == 200:
                break
            time.sleep(0.05)
        happy = client.post("/v1/rating/predict", json={"title": "Love it", "description": "Perfect fit, "
                                                                                           "gorgeous colour."})
        sad = client.post("/v1/rating/predict", json={"description": "Cheap fabric, fell apart, returned it."})
        assert happy.status_code == 200 and sad.status_code == 200
        h, s = happy.json(), sad.json()
        assert h["prediction"] - s["prediction"] > 0.75, (h, s)  # a rave and a return are stars apart
        assert h["interval"][0] <= h["prediction"] <= h["interval"][1]
        why = client.post("/v1/rating/explain", json={"title": "Love it", "description": "Perfect fit, "
                                                                                       "gorgeous colour."}).json()
        assert why["prediction"] == pytest.approx(h["prediction"]) and why["method"].startswith("phrase")
        top = max(why["contributions"], key=lambda c: c["contribution"])  # the phrase that adds most stars
        assert top["contribution"] > 0 and any(w in top["feature"].lower() for w in ("love", "perfect", "gorgeous"))
        empty = client.post("/v1/rating/predict", json={"title": ""})
        assert empty.status_code == 422 and "title or description" in empty.json()["message"]


def test_rating_blend_stacks_members_and_reports_each(reviews, tmp_path):
    """The blend path without the encoder (two ridges): members scored once, stacked, the interval learnt
    on the held-out fold."""
    cfg = TrainConfig.model_validate({
        "data": {"columns": COLUMNS}, "split": {"strategy": "random", "test_size": 0.25, "seed": 42},
        "model": {"kind": "blend", "params": {"holdout": 0.2, "rounds": 2, "members": {
            "ridge": {"alpha": 3.0}, "smooth": {"kind": "ridge", "alpha": 30.0}}}}})
    result = train("rating", reviews.iloc[:1500], cfg, make_settings(tmp_path / "home"))
    m = result.metrics
    assert {"member_rmse.ridge", "member_rmse.smooth"} <= set(m)
    assert m["rmse"] <= max(m["member_rmse.ridge"], m["member_rmse.smooth"]) + 0.01
    assert 0.8 <= m["interval_coverage"] <= 0.97
