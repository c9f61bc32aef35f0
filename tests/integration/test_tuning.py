"""skuflow tune against real parts: Optuna on SQLite, trials on a local Dask cluster, a real MLflow store;
a killed tune resumes without repeating finished trials."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from skuflow.data.generate import generate_catalogue
from skuflow.registry.store import RegistryStore
from skuflow.training.config import TrainConfig, load_config
from skuflow.training.train import train
from skuflow.tuning.study import tune

SPACE = {"model.params.n_estimators": {"low": 10, "high": 40}, "model.params.num_leaves": {"low": 4, "high": 16},
         "model.params.learning_rate": {"low": 0.05, "high": 0.3, "log": True}}
CONFIG = TrainConfig.model_validate({"model": {"kind": "lightgbm", "params": {"n_estimators": 20}},
                                     "tune": {"space": SPACE, "replace": True}})


def _states(storage: str, name: str) -> list[str]:
    return [t.state.name for t in optuna.load_study(study_name=name, storage=storage).get_trials()]


def test_tune_searches_on_training_rows_logs_each_trial_and_registers_the_best(settings):
    data = generate_catalogue(900, seed=2)
    result = tune("category", data, CONFIG, settings, trials=5, folds=3, n_workers=2)
    assert result.workers == 2 and sum(result.trials.values()) == 5
    assert set(result.best_params) == set(SPACE) and 10 <= result.best_params["model.params.n_estimators"] <= 40
    assert 0.5 < result.cv_mean <= 1.0 and result.cv_sd >= 0
    assert _states(result.storage, result.study).count("COMPLETE") + result.trials.get("pruned", 0) == 5
    store = RegistryStore(settings)
    version = store.version("category", result.version)
    assert version.tags["skuflow.tune.study"] == result.study
    assert float(version.tags["metric.cv.macro_f1.mean"]) == pytest.approx(result.cv_mean)
    assert result.promoted and result.decision["verdict"] == "no champion yet"
    # MLflow: one parent with the plots and the config, one nested run per trial with its fold scores
    artifacts = {a.path for a in store.client.list_artifacts(result.parent_run_id)}
    assert {"best_config.yaml", "optimization_history.png", "param_importances.png"} <= artifacts
    children = store.client.search_runs([store.experiment_id("category")],
                                        f"tags.`mlflow.parentRunId` = '{result.parent_run_id}'")
    assert len(children) == 5 and all(c.data.tags["skuflow.kind"] == "trial" for c in children)
    done = [c for c in children if c.data.tags["state"] == "COMPLETE"]
    assert done and all(len(store.client.get_metric_history(c.info.run_id, "fold.macro_f1")) == 3 for c in done)
    # the best recipe is a training config as it stands; the same study again runs no new trial
    best = load_config(result.best_config)
    assert best.model.params["num_leaves"] == result.best_params["model.params.num_leaves"]
    assert train("category", data, best, settings).metrics["macro_f1"] == pytest.approx(
        result.test_metrics["macro_f1"])
    again = tune("category", data, CONFIG, settings, trials=5, folds=3, n_workers=1, register=False)
    assert again.study == result.study and len(_states(result.storage, result.study)) == 5


def test_without_a_pruner_every_fold_is_its_own_task_and_trials_still_report_in_fold_order(settings):
    data = generate_catalogue(600, seed=4)
    result = tune("category", data, CONFIG, settings, trials=3, folds=3, n_workers=2, prune=False, register=False)
    trials = optuna.load_study(study_name=result.study, storage=result.storage).get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    for t in trials:
        folds = t.user_attrs["fold_scores"]
        assert len(folds) == 3 and t.value == pytest.approx(sum(folds) / 3)
        running = [sum(folds[:k + 1]) / (k + 1) for k in range(3)]
        assert [t.intermediate_values[k] for k in range(3)] == pytest.approx(running)


@pytest.mark.slow
def test_a_killed_tune_resumes_without_repeating_finished_trials(tmp_path):
    home = tmp_path / "home"
    data = tmp_path / "catalogue.parquet"
    generate_catalogue(900, seed=3).to_parquet(data)
    cfg = tmp_path / "tune.yaml"
    cfg.write_text(json.dumps(CONFIG.model_dump(exclude_none=True)))  # JSON is YAML
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    cmd = [str(Path(sys.executable).parent / "skuflow"), "tune", "category", "--data", str(data), "--config", str(cfg),
           "--trials", "6", "--folds", "3", "--workers", "1", "--storage", storage, "--study", "killed", "--json"]
    env = {**os.environ, "SKUFLOW_HOME": str(home)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            try:
                if _states(storage, "killed").count("COMPLETE") >= 2:
                    break
            except KeyError:  # the study does not exist yet
                pass
            assert proc.poll() is None, "tune ended before it could be killed"
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its Dask workers, mid-trial
        proc.wait(timeout=30)
    before = optuna.load_study(study_name="killed", storage=storage).get_trials()
    finished = {t.number: t.params for t in before if t.state.name == "COMPLETE"}
    assert 2 <= len(finished) < 6
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    out = json.loads(again.stdout.strip().splitlines()[-1])
    after = optuna.load_study(study_name="killed", storage=storage).get_trials()
    assert {t.number: t.params for t in after if t.number in finished} == finished  # kept, not rerun
    counted = [t for t in after if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == 6
    interrupted = [t for t in after if t.user_attrs.get("interrupted")]
    assert len(after) == 6 + len(interrupted) and out["trials"].get("interrupted", 0) == len(interrupted)
    assert out["version"] == 1 and out["promoted"]
