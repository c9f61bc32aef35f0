"""Estimated accuracy and outliers over real traffic: a champion trained by ``train``, served over HTTP, its
prediction log read by /drift, Prometheus, the drift report and the retraining monitor."""

from __future__ import annotations

import numpy as np

from skuflow.data.generate import generate_catalogue, listing_records
from tests.helpers import FEEDBACK, logged

FIELDS = ["title", "description", "brand", "seller_id", "price"]
# another shop's words: clothing reviews posing as products, with a real seller and price
REVIEWS = ["love this dress fits perfectly", "runs small so order a size up", "beautiful colour but thin fabric",
           "my new favourite top", "returned it because the seams were off", "so soft and comfy",
           "gorgeous for summer evenings", "not flattering on me at all", "great quality for the money",
           "the zipper broke after a week"]


def _post(client, records: list[dict]) -> list[str]:
    ids = [client.post("/v1/category/predict", json=r).headers["X-Request-ID"] for r in records]
    logged(client)
    return ids


def test_fresh_traffic_is_estimated_near_its_real_accuracy_and_holds_few_outliers(client):
    fresh = generate_catalogue(400, seed=11)
    ids = _post(client, listing_records(fresh[FIELDS]))
    body = client.get("/v1/category/drift?window=400").json()
    est, out = body["performance"], body["outliers"]
    assert est["n"] == 400 and 0 < est["accuracy"] <= 1 and 0 < est["macro_f1"] <= 1
    assert out["n"] == 400 and out["share"] <= 0.03 and not out["flagged"]
    # the truth arrives: live accuracy from feedback lands near the estimate made without it
    for rid, label in zip(ids, fresh["category"], strict=True):
        client.post("/v1/category/feedback", json={"request_id": rid, "label": label}, headers=FEEDBACK)
    live = client.get("/v1/category/drift?window=400").json()["live"]
    assert live["n"] == 400 and abs(live["value"] - est["accuracy"]) < 0.06
    metrics = client.get("/metrics").text
    assert 'skuflow_estimated_metric{metric="accuracy"' in metrics and "skuflow_outlier_share{" in metrics


def test_another_catalogue_in_the_traffic_is_flagged_as_outliers(client):
    rng = np.random.default_rng(0)
    donors = listing_records(generate_catalogue(300, seed=12)[FIELDS])
    # a review posing as an offer: its title and its body, as a review site's export would fill them
    posing = [{**d, "title": " ".join(rng.choice(REVIEWS, 2)), "description": ". ".join(rng.choice(REVIEWS, 4))}
              for d in donors[:150]]
    _post(client, donors[150:] + posing)
    body = client.get("/v1/category/drift?window=300").json()
    assert body["outliers"]["flagged"] and body["outliers"]["share"] > 0.2
    assert body["alarm"] and any("outliers" in a for a in body["alerts"])
    assert "skuflow_window_alarm{" in client.get("/metrics").text


def test_outliers_alone_start_a_retraining(client, trained_home):
    """The monitor reads the window the previous test logged (half of it another catalogue's titles). The
    retraining subprocess is replaced by a recorder: starting it is what is under test, and a real run is
    covered by the closed-loop test."""
    from skuflow.flows.retrain import Monitor

    class Recorder:
        started: list[tuple[str, str]] = []

        def start(self, task: str, reason: str):
            self.started.append((task, reason))
            return None, True

    s, _ = trained_home
    policy = s.model_copy(update={"retrain_consecutive": 1, "retrain_min_rows": 100, "drift_window": 300})
    runner = Recorder()
    monitor = Monitor(policy, client.app.state.scorer.plog, runner, served=client.app.state.holder.loaded)
    last = monitor.check_once(now=0.0)["category"]
    assert last["alerts"] and any("outliers" in a for a in last["alerts"])
    assert last["retrain"] and runner.started[0][0] == "category"
    quiet = policy.model_copy(update={"outlier_alert": False, "estimated_drop_alert": 0.0})
    again = Monitor(quiet, client.app.state.scorer.plog, Recorder(), served=client.app.state.holder.loaded)
    assert not again.check_once(now=0.0)["category"]["alerts"]
