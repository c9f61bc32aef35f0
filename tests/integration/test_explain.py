"""Explanations: exact decompositions of real models trained on small data, served over HTTP."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from skuflow.errors import NotSupportedError
from skuflow.estimators.pipeline import final_estimator, transform_features
from skuflow.evaluation.explain import class_booster, contributions
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import get_task
from tests.helpers import PRODUCT


@pytest.fixture(scope="module")
def fitted(catalogue):
    """Each family with an exact explanation, trained on rows without a price: the two price columns are
    constants in training, so no model can use them."""
    task = get_task("category")
    rows = catalogue.drop(columns=["price"]).head(800)
    models = {}
    for kind, params in {"lightgbm": {"n_estimators": 40}, "linear": {}, "logreg": {"C": 2.0}}.items():
        model = task.build_model({"kind": kind, "params": params}, {})
        models[kind] = model.fit(rows, rows["category"].astype(str).to_numpy())
    priced = catalogue.dropna(subset=["price"]).drop(columns=["category"]).head(25)
    return task, models, priced.to_dict("records"), rows


def _raw_scores(model, record) -> np.ndarray:
    est, X = final_estimator(model), transform_features(model, [record])
    if hasattr(est, "booster_"):
        return np.asarray(est.booster_.predict(X, raw_score=True))[0]
    return np.asarray(X.astype(np.float64) @ est.coef_.T + est.intercept_)[0]  # sklearn's own sums in float32


@pytest.mark.parametrize("kind", ["lightgbm", "linear", "logreg"])
def test_contributions_add_up_to_the_raw_score_and_constants_get_zero(fitted, kind):
    task, models, records, _ = fitted
    model = models[kind]
    width = sum(w for _, w in model.steps[0][1].blocks())
    for record in records:
        e = task.explain(model, record, top=5)
        raw = _raw_scores(model, record)
        k = list(map(str, final_estimator(model).classes_)).index(e["prediction"])
        assert e["raw_score"] == pytest.approx(float(raw[k]), abs=1e-6)
        total = e["bias"] + sum(c["contribution"] for c in e["contributions"]) + e["rest"]
        assert total == pytest.approx(e["raw_score"], abs=1e-6)
        assert len(e["contributions"]) == 5
        assert [abs(c["contribution"]) for c in e["contributions"]] == sorted(
            (abs(c["contribution"]) for c in e["contributions"]), reverse=True)
        # the record has a price now, but the model never saw one: its columns contribute exactly zero
        X = sp.csr_matrix(transform_features(model, [record]))
        cols, values, _, _ = contributions(final_estimator(model), X, k)
        assert not np.any(values[np.isin(cols, [width - 2, width - 1])])


def test_a_class_booster_gives_the_full_models_contributions(fitted):
    _, models, records, _ = fitted
    est = final_estimator(models["lightgbm"])
    X = transform_features(models["lightgbm"], records[:5]).toarray()
    full = est.booster_.predict(X, pred_contrib=True)
    n_classes = len(est.classes_)
    for k in range(n_classes):
        mine = class_booster(est.booster_, k).predict(X, pred_contrib=True)
        np.testing.assert_allclose(mine, full[:, k * (X.shape[1] + 1):(k + 1) * (X.shape[1] + 1)], atol=1e-9)


def test_names_are_the_users_terms(fitted):
    task, models, _, rows = fitted
    seller = str(rows["seller_id"].dropna().iloc[0])  # a seller the model trained on
    # a word pair of a training title, such as "wireless headphones"
    pair = next(m.group(0) for t in rows["title"].str.lower() for m in [re.search(r"\b[a-z]{4,} [a-z]{4,}\b", t)] if m)
    e = task.explain(models["logreg"], {**PRODUCT, "title": pair, "seller_id": seller}, top=5000)
    names = {c["feature"] for c in e["contributions"]}
    assert f"'{pair}'" in names and f"seller_id={seller.lower()}" in names
    assert not any("kovari" in n for n in names)  # a brand never seen in training has no weight to give


def test_a_family_without_an_exact_explanation_says_so(catalogue):
    task = get_task("category")
    model = task.build_model({"kind": "rf_smote", "params": {"n_estimators": 10}}, {})
    model.fit(catalogue, catalogue["category"].astype(str).to_numpy())
    with pytest.raises(NotSupportedError, match="RandomForestClassifier"):
        task.explain(model, PRODUCT)


def test_explain_route_answers_the_served_champion(client, trained_home):
    s, result = trained_home
    r = client.post("/v1/category/explain?top=3", json=PRODUCT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"] == client.post("/v1/category/predict", json=PRODUCT).json()["prediction"]
    assert len(body["contributions"]) == 3 and body["version"] == result.version
    total = body["bias"] + sum(c["contribution"] for c in body["contributions"]) + body["rest"]
    assert total == pytest.approx(body["raw_score"], abs=1e-6)
    model = RegistryStore(s).load_model(result.model_name, result.version)
    k = list(map(str, final_estimator(model).classes_)).index(body["prediction"])
    assert body["raw_score"] == pytest.approx(float(_raw_scores(model, PRODUCT)[k]), abs=1e-6)
    # error twins: unknown task, missing field, out-of-range top
    assert client.post("/v1/nope/explain", json=PRODUCT).status_code == 404
    r = client.post("/v1/category/explain", json={"price": 3})
    assert r.status_code == 422 and "title" in r.json()["message"]
    assert client.post("/v1/category/explain?top=0", json=PRODUCT).status_code == 422
    assert "/v1/category/explain" in client.get("/openapi.json").json()["paths"]


def test_every_classification_version_carries_curves_calibration_and_importance(trained_home):
    s, result = trained_home
    store = RegistryStore(s)
    import json

    curves = json.loads(store.version_artifact(result.model_name, result.version, "roc_pr_curves.json"))
    assert {"micro", "macro"} <= set(curves["roc"]) and 0.5 < curves["roc"]["macro"]["auc"] <= 1
    assert len(curves["pr"]["micro"]["recall"]) <= 200
    calibration = json.loads(store.version_artifact(result.model_name, result.version, "reliability.json"))
    assert 0 <= calibration["ece"] < 0.5 and sum(b["rows"] for b in calibration["bins"]) == calibration["rows"]
    weights = json.loads(store.version_artifact(result.model_name, result.version, "importance.json"))
    assert sum(weights["families"].values()) == pytest.approx(1.0) and weights["features"]
    for png in ("roc_pr_curves.png", "reliability.png", "importance.png"):
        assert store.version_artifact(result.model_name, result.version, png)[:4] == b"\x89PNG"
