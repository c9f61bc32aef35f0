"""Per-key rate limits: a key over its rate gets 429 with Retry-After on writes and expensive reads, other keys
and cheap routes are untouched, and the bucket refills with time."""

from __future__ import annotations

from fastapi.testclient import TestClient

from skuflow.serving.app import create_app
from skuflow.serving.rate_limits import TokenBuckets
from tests.helpers import FEEDBACK, PRODUCT, wait_ready


def test_a_bucket_refuses_past_its_burst_and_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst_seconds=3, clock=lambda: now[0])  # 1 a second, burst of 3
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 1.0  # the fourth waits a second
    assert buckets.take("b") == 0.0  # another key has its own bucket
    now[0] = 1.0
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0


def test_writes_and_expensive_reads_over_the_rate_get_429_with_retry_after(trained_home):
    s, _ = trained_home
    limited = s.model_copy(update={"rate_limit_writes": 6.0, "rate_limit_reads": 12.0})  # bursts of 1 and 2
    with TestClient(create_app(limited)) as client:
        wait_ready(client)
        unknown = {"request_id": "no-such-request", "label": "books"}
        assert client.post("/v1/category/feedback", json=unknown, headers=FEEDBACK).status_code == 404
        refused = client.post("/v1/category/feedback", json=unknown, headers=FEEDBACK)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error_code"] == "rate_limited"
        # another key is counted on its own
        other = client.post("/v1/category/feedback", json=unknown, headers={"X-Feedback-Key": "other"})
        assert other.status_code != 429
        # expensive reads have their own rate; single predictions and probes are never limited
        codes = [client.get("/v1/category/drift?window=100").status_code for _ in range(3)]
        assert codes[:2] == [200, 200] and codes[2] == 429
        assert all(client.post("/v1/category/predict", json=PRODUCT).status_code == 200 for _ in range(20))
        assert client.get("/health").status_code == 200
        assert 'status="429"' in client.get("/metrics").text
        paths = client.get("/openapi.json").json()["paths"]
        for path, method in (("/v1/category/feedback", "post"), ("/v1/category/drift", "get"),
                             ("/v1/category/predict/batch", "post")):
            assert "Retry-After" in paths[path][method]["responses"]["429"]["headers"], path
        assert "429" not in paths["/v1/category/predict"]["post"]["responses"]


def test_without_limits_no_operation_documents_429(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p, ops in paths.items() for op in ops.values() if "429" in op.get("responses", {})]
