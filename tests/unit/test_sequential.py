"""The mSPRT for experiments: reading it after every row keeps false wins under alpha, while a z-test
peeked at the same data does not; a real 5-point gain is found."""

import numpy as np
import pytest

from skuflow.experiments.sequential import confidence_sequence, msprt_lr, replay, simulate


def test_peeking_after_every_row_keeps_false_promotions_under_alpha():
    aa = simulate(0.80, 0.80, experiments=300, max_rows=3000, seed=11)
    assert aa["msprt_promoted"] <= 0.05
    assert aa["ztest_peeking_promoted"] > 2 * max(aa["msprt_promoted"], 0.02)  # why peeking needs mSPRT


def test_a_better_challenger_is_promoted_within_5000_rows():
    ab = simulate(0.80, 0.85, experiments=300, max_rows=5000, seed=12)
    assert ab["msprt_promoted"] >= 0.90 and ab["msprt_median_rows"] < 5000


def test_replay_stops_at_the_first_decisive_row_and_the_interval_covers_the_truth():
    rng = np.random.default_rng(3)
    is_b = rng.random(4000) < 0.5
    ok = rng.random(4000) < np.where(is_b, 0.9, 0.8)
    r = replay(is_b, ok, min_rows=50)
    assert r.decision == "challenger better" and r.p_value <= 0.05
    rows = r.n_a + r.n_b
    assert rows < 4000  # decided on the way, and the rows after it do not change the answer
    assert replay(is_b[:rows], ok[:rows], min_rows=50).to_dict() == r.to_dict()
    s_a, s_b = int((ok[:rows] & ~is_b[:rows]).sum()), int((ok[:rows] & is_b[:rows]).sum())
    assert r.p_value == pytest.approx(1 / float(msprt_lr(s_a, r.n_a, s_b, r.n_b)))
    assert r.interval[0] < 0.10 < r.interval[1]
    assert replay(is_b[:rows - 1], ok[:rows - 1], min_rows=50).decision == "continue"
    assert replay([], []).decision == "continue"
    lo, hi = confidence_sequence(400, 500, 400, 500)
    assert lo < 0 < hi and hi - lo == pytest.approx(2 * hi)
