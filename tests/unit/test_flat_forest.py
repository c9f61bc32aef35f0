"""The flat forest predicts what LightGBM's booster predicts: same trees, same decisions, same sums."""

import lightgbm as lgb
import numpy as np
import pytest
import scipy.sparse as sp

from skuflow.estimators.boosted import BoosterClassifier
from skuflow.estimators.flat_forest import FlatForest, available

pytestmark = pytest.mark.skipif(not available(), reason="numba not installed")


def _sparse_data(n: int, classes: int, seed: int = 0):
    """Sparse rows like TF-IDF blocks, with explicit zeros and NaNs so every missing-value branch is taken."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, 60, density=0.15, format="csr", random_state=seed, dtype=np.float32)
    y = (np.asarray(X[:, :5].sum(axis=1)).ravel() * 7 + rng.integers(0, 2, n)).astype(int) % classes
    dense = X.toarray()
    dense[rng.random(dense.shape) < 0.03] = np.nan
    return sp.csr_matrix(dense), y


@pytest.mark.parametrize("classes", [2, 4])
def test_probabilities_equal_the_boosters(classes):
    X, y = _sparse_data(600, classes)
    clf = BoosterClassifier(n_estimators=60, num_leaves=7, min_child_samples=5, verbose=-1).fit(X, y)
    expected = clf.booster_.predict(X, num_threads=1)
    flat = FlatForest.from_booster(clf.booster_)
    assert flat is not None
    np.testing.assert_allclose(flat.predict_proba(X), expected, rtol=0, atol=1e-9)
    for i in range(20):  # one row at a time, as served
        np.testing.assert_allclose(flat.predict_proba(X[i:i + 1]), expected[i:i + 1], rtol=0, atol=1e-9)


def test_zero_as_missing_and_values_on_a_threshold_decide_as_the_booster_does():
    X, y = _sparse_data(600, 3, seed=4)
    clf = BoosterClassifier(n_estimators=40, num_leaves=7, min_child_samples=5, zero_as_missing=True,
                            verbose=-1).fit(X, y)
    flat = FlatForest.from_booster(clf.booster_)
    assert flat is not None and set(flat.missing.tolist()) >= {1}  # some features treat zero as missing
    # rows whose values sit exactly on split thresholds, and just either side of them: the bins' edges
    # (splits at LightGBM's zero threshold, 1e-35, are left out: values within an ulp of it are not features)
    splits = [(n["split_feature"], n["threshold"]) for t in clf.booster_.dump_model()["tree_info"]
              for n in _splits(t["tree_structure"]) if abs(n["threshold"]) > 1e-30]
    rng = np.random.default_rng(5)
    edge = X[:60].toarray().astype(np.float64)  # float64: a threshold itself is not a float32
    for i in range(edge.shape[0]):
        for j in rng.integers(len(splits), size=4):
            column, t = splits[j]
            edge[i, column] = (t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf), 0.0, np.nan)[rng.integers(5)]
    edge = sp.csr_matrix(edge)
    np.testing.assert_allclose(flat.predict_proba(edge), clf.booster_.predict(edge), rtol=0, atol=1e-9)


def _splits(node: dict) -> list[dict]:
    if "split_feature" not in node:
        return []
    return [node, *_splits(node["left_child"]), *_splits(node["right_child"])]


def test_the_best_iteration_is_the_one_predicted():
    X, y = _sparse_data(800, 3, seed=1)
    clf = BoosterClassifier(n_estimators=400, learning_rate=0.3, num_leaves=15, min_child_samples=3, verbose=-1,
                            early_stopping_rounds=5).fit(X, y)
    assert 0 < clf.booster_.best_iteration < 400  # early stopping cut the rounds
    flat = FlatForest.from_booster(clf.booster_)
    assert flat is not None and len(flat.roots) == clf.booster_.best_iteration * 3
    np.testing.assert_allclose(flat.predict_proba(X), clf.booster_.predict(X), rtol=0, atol=1e-9)


def test_the_classifier_serves_small_batches_flat_and_compares_equal():
    X, y = _sparse_data(500, 3, seed=2)
    clf = BoosterClassifier(n_estimators=40, verbose=-1).fit(X, y)
    before = clf.predict_proba(X[:10])
    assert clf.compile_trees()
    np.testing.assert_allclose(clf.predict_proba(X[:10]), before, rtol=0, atol=1e-9)
    import pickle

    assert not hasattr(pickle.loads(pickle.dumps(clf)), "flat_forest_")  # a logged model never carries it
    assert hasattr(clf, "flat_forest_")  # and pickling leaves the served one as it was


def test_categorical_splits_are_left_to_the_booster():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 6, 400), rng.random(400)])
    y = (X[:, 0] % 2).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
                        lgb.Dataset(X, y, categorical_feature=[0]), num_boost_round=10)
    assert FlatForest.from_booster(booster) is None
