"""A real Prometheus (Debian package `prometheus`, installed by `make test`) scrapes a real API on
127.0.0.1 and answers a query for one of its metrics; the shipped alert rules pass promtool."""

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from skuflow.serving.app import create_app
from tests.helpers import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None,
                                      reason="prometheus not installed (make test installs it where apt exists)")


@needs_prometheus
def test_shipped_rules_and_config_are_valid():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    r = subprocess.run([promtool, "check", "rules", str(ROOT / "deploy/prometheus/alerts.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([promtool, "check", "config", "--syntax-only", str(ROOT / "deploy/prometheus/prometheus.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_prometheus
@pytest.mark.slow
def test_prometheus_scrapes_the_api(trained_home, tmp_path):
    s, result = trained_home
    with running_server(create_app(s)) as base:
        for _ in range(5):
            httpx.post(base + "/v1/category/predict", json={"title": "organic green tea", "price": 9.5})
        target = base.removeprefix("http://")
        port = free_port()
        (tmp_path / "prom.yml").write_text(
            "global: {scrape_interval: 1s}\n"
            f"scrape_configs:\n  - job_name: skuflow-api\n    static_configs:\n      - targets: ['{target}']\n")
        proc = subprocess.Popen([shutil.which("prometheus"), f"--config.file={tmp_path / 'prom.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            query = 'skuflow_requests_total{route="/v1/category/predict",status="200"}'
            deadline = time.monotonic() + 60
            found = []
            while time.monotonic() < deadline and not found:
                time.sleep(1)
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=5)
                except httpx.TransportError:
                    continue
                if r.status_code == 200:
                    found = r.json()["data"]["result"]
            assert found, "Prometheus never returned the API's request counter"
            sample = found[0]
            assert sample["metric"]["job"] == "skuflow-api"
            assert sample["metric"]["model_version"] == str(result.version)
            assert float(sample["value"][1]) >= 5
        finally:
            proc.terminate()
            proc.wait(timeout=20)
