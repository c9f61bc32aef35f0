"""The API over HTTP against a real registry holding a trained champion."""

import httpx
import pytest
from fastapi.testclient import TestClient

from skuflow.data.generate import listing_records
from skuflow.serving.app import create_app
from tests.helpers import FEEDBACK, PRODUCT, logged, running_server, wait_ready


def test_predict_one_product(client, trained_home):
    _, result = trained_home
    r = client.post("/v1/category/predict", json=PRODUCT)
    assert r.status_code == 200
    body = r.json()
    assert body["prediction"] == body["top_k"][0]["label"]
    assert 0 < body["confidence"] <= 1 and body["confidence"] == body["top_k"][0]["probability"]
    assert [t["probability"] for t in body["top_k"]] == sorted((t["probability"] for t in body["top_k"]),
                                                               reverse=True)
    assert (body["model"], body["version"]) == ("category", result.version)
    assert r.headers["X-Model-Version"] == str(result.version)
    assert len(client.post("/v1/category/predict?top_k=5", json=PRODUCT).json()["top_k"]) == 5


def test_online_prediction_equals_offline_model_prediction(client, trained_home, catalogue):
    from skuflow.registry.store import RegistryStore

    s, result = trained_home
    model = RegistryStore(s).load_model("category", result.version)
    rows = catalogue.head(20)[["title", "description", "brand", "seller_id", "price"]]
    offline = model.predict(rows).tolist()
    online = [client.post("/v1/category/predict", json=r).json()["prediction"]
              for r in listing_records(rows)]
    assert online == offline


def test_missing_title_is_422_naming_the_field(client):
    r = client.post("/v1/category/predict", json={"price": 10})
    assert r.status_code == 422
    assert r.json()["error_code"] == "invalid_input"
    assert "title" in r.json()["message"] and r.json()["details"]["fields"] == ["title"]


def test_wrong_type_is_422(client):
    r = client.post("/v1/category/predict", json={"title": "kettle", "price": "cheap"})
    assert r.status_code == 422 and "price" in r.json()["message"]
    assert client.post("/v1/category/predict", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422


def test_batch_predict_and_cap(client):
    r = client.post("/v1/category/predict/batch", json={"records": [PRODUCT, {"title": "paperback novel"}]})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2
    r = client.post("/v1/category/predict/batch", json={"records": [{"title": "x"}] * 10_000})
    assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"
    r = client.post("/v1/category/predict/batch", json={"records": [{"title": "ok"}, {"brand": "b"}]})
    assert r.status_code == 422 and "records.1.title" in r.json()["message"]


def test_unknown_task_is_404(client):
    r = client.post("/v1/nosuchtask/predict", json=PRODUCT)
    assert r.status_code == 404 and r.json()["error_code"] == "task_not_found"
    assert "nosuchtask" in r.json()["message"]


@pytest.mark.parametrize("payload", [
    {"dataframe_split": {"columns": ["title", "price"], "data": [["blender", 20], ["novel", 10]]}},
    {"dataframe_records": [{"title": "blender", "price": 20}, {"title": "novel"}]},
    {"instances": [{"title": "blender"}, {"title": "novel"}]},
    {"inputs": {"title": ["blender", "novel"], "price": [20, 10]}},
])
def test_invocations_mlflow_formats(client, payload):
    r = client.post("/invocations", json=payload)
    assert r.status_code == 200, r.text
    assert len(r.json()["predictions"]) == 2 and "X-Model-Version" in r.headers


def test_invocations_csv_and_errors(client):
    r = client.post("/invocations", content=b"title,price\nblender,20\n", headers={"content-type": "text/csv"})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 1
    r = client.post("/invocations", json={"instances": [{"price": 3}]})
    assert r.status_code == 422 and "title" in r.json()["message"]
    assert client.post("/invocations", json={"bogus": []}).status_code == 422
    r = client.post("/invocations", content=b"x", headers={"content-type": "image/png"})
    assert r.status_code == 415


def test_served_model_is_frozen_out_of_the_cyclic_collector(client):
    """A full collection over a loaded model's objects stalls every request for ~200 ms (the p99 spikes
    `benchmarks/serving.py` showed); the holder freezes them once loaded."""
    import gc

    model = client.app.state.holder.get("category").model
    young_and_old = {id(o) for gen in range(3) for o in gc.get_objects(generation=gen)}
    assert id(model) not in young_and_old and gc.get_freeze_count() > 10_000


def test_probes_info_and_metrics(client, trained_home):
    _, result = trained_home
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").json()["models"] == {"category": result.version}
    info = client.get("/info").json()["models"]["category"]
    assert info["version"] == result.version and info["run_id"] == result.run_id
    assert info["dataset_digest"] == result.dataset_digest and info["alias"] == "champion"
    client.post("/v1/category/predict", json=PRODUCT)
    text = client.get("/metrics").text
    version = str(result.version)
    labels = f'method="POST",model_version="{version}",route="/v1/category/predict",status="200",variant=""'
    assert "skuflow_requests_total{" + labels + "}" in text
    assert f'skuflow_prediction_confidence_count{{model_version="{version}",task="category",variant=""}}' in text
    assert 'skuflow_request_latency_seconds_bucket{le="0.005",method="POST",route="/v1/category/predict"}' in text
    assert "skuflow_predictions_total{" in text and "process_resident_memory_bytes" in text


def test_generate_endpoint(client):
    rows = client.get("/v1/data/generate?n=5").json()
    assert len(rows) == 5 and {"title", "price", "category"} <= set(rows[0])
    assert client.get("/v1/data/generate?n=0").status_code == 422


def test_not_ready_without_champion(settings):
    with TestClient(create_app(settings)) as c:
        import time

        deadline = time.monotonic() + 10
        while c.get("/ready").json().get("status") == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        r = c.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "failed"
        r = c.post("/v1/category/predict", json=PRODUCT)
        assert r.status_code == 503 and r.json()["error_code"] == "not_ready"


def test_real_http_server_and_body_cap(trained_home):
    s, result = trained_home
    small = s.model_copy(update={"max_body_bytes": 2048})
    with running_server(create_app(small)) as base:
        r = httpx.post(base + "/v1/category/predict", json=PRODUCT)
        assert r.status_code == 200 and r.headers["x-model-version"] == str(result.version)
        r = httpx.post(base + "/v1/category/predict", json={**PRODUCT, "description": "x" * 5000})
        assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"


def test_request_id_feedback_and_live_accuracy(client):
    r = client.post("/v1/category/predict", json=PRODUCT, headers={"X-Request-ID": "req-42"})
    assert r.headers["X-Request-ID"] == "req-42" and r.json()["request_id"] == "req-42"
    predicted = r.json()["prediction"]
    client.app.state.scorer.plog.flush()
    r = client.post("/v1/category/feedback", json={"request_id": "req-42", "label": predicted}, headers=FEEDBACK)
    assert r.status_code == 200 and r.json()["recorded"]
    r = client.post("/v1/category/feedback", json={"request_id": "never-seen", "label": "books"},
                    headers=FEEDBACK)
    assert r.status_code == 404 and "never-seen" in r.json()["message"]
    r = client.post("/v1/category/feedback", json={"label": "books"}, headers=FEEDBACK)
    assert r.status_code == 422 and "request_id" in r.json()["message"]
    generated = client.post("/v1/category/predict", json=PRODUCT).headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "req-42"


def test_drift_endpoint_reports_effect_sizes(client, catalogue):
    for rec in listing_records(catalogue[["title", "description", "brand", "seller_id", "price"]].head(150)):
        client.post("/v1/category/predict", json=rec)
    logged(client)
    body = client.get("/v1/category/drift?window=150").json()
    assert body["n_rows"] == 150 and body["task"] == "category"
    cols = {c["column"]: c for c in body["columns"]}
    assert {"price", "title_words", "brand", "seller_id", "prediction", "confidence"} <= set(cols)
    assert all(c["effect"] is not None and c["method"] in ("ks", "chi2", "psi", "jensen_shannon")
               for c in cols.values())
    assert body["live"]["n"] >= 0 and body["live"]["metric"] == "accuracy"
    text = client.get("/metrics").text
    assert 'skuflow_drift_effect{column="price"' in text and "skuflow_drift_detected{" in text
    assert client.get("/v1/category/drift?window=5").status_code == 422
    # the window is capped, and the cap is in the OpenAPI document: a read's work stays bounded
    cap = client.app.state.settings.max_drift_window
    too_big = client.get(f"/v1/category/drift?window={cap + 1}")
    assert too_big.status_code == 422 and "window" in too_big.text
    params = client.get("/openapi.json").json()["paths"]["/v1/category/drift"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "window")["schema"]["maximum"] == cap


def test_retrain_route_needs_the_admin_key(client, trained_home):
    r = client.post("/v1/category/retrain")
    assert r.status_code == 403 and "SKUFLOW_ADMIN_API_KEY" in r.json()["message"]
    s, _ = trained_home
    keyed = s.model_copy(update={"admin_api_key": "s3cret", "train_data": "synthetic:300",
                                 "reload_interval": 0.0})
    with TestClient(create_app(keyed)) as c:
        wait_ready(c)
        assert c.post("/v1/category/retrain", headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.get("/v1/category/retrain").status_code == 404
