"""Prefect flows run for real (ephemeral server on 127.0.0.1), outside network refused."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from skuflow.cli.main import app
from skuflow.data.generate import generate_catalogue
from skuflow.flows.pipelines import FlowBusyError, one_active_run
from skuflow.flows.schedule import deployments
from skuflow.settings import Settings, get_settings

runner = CliRunner()
FAST = "model:\n  kind: lightgbm\n  params: {n_estimators: 30, num_leaves: 7}\n"
WORSE = "model:\n  kind: logreg\n  params: {C: 0.0001, max_iter: 20}\n"


@pytest.fixture
def home(tmp_path, monkeypatch, prefect_api):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the session's server, not a temporary one per run
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SKUFLOW_TRAIN_DATA", "synthetic:800")
    monkeypatch.setenv("SKUFLOW_PROMOTION_MIN_ROWS", "100")  # 800 rows test 160
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.slow
def test_train_flow_promotes_then_keeps_champion_against_worse_config(home):
    (home / "fast.yaml").write_text(FAST)
    (home / "worse.yaml").write_text(WORSE)
    r = runner.invoke(app, ["flow", "run", "train", "--task", "category", "--config", str(home / "fast.yaml"),
                            "--json"])
    assert r.exit_code == 0, r.output
    first = last_json(r.stdout)
    assert first["promoted"] and first["champion_before"] is None and first["champion_after"] == 1
    assert first["dataset"]["rows"] == 800 and len(first["dataset"]["digest"]) == 16
    saved = pd.read_parquet(first["dataset"]["path"])  # the version is kept under its digest
    assert len(saved) == 800 and first["dataset"]["digest"] in first["dataset"]["path"]
    r = runner.invoke(app, ["flow", "run", "train", "--config", str(home / "worse.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    second = last_json(r.stdout)
    assert not second["promoted"] and second["champion_before"] == second["champion_after"] == 1
    assert second["candidate"]["version"] == 2 and "challenger worse" in second["reason"]
    evidence = second["evidence"]  # same rows, same split: all 160 test rows are fair to both
    assert evidence["verdict"] == "challenger worse" and evidence["rows_compared"] == 160
    assert evidence["interval"][0] <= evidence["gain"] <= evidence["interval"][1] < 0
    # same day, same synthetic seed: the same dataset version is reused, not duplicated
    assert second["dataset"]["digest"] == first["dataset"]["digest"]

    src = home / "catalogue.csv"
    generate_catalogue(700, seed=3).to_csv(src, index=False)
    r = runner.invoke(app, ["flow", "run", "batch", "--task", "category", "--input", str(src),
                            "--output", str(home / "scored"), "--json"])
    assert r.exit_code == 0, r.output
    out = last_json(r.stdout)
    assert out["rows"] == 700 and out["model_version"] == 1
    assert len(pd.read_parquet(home / "scored")) == 700


def test_one_active_run_per_pipeline(tmp_path):
    s = Settings(home=tmp_path / "h")
    with one_active_run(s, "train-category"):
        with pytest.raises(FlowBusyError, match="Another 'train-category' run is active"):
            with one_active_run(s, "train-category"):
                pass
        with one_active_run(s, "train-other"):  # other tasks are not blocked
            pass
    with one_active_run(s, "train-category"):  # released after the run
        pass


def test_schedules_default_and_configurable(tmp_path):
    s = Settings(home=tmp_path / "h", batch_cron="30 3 * * *")
    deps = {d.name: d for d in deployments(s, ["category"])}
    assert set(deps) == {"daily-train-category", "nightly-batch-category"}
    crons = {name: [sch.schedule.cron for sch in d.schedules] for name, d in deps.items()}
    assert crons == {"daily-train-category": ["0 0 * * *"], "nightly-batch-category": ["30 3 * * *"]}
    assert all(d.concurrency_limit == 1 for d in deps.values())
    assert deps["daily-train-category"].parameters["task_name"] == "category"


def test_unknown_pipeline_is_an_error(home):
    r = runner.invoke(app, ["flow", "run", "retrain", "--json"])
    assert r.exit_code == 1 and "Unknown pipeline 'retrain'" in r.stderr
