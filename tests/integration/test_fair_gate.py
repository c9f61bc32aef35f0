"""The champion gate against a real MLflow store: rows the champion trained on are left out, an
unreachable champion stops the gate instead of losing to the challenger, and a champion that cannot read
the new inputs leaves the decision to a person."""

import shutil
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from pydantic import BaseModel
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from skuflow.data.generate import generate_catalogue
from skuflow.errors import ChampionUnavailableError
from skuflow.registry.aliases import promote
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import register_task
from skuflow.tasks.category import CategoryTask
from skuflow.training.config import TrainConfig
from skuflow.training.train import split_frame, train

KEY = ["title", "description", "brand", "seller_id", "price"]


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, frame[KEY].astype(str).to_numpy().tolist()))


def test_rows_the_champion_trained_on_are_not_compared(settings, fast_config):
    settings = settings.model_copy(update={"promotion_min_rows": 100})
    offers = generate_catalogue(4000, seed=5)
    day1, day2 = offers.sample(frac=0.5, random_state=1), offers.sample(frac=0.5, random_state=2)
    first = train("category", day1, fast_config, settings)
    second = train("category", day2, fast_config, settings)
    champ_train, _ = split_frame(day1.reset_index(drop=True), "category", fast_config.split)
    _, chall_test = split_frame(day2.reset_index(drop=True), "category", fast_config.split)
    fair = chall_test[[k not in _keys(champ_train) for k in map(tuple, chall_test[KEY].astype(str).to_numpy()
                                                                 .tolist())]]
    assert 100 <= len(fair) < len(chall_test) * 0.75  # about 40% of the challenger's test rows were seen
    d = second.decision
    assert d["rows_compared"] == len(fair), d
    champion = RegistryStore(settings).load_model("category", first.version)
    assert d["champion_score"] == pytest.approx(f1_score(fair["category"], champion.predict(fair), average="macro"))
    low, high = d["interval"]
    assert low <= d["gain"] <= high and d["confidence"] == 0.95
    assert d["verdict"] in {"promoted", "no significant difference", "challenger worse"}
    tags = RegistryStore(settings).version("category", second.version).tags
    assert tags["skuflow.verdict"] == d["verdict"] and str(len(fair)) in tags["skuflow.evidence"]


def test_an_unreachable_champion_never_promotes_and_the_next_run_decides(settings, fast_config):
    settings = settings.model_copy(update={"promotion_min_rows": 100})
    data = generate_catalogue(1500, seed=9)
    first = train("category", data, fast_config, settings)
    store = RegistryStore(settings)
    model_dirs = list(Path(settings.home / "artifacts").glob("*/models/*"))
    assert len(model_dirs) == 1  # v1's logged model
    away = settings.home / "away"
    shutil.move(str(model_dirs[0]), away)  # the artifact store lost the champion's files
    with pytest.raises(ChampionUnavailableError, match=r"champion category v1 could not be loaded.*unpromoted"):
        train("category", data, fast_config, settings)
    assert store.champion("category").version == first.version
    second = store.version("category", 2)  # registered, tagged, not promoted
    assert second.tags["skuflow.promoted"] == "false" and "gate failed" in second.tags["skuflow.decision"]
    assert [e["to"] for e in store.audit("category")] == [1]
    shutil.move(str(away), model_dirs[0])  # the store is back: the next run takes a decision
    third = train("category", data, fast_config, settings)
    assert third.decision["verdict"] == "no significant difference" and third.decision["rows_compared"] == 300


class ColumnsRecord(BaseModel):
    title: str
    weight: float | None = None
    colour: str | None = None


class ColumnsTask(CategoryTask):
    """A category model over a configurable feature set (features.columns): its inputs can change."""

    name: ClassVar[str] = "columns_test"
    record_model: ClassVar[type[BaseModel]] = ColumnsRecord

    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        cols = feature_config["columns"]
        parts = [("title", TfidfVectorizer(), "title")] + [(c, "passthrough" if c == "weight" else TfidfVectorizer(),
                                                            [c] if c == "weight" else c) for c in cols]
        return Pipeline([("features", ColumnTransformer(parts)), ("model", LogisticRegression(max_iter=500))])

    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        return [{"title": "pan", "weight": 1.0, "colour": "red"}] * n


def test_a_champion_that_cannot_read_the_new_inputs_needs_a_person(settings):
    register_task("columns_test", ColumnsTask)
    settings = settings.model_copy(update={"promotion_min_rows": 100})
    data = generate_catalogue(1200, seed=4).dropna(subset=["price", "brand"])  # the columns these features read
    old = data.assign(weight=data["price"] / 10)
    new = data.drop(columns=["price"]).assign(colour=data["brand"])  # a new feature set: no weight any more
    first = train("columns_test", old, TrainConfig(features={"columns": ["weight"]}), settings)
    second = train("columns_test", new, TrainConfig(features={"columns": ["colour"]}), settings)
    assert first.promoted and not second.promoted
    d = second.decision
    assert d["verdict"] == "no decision" and "cannot score" in d["reason"]
    assert "skuflow models promote columns_test 2 --reason" in d["reason"]
    store = RegistryStore(settings)
    promote(store, "columns_test", second.version, reason="new feature set: colour replaces weight")
    assert store.champion("columns_test").version == second.version
    assert store.audit("columns_test")[-1]["reason"] == "new feature set: colour replaces weight"
