"""Search spaces and cross-validation folds."""

import numpy as np
import pandas as pd
import pytest

from skuflow.errors import ConfigError
from skuflow.tasks.base import get_task
from skuflow.training.config import SplitConfig, TrainConfig
from skuflow.training.cv import cv_folds
from skuflow.tuning.space import Dimension, build_space, with_values


def test_config_narrows_or_replaces_the_family_space():
    family = get_task("category").search_space({"kind": "linear"})
    dims = {d.path: d for d in build_space(family, {"model.params.C": {"low": 1.0, "high": 5.0},
                                                    "features.id_weight": None}, replace=False)}
    assert dims["model.params.C"].high == 5.0 and "features.id_weight" not in dims
    assert "features.char_ngrams" in dims and dims["features.char_ngrams"].choices[0] is None
    only = build_space(family, {"model.params.C": {"low": 1, "high": 5}}, replace=True)
    assert [d.path for d in only] == ["model.params.C"] and only[0].is_int
    with pytest.raises(ConfigError, match="needs low and high"):
        Dimension.parse("model.params.C", {"low": 1})
    with pytest.raises(ConfigError, match="log range"):
        Dimension.parse("model.params.C", {"low": 0, "high": 1, "log": True})
    with pytest.raises(ConfigError, match="empty"):
        build_space({}, None, replace=False)


def test_values_land_on_dotted_paths_of_a_valid_config():
    base = TrainConfig.model_validate({"model": {"kind": "blend", "params": {"members": {"nblr": {"C": 1.0}}}}})
    cfg = with_values(base, {"model.params.members.nblr.C": 7.0, "features.word_ngrams": [1, 3],
                             "model.params.smote_k": 2})
    assert cfg.model.params["members"]["nblr"]["C"] == 7.0 and cfg.features["word_ngrams"] == [1, 3]
    assert cfg.model.params["smote_k"] == 2 and base.model.params["members"]["nblr"]["C"] == 1.0
    with pytest.raises(ConfigError, match="not a mapping"):
        with_values(base, {"model.kind.x": 1})


def test_every_family_declares_a_space():
    for task, kinds in {"category": ["lightgbm", "linear", "logreg", "rf_smote", "embedding_bag"],
                        "creative": ["tfidf_lr", "nblr", "score_ridge", "blend"]}.items():
        for kind in kinds:
            assert build_space(get_task(task).search_space({"kind": kind}), None, False), (task, kind)
    blend = get_task("creative").search_space({"kind": "blend", "params": {"members": {
        "cheap": {"kind": "nblr"}, "score_ridge": {}}}})
    assert set(blend) == {"model.params.members.cheap.C",
                          "model.params.members.score_ridge.alpha"}


def test_grouped_folds_keep_groups_whole_and_stratified_folds_balance_classes():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"category": rng.choice(list("abcd"), 600), "cluster": rng.integers(0, 150, 600)})
    task = get_task("category")
    grouped = cv_folds(task, frame, TrainConfig(split=SplitConfig(strategy="group", group_key="cluster")), 4)
    assert len(grouped) == 4
    for tr, va in grouped:
        assert set(frame["cluster"].iloc[tr]).isdisjoint(frame["cluster"].iloc[va])
    assert sorted(np.concatenate([va for _, va in grouped]).tolist()) == list(range(600))
    plain = cv_folds(task, frame, TrainConfig(), 5)
    shares = [frame["category"].iloc[va].value_counts(normalize=True) for _, va in plain]
    overall = frame["category"].value_counts(normalize=True)
    assert all((s - overall).abs().max() < 0.02 for s in shares)
    with pytest.raises(ConfigError, match="at least 2 folds"):
        cv_folds(task, frame, TrainConfig(), 1)
