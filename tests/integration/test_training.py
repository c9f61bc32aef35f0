"""Training, registry and the champion gate against a real MLflow SQLite store."""

import pandas as pd
import pytest

from skuflow.data.generate import generate_catalogue
from skuflow.errors import ConfigError, MissingColumnError, ModelNotFoundError
from skuflow.registry.aliases import promote, rollback
from skuflow.registry.store import RegistryStore
from skuflow.training.config import ModelConfig, SplitConfig, TrainConfig
from skuflow.training.train import split_frame, train
from tests.conftest import FAST_LGBM, make_settings

WORSE = TrainConfig(model=ModelConfig(kind="logreg", params={"C": 0.001, "max_iter": 50}))


def test_first_model_becomes_champion_with_metrics_and_artifacts(trained_home):
    s, result = trained_home
    store = RegistryStore(s)
    champ = store.champion("category")
    assert champ is not None and champ.version == result.version == 1
    for key in ("accuracy", "macro_f1", "roc_auc_ovr"):
        assert 0.0 <= result.metrics[key] <= 1.0
    assert result.metrics["macro_f1"] > 0.8  # 8 categories; chance is 0.125
    assert any(k.startswith("f1.") for k in result.metrics)
    run = store.client.get_run(result.run_id)
    assert run.data.tags["dataset_digest"] == result.dataset_digest == champ.tags["dataset_digest"]
    artifacts = {a.path for a in store.client.list_artifacts(result.run_id)}
    assert {"confusion_matrix.png", "per_class.csv", "validation_report.json"} <= artifacts
    # the dataset version is logged as the run's input
    digests = {d.dataset.digest for d in run.inputs.dataset_inputs}
    assert result.dataset_digest in digests
    # the logged model holds its preprocessing: raw records in, classes out
    model = store.load_model("category", champ.version)
    out = model.predict(pd.DataFrame([{"title": "organic green tea", "price": 9.0}]))
    assert out[0] in set(generate_catalogue(50)["category"]) | {"grocery"}


def test_worse_challenger_never_moves_champion(settings, catalogue, fast_config):
    settings = settings.model_copy(update={"promotion_min_rows": 300})  # the 2,000-row catalogue tests 400
    first = train("category", catalogue, fast_config, settings)
    second = train("category", catalogue, WORSE, settings)
    assert first.promoted and not second.promoted
    assert second.metrics["macro_f1"] < first.metrics["macro_f1"]
    assert second.champion_version == first.version
    assert second.decision["verdict"] == "challenger worse", second.decision
    # same data, same split: the champion never trained on these test rows, so all 400 are compared
    assert second.decision["rows_compared"] == second.rows["test"] == 400
    assert second.decision["champion_score"] == pytest.approx(first.metrics["macro_f1"], abs=1e-6)
    low, high = second.decision["interval"]
    assert low <= second.decision["gain"] <= high < 0
    store = RegistryStore(settings)
    assert store.champion("category").version == first.version
    assert [e["to"] for e in store.audit("category")] == [first.version]


def test_failed_run_leaves_champion_unchanged(settings, catalogue, fast_config):
    first = train("category", catalogue, fast_config, settings)
    with pytest.raises(MissingColumnError, match="'category'"):
        train("category", catalogue.drop(columns=["category"]), fast_config, settings)
    store = RegistryStore(settings)
    assert store.champion("category").version == first.version
    assert len(store.versions("category")) == 1


def test_grouped_split_keeps_groups_on_one_side(catalogue):
    frame = catalogue.assign(group=catalogue.index // 7)
    tr, te = split_frame(frame, "category", SplitConfig(strategy="group", group_key="group", test_size=0.25))
    assert set(tr["group"]).isdisjoint(te["group"])
    assert len(te) == pytest.approx(0.25 * len(frame), rel=0.15)
    with pytest.raises(MissingColumnError, match="nope"):
        split_frame(frame, "category", SplitConfig(strategy="group", group_key="nope"))


def test_manual_promote_rollback_and_history(settings, catalogue, fast_config):
    v1 = train("category", catalogue, fast_config, settings).version
    v2 = train("category", catalogue, WORSE, settings).version
    store = RegistryStore(settings)
    promote(store, "category", v2, reason="canary")
    assert store.champion("category").version == v2
    entry = rollback(store, "category")
    assert (entry["from"], entry["to"]) == (v2, v1)
    assert store.champion("category").version == v1
    history = store.audit("category")
    assert [(h["action"], h["from"], h["to"]) for h in history] == [
        ("promote", None, v1), ("promote", v1, v2), ("rollback", v2, v1)]
    assert all({"time", "reason", "metrics"} <= set(h) for h in history)
    with pytest.raises(ModelNotFoundError, match="no earlier champion"):
        rollback(store, "category")
    with pytest.raises(ModelNotFoundError, match="version 99 not found"):
        promote(store, "category", 99, reason="typo")
    with pytest.raises(ConfigError, match="needs a reason"):
        promote(store, "category", v2, reason=" ")


def test_rf_smote_family_trains(settings):
    small = generate_catalogue(600, seed=3)
    cfg = TrainConfig(model=ModelConfig(kind="rf_smote", params={"n_estimators": 30, "smote_k": 3}))
    result = train("category", small, cfg, settings)
    assert result.metrics["macro_f1"] > 0.5


def test_a_new_store_is_a_copy_of_the_migrated_template_and_behaves_like_a_migrated_one(tmp_path, monkeypatch):
    """MLflow's migrations (~1.5 s) run once per MLflow version; every new home copies their result."""
    import sqlite3

    import skuflow.registry.store as store_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # MLflow puts the default experiment's artifacts under ./mlruns
    copied = RegistryStore(make_settings(tmp_path / "copied"))  # makes the template, then copies it
    assert len(list((tmp_path / "cache" / "skuflow").glob("mlflow-*-empty.db"))) == 1
    with copied.run("category") as run:
        run.log_metrics({"x": 1.0})
    assert copied.recent_runs("category")
    monkeypatch.setattr(store_module, "seed_sqlite", lambda uri: None)
    migrated = RegistryStore(make_settings(tmp_path / "migrated"))  # MLflow's own migrations
    # MLflow creates its default experiment on opening the copy, where it would on migrating
    assert copied.client.get_experiment("0").name == migrated.client.get_experiment("0").name == "Default"
    assert copied.client.get_experiment("0").artifact_location == migrated.client.get_experiment("0").artifact_location
    tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    with sqlite3.connect(tmp_path / "copied" / "mlflow.db") as a, \
            sqlite3.connect(tmp_path / "migrated" / "mlflow.db") as b:
        for query in (tables, "SELECT * FROM alembic_version"):
            assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_promotions_at_once_from_two_processes_leave_the_alias_and_the_audit_agreeing(tmp_path):
    """Both processes move the alias back and forth between two versions; with the alias lock every audit
    entry starts where the one before it ended, and the last one names the champion (without it: 1 != 2)."""
    import os
    import subprocess
    import sys

    from tests.helpers import register_copy

    s = make_settings(tmp_path / "home")
    train("category", generate_catalogue(300, seed=3), TrainConfig(model=FAST_LGBM), s)
    assert register_copy(RegistryStore(s), "category", 1) == 2
    script = ("import sys; from skuflow.settings import Settings; from skuflow.registry.store import RegistryStore;"
              "from skuflow.registry.aliases import promote; st = RegistryStore(Settings(home=sys.argv[1]));"
              "[promote(st, 'category', int(v), 'race') for v in sys.argv[2:]]")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(s.home), *versions], env=env)
             for versions in (["1", "2"] * 4, ["2", "1"] * 4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = RegistryStore(s)
    moves = [e for e in store.audit("category") if e["action"] == "promote"]
    assert len(moves) >= 16
    for before, after in zip(moves, moves[1:], strict=False):
        assert after["from"] == before["to"], (before, after)
    assert moves[-1]["to"] == store.champion("category").version
