"""Online experiments against a real registry and a real app: the record in the registry, sticky A/B
assignment, the shadow, guardrails, and audited writes."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.pipeline import Pipeline

from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.experiments import record
from skuflow.experiments.assignment import bucket
from skuflow.monitoring.prediction_log import PredictionLog, experiment_rows
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.settings import Settings
from skuflow.training.config import ModelConfig, TrainConfig
from skuflow.training.train import train
from tests.failing_model import FailsOnMarker
from tests.helpers import wait_ready

FIELDS = ["title", "description", "brand", "seller_id", "price"]
KEY = "experiment-admin-key"
ADMIN = {"X-API-Key": KEY}


def _config(trees: int, leaves: int) -> TrainConfig:
    return TrainConfig(model=ModelConfig(kind="lightgbm", params={"n_estimators": trees, "num_leaves": leaves}))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """v1 champion; v2 registered beside it, not promoted (the gate is told it has too few rows)."""
    s = Settings(home=tmp_path_factory.mktemp("exp") / "home", admin_api_key=KEY, reload_interval=0)
    assert train("category", generate_catalogue(300, seed=1), _config(8, 7), s).promoted
    v2 = train("category", generate_catalogue(1200, seed=2), _config(30, 15),
               s.model_copy(update={"promotion_min_rows": 10**9}))
    assert not v2.promoted and v2.version == 2
    return s


@pytest.fixture
def client(home):
    with TestClient(create_app(home)) as c:
        wait_ready(c)
        yield c
    store = RegistryStore(home)
    exp = record.load(store, "category")
    if exp is not None and exp.running:
        record.end(store, "category", "stopped", "test teardown")


def _traffic(n: int, seed: int) -> list[dict]:
    return listing_records(generate_catalogue(n, seed=seed)[FIELDS])


def test_writes_need_the_key_and_are_audited(client, home):
    body = {"challenger": 2, "mode": "ab", "traffic": 0.5}
    assert client.post("/v1/category/experiment", json=body).status_code == 401
    assert client.post("/v1/category/experiment", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/v1/category/experiment", json={**body, "challenger": 1}, headers=ADMIN).status_code == 409
    assert client.post("/v1/category/experiment", json={**body, "mode": "canary"}, headers=ADMIN).status_code == 422
    r = client.post("/v1/category/experiment", json=body, headers=ADMIN)
    assert r.status_code == 201 and r.json()["state"] == "running" and r.json()["champion"] == 1
    assert client.post("/v1/category/experiment", json=body, headers=ADMIN).status_code == 409  # one at a time
    assert client.delete("/v1/category/experiment").status_code == 401
    stopped = client.delete("/v1/category/experiment", headers=ADMIN)
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    actions = [e["action"] for e in RegistryStore(home).audit("category")]
    assert actions[-2:] == ["experiment start", "experiment stopped"]
    assert RegistryStore(home).champion("category").version == 1  # a stop never moves the alias


def test_ab_assignment_is_sticky_per_key_and_splits_by_traffic(client, home):
    r = client.post("/v1/category/experiment", headers=ADMIN,
                    json={"challenger": 2, "mode": "ab", "traffic": 0.3, "key": "seller_id"})
    exp = record.Experiment.from_dict(r.json())
    rows = _traffic(400, seed=5)
    seen: dict[str, set[str]] = {}
    for i, rec in enumerate(rows):
        rec = {**rec, "seller_id": f"S{i % 80}"}
        resp = client.post("/v1/category/predict", json=rec)
        assert resp.status_code == 200
        variant = resp.headers["X-Experiment-Variant"]
        assert resp.headers["X-Model-Version"] == ("2" if variant == "challenger" else "1")
        assert resp.json()["version"] == int(resp.headers["X-Model-Version"])
        seen.setdefault(rec["seller_id"], set()).add(variant)
        # the same hash any replica computes, with nothing shared but the record
        expected = "challenger" if bucket(exp.salt, f"seller_id={rec['seller_id']}") < 0.3 else "champion"
        assert variant == expected
    assert all(len(v) == 1 for v in seen.values())  # sticky: a seller never changes arm
    share = sum("challenger" in v for v in seen.values()) / len(seen)
    assert 0.15 < share < 0.45
    # without a key field, the header names the caller
    h = [client.post("/v1/category/predict", json={"title": "kettle"}, headers={"X-Experiment-Key": "u-7"})
         .headers["X-Experiment-Variant"] for _ in range(5)]
    assert len(set(h)) == 1
    metrics = client.get("/metrics").text
    assert 'variant="challenger"' in metrics and 'variant="champion"' in metrics
    plog: PredictionLog = client.app.state.scorer.plog
    plog.flush()
    logged = experiment_rows(plog, exp.id)
    assert set(logged["variant"]) == {"champion", "challenger"}
    assert set(logged.loc[logged["variant"] == "challenger", "model_version"]) == {2}


def test_shadow_scores_aside_and_reports_agreement(client, home):
    client.post("/v1/category/experiment", headers=ADMIN, json={"challenger": 2, "mode": "shadow", "traffic": 1.0})
    rows = _traffic(120, seed=6)
    for rec in rows:
        resp = client.post("/v1/category/predict", json=rec)
        assert resp.headers["X-Model-Version"] == "1" and resp.headers["X-Experiment-Variant"] == "champion"
    assert client.app.state.router.drain(timeout=30)
    status = client.get("/v1/category/experiment").json()
    shadow, champ = status["variants"]["shadow"], status["variants"]["champion"]
    assert champ["attempts"] == shadow["attempts"] == len(rows) and shadow["errors"] == 0
    # class shares are rounded to 4 places
    assert 0.5 < status["agreement"] <= 1.0 and abs(sum(shadow["class_mix"].values()) - 1) < 1e-3
    metrics = client.get("/metrics").text
    assert "skuflow_experiment_shadow_agreement_total" in metrics and 'variant="shadow"' in metrics
    # the shadow's rows never count as answers: live accuracy and drift read only what callers got
    plog: PredictionLog = client.app.state.scorer.plog
    assert set(plog.window("category", last=10_000)["variant"].dropna()) <= {"champion", "challenger", "fallback"}


def test_a_failing_challenger_trips_the_guardrail_and_never_answers_again(client, home):
    store = RegistryStore(home)
    v2 = store.load_model("category", 2)
    brittle = Pipeline([("brittle", FailsOnMarker("BOOM")), *v2.steps])
    with store.run("category", run_name="brittle") as run:
        v3 = run.log_sklearn_model(brittle, "category", pd.DataFrame(_traffic(2, seed=9)), [])
    client.post("/v1/category/experiment", headers=ADMIN,
                json={"challenger": v3, "mode": "ab", "traffic": 1.0, "guardrails": {"error_rate": 0.05}})
    statuses, variants = [], []
    for i, rec in enumerate(_traffic(60, seed=7)):
        if i % 4 == 0:
            rec = {**rec, "title": rec["title"] + " BOOM"}
        resp = client.post("/v1/category/predict", json=rec)
        statuses.append(resp.status_code)
        variants.append(resp.headers["X-Experiment-Variant"])
    assert set(statuses) == {200}  # a challenger's failure is answered for by the champion
    assert variants.count("fallback") == 15 and variants.count("challenger") == 45
    client.app.state.router.refresh(store, "category")  # the server's poll does this every reload interval
    exp = record.load(store, "category")
    assert exp.state == "harmed" and "error rate" in exp.outcome and "25.00%" in exp.outcome
    after = [client.post("/v1/category/predict", json=rec) for rec in _traffic(20, seed=8)]
    assert all(r.headers["X-Model-Version"] == "1" and "X-Experiment-Variant" not in r.headers for r in after)
    assert store.champion("category").version == 1
    assert store.audit("category")[-1]["action"] == "experiment harmed"
    assert 'skuflow_experiment_errors_total{task="category",variant="challenger"} 15.0' in client.get("/metrics").text


def _feed(plog: PredictionLog, exp: record.Experiment, p_champion: float, p_challenger: float, n: int,
          seed: int) -> None:
    """Logged answers and their feedback, as the serving path writes them: 50/50, known accuracies."""
    import numpy as np

    rng = np.random.default_rng(seed)
    answers = []
    for i in range(n):
        arm = "challenger" if rng.random() < 0.5 else "champion"
        right = rng.random() < (p_challenger if arm == "challenger" else p_champion)
        rid = f"{exp.id}-{seed}-{i}"
        plog.record(rid, "category", exp.challenger if arm == "challenger" else exp.champion, {"title": "x"},
                    "books", 0.9, 2.0, experiment=exp.id, variant=arm)
        answers.append((rid, "books" if right else "toys"))
    plog.flush()
    for rid, label in answers:
        assert plog.add_feedback("category", rid, label)


@pytest.mark.parametrize("p_champion,p_challenger,max_requests,state", [
    (0.9, 0.6, None, "lost"), (0.8, 0.8, 300, "inconclusive"), (0.6, 0.95, None, "promoted")])
def test_the_judge_reads_the_log_and_ends_by_the_rules(home, tmp_path, p_champion, p_challenger, max_requests,
                                                       state):
    from skuflow.experiments.judge import conclude

    store = RegistryStore(home)
    champion = store.champion("category").version
    exp = record.start(store, "category", 2, "ab", 0.5, max_requests=max_requests, min_rows=50, who="test")
    plog = PredictionLog(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        exp, status = conclude(store, plog, exp)
        assert exp.running and status["test"]["decision"] == "continue"  # no rows, no decision
        _feed(plog, exp, p_champion, p_challenger, 400, seed=3)
        ended, status = conclude(store, plog, exp)
    finally:
        plog.close()
    assert ended.state == state and record.load(store, "category").state == state
    last = store.audit("category")[-1]
    if state == "promoted":
        assert store.champion("category").version == 2 and last["action"] == "promote"
        assert exp.id in last["reason"] and "p " in last["reason"] and last["metrics"]["n_challenger"] >= 50
        from skuflow.registry.aliases import promote
        promote(store, "category", champion, "test: restore the champion for the next case")
    else:
        assert store.champion("category").version == champion and last["action"] == f"experiment {state}"


def test_a_slow_challenger_trips_the_latency_guardrail(home, tmp_path):
    from skuflow.experiments.judge import conclude

    store = RegistryStore(home)
    exp = record.start(store, "category", 2, "ab", 0.5, guardrails={"p99_ms": 50.0}, who="test")
    plog = PredictionLog(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        for i in range(150):  # equally accurate, but the challenger answers in 80 ms
            arm = "challenger" if i % 2 else "champion"
            plog.record(f"slow-{i}", "category", 2 if i % 2 else 1, {"title": "x"}, "books", 0.9,
                        80.0 if i % 2 else 3.0, experiment=exp.id, variant=arm)
        plog.flush()
        exp, status = conclude(store, plog, exp)
        assert exp.running and status["harm"] is None  # 75 answers: too few for a p99
        for i in range(150, 210):
            plog.record(f"slow-{i}", "category", 2, {"title": "x"}, "books", 0.9, 80.0, experiment=exp.id,
                        variant="challenger")
        plog.flush()
        ended, status = conclude(store, plog, exp)
    finally:
        plog.close()
    assert ended.state == "harmed" and "p99 latency 80.0 ms exceeds the guardrail 50 ms" in ended.outcome
    assert store.champion("category").version == 1
