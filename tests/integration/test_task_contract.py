"""The generic layers know tasks only through the Task interface and the settings: no built-in task name in
their code, a model registered under its own name is served, batch-scored and shown, a task registered by
hand never hides the built-ins, and a retraining subprocess sees every setting of its server."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from skuflow.batch.score import run_batch
from skuflow.data.generate import generate_catalogue
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.settings import Settings
from skuflow.tasks import base
from skuflow.training.config import TrainConfig
from skuflow.training.train import train
from tests.conftest import FAST_LGBM

SRC = Path(__file__).resolve().parents[2] / "src" / "skuflow"
GENERIC = ("training", "registry", "serving", "batch", "monitoring", "flows", "cli", "dashboard", "experiments",
           "tuning")
NAMES = "|".join(base.BUILTIN_TASKS)
NAMED = re.compile(rf"""["']({NAMES})["']|skuflow\.tasks\.(category|creative|images|rating)\b""")


def test_generic_layers_never_name_a_built_in_task():
    found = []
    for folder in GENERIC:
        for path in sorted((SRC / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if NAMED.search(code):
                    found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not found, "task names in generic layers:\n" + "\n".join(found)


def test_a_custom_model_name_is_served_batch_scored_and_shown(tmp_path):
    from skuflow.dashboard.data import served_tasks

    settings = Settings(home=tmp_path / "home", model_names={"category": "shop-category"})
    result = train("category", generate_catalogue(500, seed=1), TrainConfig(model=FAST_LGBM), settings)
    assert result.model_name == "shop-category" and result.promoted
    store = RegistryStore(settings)
    assert store.client.get_registered_model("shop-category").name == "shop-category"
    assert store.champion("category").name == "shop-category"  # the task's name resolves to it
    assert served_tasks(store) == ["category"]

    with TestClient(create_app(settings, store=store)) as client:
        for _ in range(200):
            if client.get("/ready").status_code == 200:
                break
            __import__("time").sleep(0.05)
        r = client.post("/v1/category/predict", json={"title": "Kovari wireless headphones"})
        assert r.status_code == 200 and r.json()["model"] == "shop-category"
        assert client.get("/v1/category/info").json()["model_uri"] == "models:/shop-category@champion"

    rows = generate_catalogue(300, seed=2)
    source = tmp_path / "catalogue.parquet"
    rows.to_parquet(source)
    out = run_batch("category", str(source), str(tmp_path / "scored"), settings, n_workers=1, partition_rows=150,
                    log_to_mlflow=False)
    assert out.model_name == "shop-category" and out.rows == 300
    assert set(pd.read_parquet(tmp_path / "scored")["model_name"]) == {"shop-category"}


def test_a_task_registered_by_hand_under_a_built_in_name_keeps_the_other_built_ins():
    from skuflow.tasks.category import CategoryTask

    class ShopCategory(CategoryTask):
        description = "the shop's own category model"

    saved, discovered = dict(base._REGISTRY), base._DISCOVERED
    try:
        base._REGISTRY.clear()
        base._DISCOVERED = False
        base.register_task("category", ShopCategory)
        assert set(base.BUILTIN_TASKS) <= set(base.task_names())
        assert isinstance(base.get_task("category"), ShopCategory)  # the user's, not the built-in
    finally:
        base._REGISTRY.clear()
        base._REGISTRY.update(saved)
        base._DISCOVERED = discovered


def test_a_subprocess_sees_every_setting_of_its_server(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path, model_names={"category": "shop"}, promotion_confidence=0.9,
                        log_predictions=False, train_config=str(tmp_path / "c.yaml"), default_task="creative")
    for key in list(__import__("os").environ):
        if key.startswith("SKUFLOW_"):
            monkeypatch.delenv(key)
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert Settings() == settings
    assert settings.invocations_task == "creative"  # follows the default task unless set
