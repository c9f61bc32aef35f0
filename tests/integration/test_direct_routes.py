"""The prediction routes answered past FastAPI's router behave exactly as the routed ones: the same query
validation, the same error bodies, the same metrics labels, and the router still answers what the table
cannot."""

import re

from fastapi.testclient import TestClient

from skuflow.data.generate import listing_records
from skuflow.serving.direct import direct_table
from tests.helpers import PRODUCT


def test_the_table_holds_the_record_prediction_routes(client):
    table = direct_table(client.app)
    assert ("POST", "/v1/category/predict") in table and ("POST", "/v1/category/predict/batch") in table
    assert ("POST", "/v1/returns/predict") in table  # image uploads too
    assert not any(path.startswith("/v2/") or path.endswith("/explain") for _, path in table)


def test_query_parameters_are_validated_like_the_router(client):
    assert len(client.post("/v1/category/predict?top_k=2", json=PRODUCT).json()["top_k"]) == 2
    for bad in ("top_k=0", "top_k=51", "top_k=two"):  # the router answers these: one error shape
        r = client.post(f"/v1/category/predict?{bad}", json=PRODUCT)
        assert r.status_code == 422 and r.json()["details"]["fields"] == ["query.top_k"], (bad, r.json())
    # a parameter the route does not declare is ignored, as FastAPI ignores it
    assert client.post("/v1/category/predict?colour=red", json=PRODUCT).status_code == 200


def test_errors_keep_their_handlers_and_the_request_id(client):
    r = client.post("/v1/category/predict", json={"price": 10})
    assert r.status_code == 422 and r.json()["details"]["fields"] == ["title"]
    r = client.post("/v1/category/predict/batch", json={"records": [{"title": "x"}] * 10_000})
    assert r.status_code == 413 and r.json()["error_code"] == "payload_too_large"
    r = client.get("/v1/category/predict")
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    r = client.post("/v1/category/predict", json=PRODUCT, headers={"X-Request-ID": "direct-1"})
    assert r.headers["x-request-id"] == "direct-1" and r.json()["request_id"] == "direct-1"


def test_direct_answers_are_counted_by_route_template(client, monkeypatch):
    from skuflow.serving.direct import DirectRoute

    taken = []
    arguments = DirectRoute.arguments
    monkeypatch.setattr(DirectRoute, "arguments", lambda self, q: taken.append(q) or arguments(self, q))
    def count() -> tuple[float, float]:
        text = client.get("/metrics").text
        found = re.search(r'skuflow_requests_total\{[^}]*route="/v1/category/predict"[^}]*status="200"[^}]*\} (\S+)',
                          text)
        calls = re.search(r'skuflow_model_seconds_count\{task="category"\} (\S+)', text)
        return float(found.group(1)) if found else 0.0, float(calls.group(1)) if calls else 0.0

    before = count()
    for _ in range(3):
        assert client.post("/v1/category/predict", json=PRODUCT).status_code == 200
    assert count() == (before[0] + 3, before[1] + 3)  # and the model's own time was observed for each
    assert len(taken) == 3  # the table answered them, not the router


def test_an_unexpected_failure_is_a_500_with_the_request_id(client, monkeypatch):
    task = client.app.state.holder.get("category").task

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(task), "predict", broken)
    quiet = TestClient(client.app, raise_server_exceptions=False)  # the app as a caller sees it: no traceback
    r = quiet.post("/v1/category/predict", json=PRODUCT, headers={"X-Request-ID": "direct-500"})
    assert r.status_code == 500 and r.json()["error_code"] == "internal_error"
    assert r.json()["request_id"] == "direct-500"


def test_served_probabilities_come_from_the_flat_forest_and_equal_the_boosters(client, trained_home, catalogue):
    from skuflow.estimators.flat_forest import available
    from skuflow.estimators.pipeline import final_estimator
    from skuflow.registry.store import RegistryStore

    s, result = trained_home
    served = final_estimator(client.app.state.holder.get("category").model)
    assert (getattr(served, "flat_forest_", None) is not None) == available()
    offline = RegistryStore(s).load_model("category", result.version)  # the booster, as batch scoring runs it
    rows = catalogue.head(25)[["title", "description", "brand", "seller_id", "price"]]
    expected = offline.predict_proba(rows)
    classes = list(final_estimator(offline).classes_)
    for row, probs in zip(listing_records(rows), expected, strict=True):
        top = client.post("/v1/category/predict?top_k=50", json=row).json()["top_k"]
        got = {t["label"]: t["probability"] for t in top}
        assert max(abs(got[c] - p) for c, p in zip(classes, probs, strict=True) if c in got) < 1e-6
