"""The reads that show a model's traffic are public until a read key is set; then they need it (or the admin
key), and a refusal is counted like any other."""

from __future__ import annotations

from fastapi.testclient import TestClient

from skuflow.serving.app import create_app
from tests.helpers import wait_ready


def test_traffic_reads_need_the_read_key_once_one_is_set(trained_home):
    s, _ = trained_home
    keyed = s.model_copy(update={"read_api_key": "reader", "admin_api_key": "admin"})
    with TestClient(create_app(keyed)) as client:
        wait_ready(client)
        for path in ("/v1/category/drift?window=100", "/v1/category/retrain", "/v1/category/experiment"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers={"X-Read-Key": "wrong"}).status_code == 401, path
            for headers in ({"X-Read-Key": "reader"}, {"X-API-Key": "admin"}):
                assert client.get(path, headers=headers).status_code in (200, 404), (path, headers)  # 404: none ran
        assert client.get("/health").status_code == 200  # probes stay public
        assert "skuflow_auth_failures_total" in client.get("/metrics").text
