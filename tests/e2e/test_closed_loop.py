"""The whole loop on embedded defaults: serve v1 -> shifted traffic -> drift alert -> retraining (a real
Prefect flow in its own process) -> v2 promoted -> the running server answers with v2, no request failed."""

import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from skuflow.data.generate import DriftKnobs, generate_catalogue, listing_records
from skuflow.data.ingest import write_table
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.settings import Settings
from skuflow.training.config import ModelConfig, TrainConfig
from skuflow.training.train import train
from tests.helpers import running_server

FIELDS = ["title", "description", "brand", "seller_id", "price"]
RELOAD_S = 1.0


@pytest.mark.slow
def test_drift_triggers_retraining_and_hot_reload(tmp_path, monkeypatch, prefect_api):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the retraining flow runs in a child process
    home = tmp_path / "home"
    shifted = DriftKnobs(price_scale=1.8, category_weights={"books": 6.0, "grocery": 4.0})
    fresh = tmp_path / "fresh.parquet"  # what the retraining ingests: the world as it is now
    write_table(generate_catalogue(3000, seed=11, knobs=shifted), str(fresh))
    cfg = tmp_path / "retrain.yaml"
    cfg.write_text("model:\n  kind: lightgbm\n  params: {n_estimators: 60, num_leaves: 15}\n")
    monkeypatch.setenv("SKUFLOW_HOME", str(home))
    settings = Settings(home=home, monitor_interval=1.0, reload_interval=RELOAD_S, drift_window=300,
                        retrain_consecutive=2, retrain_min_rows=200, retrain_cooldown=3600,
                        train_data=str(fresh), train_config=str(cfg))
    # 1,500 rows: 300 held out, enough for the reference to hold each predicted class's share
    v1 = train("category", generate_catalogue(1500, seed=1), TrainConfig(model=ModelConfig(
        kind="lightgbm", params={"n_estimators": 15, "num_leaves": 7})), settings)
    assert v1.promoted and v1.version == 1

    traffic = listing_records(generate_catalogue(20_000, seed=12, knobs=shifted)[FIELDS])
    statuses: list[int] = []
    versions: dict[int, float] = {}  # model version -> time first seen
    stop = threading.Event()

    def send(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            for i, rec in enumerate(traffic * 10):
                if stop.is_set():
                    return
                r = client.post("/v1/category/predict", json=rec)
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.setdefault(int(r.headers["x-model-version"]), time.time())
                if i % 50 == 0:
                    time.sleep(0.01)

    with running_server(create_app(settings)) as base:
        sender = threading.Thread(target=send, args=(base,), daemon=True)
        sender.start()
        deadline = time.monotonic() + 240
        try:
            while 2 not in versions and time.monotonic() < deadline and sender.is_alive():
                time.sleep(0.2)
            time.sleep(1)  # a little more traffic on v2
            stop.set()
            retrain = httpx.get(base + "/v1/category/retrain").json()
            while retrain.get("state") == "running" and time.monotonic() < deadline:  # the flow's teardown
                time.sleep(0.5)
                retrain = httpx.get(base + "/v1/category/retrain").json()
            drift = httpx.get(base + "/v1/category/drift?window=300").json()
            info = httpx.get(base + "/info").json()["models"]["category"]
        finally:
            stop.set()
            sender.join(timeout=30)

    assert 2 in versions, f"v2 never served; retrain run: {retrain}"
    assert retrain["state"] == "succeeded" and retrain["summary"]["promoted"], retrain
    assert "consecutive" in retrain["reason"]
    assert retrain["summary"]["champion_before"] == 1 and retrain["summary"]["champion_after"] == 2
    assert info["version"] == 2
    # v2 went live within one reload poll (plus loading it) of the alias moving
    moved = next(e for e in RegistryStore(settings).audit("category") if e["to"] == 2)
    moved_at = datetime.strptime(moved["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    print(f"v2 served {versions[2] - moved_at:.1f}s after the alias moved (audit time has 1 s resolution)")
    assert versions[2] - moved_at <= RELOAD_S + 10, (versions, moved)
    assert statuses and all(s == 200 for s in statuses), f"failed requests: {set(statuses) - {200}}"
    # the new champion's own profile reflects the shifted world: the same traffic no longer drifts on price
    assert drift["model_version"] == 2
    assert not next(c for c in drift["columns"] if c["column"] == "price")["drifted"], drift["columns"]
