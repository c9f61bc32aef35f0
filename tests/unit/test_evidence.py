"""The paired bootstrap: each weighted metric equals scikit-learn's on the same rows, and the interval
behaves (zero for identical models, clear of zero for a better one, reproducible from its seed)."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from skuflow.evidence import paired_bootstrap, weighted_metric


def _proba(n: int, k: int, skill: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n)
    p[np.arange(n), truth] += skill
    p = np.round(p / p.sum(1, keepdims=True), 2)  # rounding makes ties, which AUC counts as halves
    return truth, p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("weights", ["ones", "counts"])
def test_weighted_metrics_equal_sklearn_on_the_rows_they_stand_for(weights):
    truth, p = _proba(1500, 5, 0.4, seed=1)
    rng = np.random.default_rng(2)
    w = np.ones((1, len(truth))) if weights == "ones" else rng.multinomial(len(truth), np.full(len(truth),
                                                                                          1 / len(truth)), 1)
    rows = np.repeat(np.arange(len(truth)), w[0].astype(int))  # a resample is these rows, repeated
    t, q = truth[rows], p[rows]
    assert weighted_metric("accuracy", w, truth, p)[0] == pytest.approx(accuracy_score(t, q.argmax(1)))
    assert weighted_metric("macro_f1", w, truth, p)[0] == pytest.approx(f1_score(t, q.argmax(1), average="macro"))
    assert weighted_metric("roc_auc_ovr", w, truth, p)[0] == pytest.approx(
        roc_auc_score(t, q, multi_class="ovr", average="macro"), abs=1e-4)
    binary = truth % 2
    pb = np.column_stack([1 - p[:, 0], p[:, 0]])
    assert weighted_metric("roc_auc", w, binary, pb)[0] == pytest.approx(roc_auc_score(binary[rows], pb[rows, 1]))


def test_identical_models_gain_nothing_and_a_better_one_clears_zero():
    truth, weak = _proba(2000, 4, 0.15, seed=3)
    _, strong = _proba(2000, 4, 0.6, seed=3)  # the same truth drawn, a sharper model
    y, classes = [str(v) for v in truth], ["0", "1", "2", "3"]
    same = paired_bootstrap("macro_f1", y, weak, classes, weak, classes)
    assert (same.gain, same.lower, same.upper) == (0.0, 0.0, 0.0)
    better = paired_bootstrap("macro_f1", y, weak, classes, strong, classes, resamples=1000, seed=7)
    assert better.gain > 0.1 and 0 < better.lower < better.gain < better.upper
    again = paired_bootstrap("macro_f1", y, weak, classes, strong, classes, resamples=1000, seed=7)
    assert (again.lower, again.upper) == (better.lower, better.upper)


def test_models_with_different_class_lists_are_aligned():
    y = ["a", "b", "c", "a"]
    champion = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]])  # never learned "c"
    challenger = np.array([[0.1, 0.1, 0.8], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])  # columns c, b, a
    g = paired_bootstrap("accuracy", y, champion, ["a", "b"], challenger, ["c", "b", "a"], resamples=200)
    assert g.champion == pytest.approx(0.75) and g.challenger == pytest.approx(0.5)
