"""Training partition by partition on a real local Dask cluster (2 worker processes): a Parquet folder goes
through train -> register -> gate -> serve, and the served answers equal the logged model's."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.data.tree_catalogue import generate_tree_catalogue
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.tasks.base import get_task
from skuflow.training.config import ClusterConfig, TrainConfig
from skuflow.training.partitioned import choose_path
from skuflow.training.train import train
from tests.conftest import make_settings
from tests.helpers import wait_ready

pytestmark = pytest.mark.slow
# a small hashed table (2^16 rows, not 2^20) keeps the model a few MB: workers of 2 GB hold it with room to spare
CONFIG = TrainConfig(cluster=ClusterConfig(mode="partitioned", workers=2, worker_memory="2GB", partition_rows=1000),
                     model={"params": {"epochs": 4}}, features={"hash_bits": 16, "id_hash_bits": 14})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("partitioned")
    folder = root / "catalogue"
    folder.mkdir()
    frame = generate_tree_catalogue(6000, leaves=60, depth=4, seed=2)
    for i in range(3):  # a folder of files, as an export job writes them
        frame.iloc[i * 2000:(i + 1) * 2000].to_parquet(folder / f"part-{i}.parquet", index=False)
    s = make_settings(root / "home")
    steps: list[str] = []
    first = train("category", str(folder), CONFIG, s, on_step=steps.append)
    second = train("category", str(folder), CONFIG, s)  # the gate now has a champion to face
    return s, first, second, steps, frame


def test_partitioned_run_trains_registers_and_reports_the_cluster(trained):
    s, first, _, steps, frame = trained
    assert any(x.startswith("path: partitioned") for x in steps) and "cluster: 2 workers" in steps
    assert any(x.startswith("fit: epoch 4/4, partition") for x in steps)
    assert first.promoted and first.metrics["accuracy"] > 0.6  # the largest of 60 Zipf leaves holds ~21%
    assert first.rows["train"] + first.rows["test"] == len(frame)
    assert 0.1 < first.rows["test"] / len(frame) < 0.3  # test_size 0.2 by input digest
    assert first.metrics["cluster.workers"] == 2 and 0 < first.metrics["cluster.worker_peak_gib.max"] < 1.5
    run = RegistryStore(s).client.get_run(first.run_id)
    assert run.data.tags["skuflow.path"] == "partitioned"


def test_the_gate_compares_on_held_out_rows(trained):
    _, first, second, _, _ = trained
    decision = second.decision
    assert decision["champion_version"] == first.version and decision["rows_compared"] > 100
    assert second.promoted is decision["promoted"]


def test_served_answers_equal_the_logged_model(trained):
    s, first, second, _, frame = trained
    champion = second.champion_version
    model = RegistryStore(s).load_model(first.model_name, champion)
    rows = frame.drop(columns=["category", "id"]).head(25)
    records = json.loads(rows.to_json(orient="records"))
    expected = get_task("category").predict(model, pd.DataFrame(records), top_k=2)
    with TestClient(create_app(s)) as client:
        wait_ready(client)
        answer = client.post("/v1/category/predict/batch?top_k=2", json={"records": records}).json()
    assert [p["prediction"] for p in answer["predictions"]] == expected.labels
    assert [p["confidence"] for p in answer["predictions"]] == pytest.approx(expected.confidences, abs=1e-6)


def test_the_path_is_chosen_from_the_input(tmp_path):
    small = tmp_path / "small.parquet"
    generate_tree_catalogue(500, leaves=20, depth=3).to_parquet(small)
    assert choose_path(str(small), "auto")[0] is False
    assert choose_path(str(small), "partitioned") == (True, "cluster.mode is partitioned")
    assert choose_path("synthetic:100", "auto")[0] is False
