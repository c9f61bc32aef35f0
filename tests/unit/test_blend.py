"""The creative blend: members learn outside held-out folds, the stacker weighs them on those folds, cheap
members are refit on every row, and fine-tuned encoders (whatever their name in the config) keep one fit
per fold and are never fitted a second time."""

from __future__ import annotations

import numpy as np
import pytest

from skuflow.tasks.base import get_task
from skuflow.text.blend import BlendClassifier, _reseeded, stratified_folds
from skuflow.text.encoder import MiniLMClassifier
from skuflow.text.linear import nb_lr, tfidf_lr


def _reviews(n: int, seed: int = 0) -> tuple[list[dict[str, str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    praise = ["lovely", "soft", "flattering", "perfect fit", "gorgeous colour"]
    blame = ["ripped", "cheap fabric", "runs small", "sent it back", "itchy"]
    rows, labels = [], []
    for i in range(n):
        good = bool(rng.random() < 0.6)
        words = rng.choice(praise if good else blame, size=2, replace=False).tolist()
        if rng.random() < 0.2:  # some noise so no member is perfect
            words.append(str(rng.choice(blame if good else praise)))
        rows.append({"title": f"Dress {i}", "description": ", ".join(words)})
        labels.append("good" if good else "poor")
    return rows, np.array(labels)


def test_blend_weighs_members_and_refits_the_cheap_ones_on_every_row():
    rows, y = _reviews(300)
    blend = BlendClassifier([("tfidf_lr", tfidf_lr(C=2.0, min_df=1)), ("nblr", nb_lr(C=4.0, min_df=1))],
                            refit=("nblr",), holdout=0.3, seed=0).fit(rows, y)
    assert set(blend.weights_) == {"tfidf_lr", "nblr"} and all(w > 0 for w in blend.weights_.values())
    fitted = dict(blend.fitted_)
    assert {name: len(copies) for name, copies in fitted.items()} == {"tfidf_lr": 1, "nblr": 1}
    seen = {name: _vocabulary_size(copies[0]) for name, copies in fitted.items()}
    assert seen["nblr"] > seen["tfidf_lr"]  # refit on all 300 rows: it knows every "Dress i" title
    test_rows, test_y = _reviews(200, seed=1)
    accuracy = float((blend.predict(test_rows) == test_y).mean())
    assert accuracy > 0.85
    proba = blend.predict_proba(test_rows)
    assert np.allclose(proba.sum(1), 1.0) and list(blend.classes_) == ["good", "poor"]


def _vocabulary_size(pipeline) -> int:
    return len(pipeline.named_steps["tfidf"].union_.transformer_list[0][1].vocabulary_)


def test_folds_are_disjoint_stratified_and_must_fit_in_the_data():
    y = np.array(["good"] * 70 + ["poor"] * 30)
    folds = stratified_folds(y, 0.2, 3, seed=0)
    assert [len(f) for f in folds] == [20, 20, 20]
    assert all((y[f] == "poor").sum() == 6 for f in folds)  # each class keeps its share in every fold
    assert len(np.unique(np.concatenate(folds))) == 60
    assert not np.array_equal(folds[0], stratified_folds(y, 0.2, 3, seed=1)[0])
    with pytest.raises(ValueError, match="do not fit"):
        stratified_folds(y, 0.3, 4, seed=0)


def test_cross_fitted_members_keep_one_copy_per_fold_each_blind_to_its_fold():
    rows, y = _reviews(300)
    blend = BlendClassifier([("tfidf_lr", tfidf_lr(C=2.0, min_df=1)), ("nblr", nb_lr(C=4.0, min_df=1))],
                            refit=("nblr",), holdout=0.2, rounds=3, seed=0).fit(rows, y)
    copies = dict(blend.fitted_)
    assert len(copies["tfidf_lr"]) == 3 and len(copies["nblr"]) == 1
    folds = stratified_folds(y, 0.2, 3, seed=0)
    for model, fold in zip(copies["tfidf_lr"], folds, strict=True):
        vocab = model.named_steps["tfidf"].union_.transformer_list[0][1].vocabulary_
        assert not any(str(i) in vocab for i in fold)  # "Dress i" of a held-out row: never seen by its copy
        assert str(np.setdiff1d(np.arange(300), fold)[-1]) in vocab  # its own rows: seen
    # the stacker learned on every held-out row, and the copies' mean log-odds predicts
    assert blend.stacker_.n_features_in_ == 2
    test_rows, test_y = _reviews(200, seed=1)
    assert float((blend.predict(test_rows) == test_y).mean()) > 0.85
    logits = blend.member_logits(test_rows)
    assert np.allclose(blend.proba_from_logits(logits), blend.predict_proba(test_rows))
    member = 1 / (1 + np.exp(-logits["tfidf_lr"]))
    alone = [m.predict_proba(test_rows)[:, 1] for m in copies["tfidf_lr"]]
    assert np.all(member >= np.min(alone, axis=0) - 1e-9) and np.all(member <= np.max(alone, axis=0) + 1e-9)


def test_copies_of_a_seeded_member_get_their_own_seed():
    est = MiniLMClassifier(epochs=1, seed=3)
    assert [_reseeded(est, r).seed for r in range(3)] == [3, 4, 5]
    assert _reseeded(tfidf_lr(), 2).get_params()["model__C"] == 8.0  # unseeded: a plain copy


def test_fine_tuned_members_keep_their_first_fit_whatever_their_name():
    model = get_task("creative").build_model(
        {"kind": "blend", "params": {"members": {"tfidf_lr": {}, "nblr": {},
                                                 "minilm_ft": {"epochs": 1},
                                                 "minilm_ft_long": {"kind": "minilm_ft", "epochs": 3}}}}, {})
    assert set(model.refit) == {"tfidf_lr", "nblr"}
    assert dict(model.members)["minilm_ft_long"].epochs == 3


def test_rounds_that_do_not_fit_the_rows_are_a_config_error_before_any_fit():
    from skuflow.errors import ConfigError

    with pytest.raises(ConfigError, match="7 rounds of a 0.15 holdout"):
        get_task("creative").build_model({"kind": "blend", "params": {"rounds": 7, "holdout": 0.15}}, {})


def _starred(n: int, seed: int) -> list[dict]:
    """Reviews whose words follow their stars: 'meh' ones get 3 (poor, but nearly good), 'awful' ones 1."""
    rng = np.random.default_rng(seed)
    words = {5: ["lovely", "gorgeous", "perfect"], 3: ["meh", "okay", "average"], 1: ["awful", "ripped", "itchy"]}
    rows = []
    for i in range(n):
        stars = int(rng.choice([5, 5, 3, 1]))
        rows.append({"title": f"Top {i}", "description": " ".join(rng.choice(words[stars], size=2)),
                     "rating": float(stars)})
    return rows


def test_score_ridge_learns_the_stars_behind_the_label():
    import pandas as pd

    from skuflow.text.linear import ScoreRidge

    rows = pd.DataFrame(_starred(400, seed=0))
    y = np.where(rows["rating"] >= 3.5, "good", "poor")
    model = ScoreRidge(alpha=1.0, min_df=1).fit(rows, y)
    assert model.uses_score_ and list(model.classes_) == ["good", "poor"]
    probe = [{"title": "Top", "description": d} for d in ("lovely perfect", "meh okay", "awful itchy")]
    p_poor = model.predict_proba(probe)[:, 1]
    assert p_poor[0] < p_poor[1] < p_poor[2]  # 3 stars sit between 5 and 1, though both are "poor"
    assert (model.predict(probe) == ["good", "poor", "poor"]).all()
    blind = ScoreRidge(alpha=1.0, min_df=1).fit(rows.drop(columns="rating"), y)  # no stars: the label as 0/1
    assert not blind.uses_score_
    assert (blind.predict(probe) == ["good", "poor", "poor"]).all()
    p_blind = blind.predict_proba(probe)[:, 1]
    assert p_blind[2] - p_blind[1] < p_poor[2] - p_poor[1]  # without stars, meh and awful look alike


def test_tuning_trials_share_a_folds_vectorisation_and_score_as_if_they_did_not():
    """Trials that differ in C reuse one TF-IDF fit per set of rows (and members with the same settings
    share theirs); the shared fit must predict exactly as a private one, and a pickled model must not
    lean on this process's cache."""
    import pickle

    from skuflow.features import shared
    from skuflow.text.linear import ScoreRidge

    shared.clear()
    rows, y = _reviews(300)
    probe, _ = _reviews(50, seed=3)
    private = tfidf_lr(C=2.0, min_df=1).fit(rows, y)
    trials = [tfidf_lr(C=c, min_df=1, share_vectors=True).fit(rows, y) for c in (2.0, 5.0)]
    assert trials[0].named_steps["tfidf"].union_ is trials[1].named_steps["tfidf"].union_
    assert np.allclose(trials[0].predict_proba(probe), private.predict_proba(probe))
    assert not np.allclose(trials[1].predict_proba(probe), private.predict_proba(probe))  # C still counts
    ridge = ScoreRidge(min_df=1, share_vectors=True).fit(rows, y)
    assert ridge.tfidf_.union_ is trials[0].named_steps["tfidf"].union_  # same texts, same settings
    binary = nb_lr(min_df=1, share_vectors=True).fit(rows, y)
    assert binary.named_steps["tfidf"].union_ is not ridge.tfidf_.union_  # binary counts differ
    assert len([k for k in shared.keys() if k[0] == "tfidf_union"]) == 2
    copy = pickle.loads(pickle.dumps(trials[0]))
    assert not getattr(copy.named_steps["tfidf"], "key_", None)
    shared.clear()
    assert np.allclose(copy.predict_proba(probe), private.predict_proba(probe))


def test_creative_trials_of_a_blend_share_vectors_in_its_sparse_members_only():
    task = get_task("creative")
    members = {"tfidf_lr": {}, "ridge": {"kind": "score_ridge"}, "enc": {"kind": "minilm_ft"}}
    settings = task.trial_settings({"kind": "blend", "params": {"members": members}})
    assert settings == {"model.params.members.tfidf_lr.share_vectors": True,
                        "model.params.members.ridge.share_vectors": True}
    assert task.trial_settings({"kind": "nblr"}) == {"model.params.share_vectors": True}
    assert task.trial_settings({"kind": "minilm"}) == {}
