"""An A/B experiment end to end over HTTP: uvicorn on 127.0.0.1, two real versions of a category model, a
traffic simulator whose callers report the true category. v2 is truly better (v1 learnt from 200 rows), the
sequential test says so, the experiment promotes v2, the server hot-reloads it and the experiment ends.
Halfway the server restarts: every caller keeps its arm, and the counts carry on from the log."""

from __future__ import annotations

import time

import httpx

from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.settings import Settings
from skuflow.training.config import ModelConfig, TrainConfig
from skuflow.training.train import train
from tests.helpers import running_server

FIELDS = ["title", "description", "brand", "seller_id", "price"]
KEY = {"X-API-Key": "e2e-admin"}
SELLERS = 120


def _config(trees: int, leaves: int) -> TrainConfig:
    return TrainConfig(model=ModelConfig(kind="lightgbm", params={"n_estimators": trees, "num_leaves": leaves}))


def _send(base: str, rows: list[dict], statuses: list[int], arms: dict[str, set[str]]) -> None:
    """Each caller (a seller) asks, and reports the true category of what it asked about."""
    with httpx.Client(base_url=base, timeout=10) as client:
        for i, row in enumerate(rows):
            rec = {k: row[k] for k in FIELDS if k in row} | {"seller_id": f"S{i % SELLERS:03d}"}
            r = client.post("/v1/category/predict", json=rec)
            statuses.append(r.status_code)
            if r.status_code != 200:
                continue
            if "x-experiment-variant" in r.headers:
                arms.setdefault(rec["seller_id"], set()).add(r.headers["x-experiment-variant"])
            fb = client.post("/v1/category/feedback", json={"request_id": r.json()["request_id"],
                                                            "label": row["category"]}, headers=KEY)
            statuses.append(fb.status_code)


def test_ab_experiment_promotes_the_better_version_across_a_restart(tmp_path):
    settings = Settings(home=tmp_path / "home", admin_api_key=KEY["X-API-Key"], reload_interval=0.5)
    assert train("category", generate_catalogue(200, seed=1), _config(5, 4), settings).promoted
    v2 = train("category", generate_catalogue(2000, seed=2), _config(40, 15),
               settings.model_copy(update={"promotion_min_rows": 10**9}))  # registered, left to the experiment
    assert not v2.promoted
    traffic = listing_records(generate_catalogue(6000, seed=3))
    statuses: list[int] = []
    before: dict[str, set[str]] = {}
    after: dict[str, set[str]] = {}

    with running_server(create_app(settings)) as base:
        r = httpx.post(f"{base}/v1/category/experiment", headers=KEY, json={
            "challenger": v2.version, "mode": "ab", "traffic": 0.5, "key": "seller_id", "min_rows": 100,
            "guardrails": {"error_rate": 0.01}})
        assert r.status_code == 201
        # fewer than 100 feedback rows per arm, before and through the first batch after the restart: no
        # decision can land on a reload poll while the callers seen in both phases are still being counted
        _send(base, traffic[:90], statuses, before)
        status = httpx.get(f"{base}/v1/category/experiment").json()
        assert status["state"] == "running" and status["test"]["decision"] == "continue"

    with running_server(create_app(settings)) as base:  # a restart: nothing in memory survives
        status = httpx.get(f"{base}/v1/category/experiment").json()
        assert sum(v["feedback"] for v in status["variants"].values()) == 90  # counted from the log
        deadline = time.monotonic() + 120
        sent = 90
        while time.monotonic() < deadline:
            _send(base, traffic[sent:sent + 60], statuses, after)
            sent += 60
            if httpx.get(f"{base}/v1/category/experiment").json()["state"] != "running":
                break
        time.sleep(1.5)  # the next poll loads the new champion
        final = httpx.get(f"{base}/v1/category/experiment").json()
        served = httpx.post(f"{base}/v1/category/predict", json={"title": "kettle", "seller_id": "S001"})

    assert final["state"] == "promoted", final["outcome"]
    assert final["variants"]["challenger"]["accuracy"] > final["variants"]["champion"]["accuracy"]
    assert final["test"]["p_value"] <= 0.05 and final["test"]["interval"][0] > 0
    assert served.headers["x-model-version"] == str(v2.version) and "x-experiment-variant" not in served.headers
    assert set(statuses) == {200}  # every prediction and every feedback answered
    assert all(len(a) == 1 for a in {**before, **after}.values())  # nobody switched arm
    assert {k: before[k] for k in before.keys() & after.keys()} == {k: after[k] for k in before.keys() & after.keys()}
    assert len(before.keys() & after.keys()) >= 60
    store = RegistryStore(settings)
    assert store.champion("category").version == v2.version
    promotion = [e for e in store.audit("category") if e["action"] == "promote"][-1]
    assert final["id"] in promotion["reason"] and promotion["metrics"]["p_value"] <= 0.05
