"""Drift statistics on data whose truth is known."""

import numpy as np
import pandas as pd
import pytest

from skuflow.data.generate import DriftKnobs, generate_catalogue
from skuflow.monitoring.drift import DriftPolicy, categorical_drift, detect_drift, numeric_drift
from skuflow.monitoring.profile import OTHER, Profile, build_profile, categorical_profile, numeric_profile
from skuflow.monitoring.trigger import RetrainTrigger, TriggerPolicy
from skuflow.tasks.base import get_task

POLICY = DriftPolicy()


def _profile(frame: pd.DataFrame) -> Profile:
    task = get_task("category")
    feats = task.monitored_features(frame)
    return build_profile("category", feats, list(task.monitor_numeric), list(task.monitor_categorical),
                         frame["category"].tolist(), [0.9] * len(frame))


@pytest.fixture(scope="module")
def reference():
    return generate_catalogue(6000, seed=1)


def test_same_distribution_windows_rarely_alarm(reference):
    prof = _profile(reference)
    task = get_task("category")
    pool = generate_catalogue(40_000, seed=1).iloc[6000:]  # same population, rows the profile never saw
    rng = np.random.default_rng(0)
    alarms = 0
    for _ in range(40):
        w = pool.iloc[rng.choice(len(pool), 1000, replace=False)]
        rep = detect_drift(prof, task.monitored_features(w), w["category"].tolist(), [0.9] * 1000, POLICY)
        alarms += rep.drifted
    assert alarms <= 4  # alpha is 5% at the dataset level (Bonferroni over columns)


def test_price_scale_and_category_share_are_detected(reference):
    prof = _profile(reference)
    task = get_task("category")
    pricey = generate_catalogue(1000, seed=5, knobs=DriftKnobs(price_scale=1.3))
    rep = detect_drift(prof, task.monitored_features(pricey), pricey["category"].tolist(), [0.9] * 1000, POLICY)
    assert rep.drifted and rep.column("price").drifted and rep.column("price").method == "ks"
    assert not rep.column("title_words").drifted
    books = generate_catalogue(1000, seed=5, knobs=DriftKnobs(category_weights={"books": 2.0}))
    rep = detect_drift(prof, task.monitored_features(books), books["category"].tolist(), [0.9] * 1000, POLICY)
    assert rep.column("prediction").drifted and rep.column("prediction").effect > 0


def test_large_identical_windows_do_not_alarm_but_large_shifts_do():
    rng = np.random.default_rng(0)
    ref = numeric_profile(rng.lognormal(3, 0.5, 20_000))
    same = numeric_drift("x", ref, rng.lognormal(3, 0.5, 1_000_000), POLICY, 0.01)
    assert same.method == "psi" and not same.drifted and same.effect < 0.01
    shifted = numeric_drift("x", ref, rng.lognormal(3.5, 0.5, 1_000_000), POLICY, 0.01)
    assert shifted.drifted and shifted.severity == "alert" and shifted.extra["wasserstein_normed"] > 0.5
    cref = categorical_profile(rng.choice(list("abcde"), 20_000))
    assert not categorical_drift("c", cref, pd.Series(rng.choice(list("abcde"), 500_000)), POLICY, 0.01).drifted
    skew = pd.Series(rng.choice(list("abcde"), 500_000, p=[0.6, 0.1, 0.1, 0.1, 0.1]))
    d = categorical_drift("c", cref, skew, POLICY, 0.01)
    assert d.method == "jensen_shannon" and d.drifted


def test_unseen_categories_count_as_other():
    ref = categorical_profile(["a"] * 50 + ["b"] * 50, top_k=1)
    assert set(ref.frequencies) == {"a", OTHER}
    d = categorical_drift("c", ref, pd.Series(["zzz"] * 100), POLICY, 0.01)
    assert d.drifted


def test_profile_round_trip(reference):
    prof = _profile(reference)
    again = Profile.from_dict(prof.to_dict())
    assert again.numeric["price"].edges == prof.numeric["price"].edges
    assert len(prof.numeric["price"].sample) <= 5000
    assert abs(sum(prof.categorical["prediction"].frequencies.values()) - 1.0) < 1e-9


def test_trigger_needs_consecutive_windows_rows_and_cooldown():
    t = RetrainTrigger(TriggerPolicy(consecutive=3, min_rows=100, cooldown_s=60))
    assert not t.observe(True, 100, 0)[0]
    assert not t.observe(True, 100, 1)[0]
    assert not t.observe(False, 100, 2)[0]  # a calm window resets the streak
    assert not t.observe(True, 100, 3)[0] and not t.observe(True, 100, 4)[0]
    fired, why = t.observe(True, 100, 5)
    assert fired and "3 consecutive" in why
    assert not t.observe(True, 50, 6)[0]  # too few rows: not counted
    for now in (7, 8):
        t.observe(True, 100, now)
    fired, why = t.observe(True, 100, 9)
    assert not fired and "cooldown" in why
    assert t.observe(True, 100, 70)[0]  # drift outlasted the cooldown: retrain once it is over
