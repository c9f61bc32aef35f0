"""The parts that make big category trees affordable: exported paths cleaned, thin leaves folded, hashed
text columns, the embedding softmax, and the gate's label-only bootstrap against scikit-learn."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from skuflow.estimators.embedding_bag import EmbeddingBagClassifier
from skuflow.evidence import paired_bootstrap_labels
from skuflow.features.hashed_text import HashedTfidf
from skuflow.label_paths import fold_rare, truncate, unwrap


@pytest.mark.parametrize(("raw", "clean"), [
    ('["Home >> Curtains >> Blue curtain"]', "Home >> Curtains >> Blue curtain"),
    ('"Home >> Curtains"', "Home >> Curtains"),
    ("['Home >> Curtains']", "Home >> Curtains"),
    ("[Home >> Curtains]", "Home >> Curtains"),
    ("Home >> Curtains", "Home >> Curtains"),
])
def test_unwrap_removes_export_wrappers(raw, clean):
    assert unwrap(raw) == clean


def test_truncate_keeps_short_paths_whole():
    assert truncate(["a", "b", "c"], 2) == ["a", "b"]
    assert truncate(["a"], 2) == ["a"]
    assert truncate(["a", "b"], None) == ["a", "b"]


def test_fold_rare_collapses_thin_branches_level_by_level():
    paths = ["A > B > C"] * 5 + ["A > B > D1", "A > B > D2", "A > B > D3"] + ["A > E > F", "A > E > G"] + ["H > I"]
    folded = fold_rare(paths, 3)
    # three one-row leaves make "A > B" a class of 3 rows: enough, it stays
    assert folded["A > B > D1"] == folded["A > B > D2"] == folded["A > B > D3"] == "A > B"
    # F and G fold into "A > E" (2 rows), still too thin, which folds into "A": both end there
    assert folded["A > E > F"] == folded["A > E > G"] == "A"
    assert folded["H > I"] == "H"  # a top-level node keeps its rows whatever their number
    assert "A > B > C" not in folded and "A > B" not in folded


def test_hashed_tfidf_is_the_same_in_any_process_and_names_its_columns():
    texts = ["red cotton shirt", "blue cotton shirt", "steel frying pan", "red frying pan"] * 5
    a = HashedTfidf("word", (1, 2), 2**12).fit(texts)
    b = pickle.loads(pickle.dumps(a))
    block = a.block(["red cotton shirt"])
    assert np.array_equal(block.indices, b.block(["red cotton shirt"]).indices)
    assert np.isclose(np.sum(block.data ** 2), 1.0)  # unit rows, as TfidfVectorizer
    assert {a.name(int(j)) for j in block.indices} == {"red", "cotton", "shirt", "red cotton", "cotton shirt"}
    # a few rows are hashed token by token, many through HashingVectorizer: the same columns and weights
    many = a.block(texts[:2] * 10)
    assert np.array_equal(many.indices[:many.indptr[2]], a.block(texts[:2]).indices)
    assert np.allclose(many.data[:many.indptr[2]], a.block(texts[:2]).data)


def _toy(n: int, classes: int, seed: int = 0):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    cols = np.column_stack([y * 3 + rng.integers(0, 3, size=n), 1000 + rng.integers(0, 50, size=(n, 2))])
    data = np.ones(cols.size, dtype=np.float32)
    X = sp.csr_matrix((data, cols.ravel(), np.arange(0, cols.size + 1, 3)), shape=(n, 1100))
    return X, np.asarray([f"c{v:03d}" for v in y])


def test_embedding_bag_learns_many_classes_and_pickles_exactly():
    X, y = _toy(6000, 150)
    model = EmbeddingBagClassifier(dim=16, epochs=4, batch_size=256, learning_rate=0.05).fit(X[:5000], y[:5000])
    assert list(model.classes_) == sorted(set(y[:5000]))
    proba = model.predict_proba(X[5000:])
    assert proba.shape == (1000, len(model.classes_)) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert accuracy_score(y[5000:], model.predict(X[5000:])) > 0.9  # one column names the class
    assert [h["epoch"] for h in model.history_] == [1, 2, 3, 4]
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]
    assert np.allclose(model.predict_proba(X[5000:5001]), proba[:1], atol=1e-6)  # one row takes its own path
    copy = pickle.loads(pickle.dumps(model))
    assert np.array_equal(copy.predict_proba(X[5000:]), proba)


def test_label_bootstrap_matches_sklearn_with_unit_weights():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 40, size=500).astype(str).tolist()
    a = [t if rng.random() < 0.7 else str(rng.integers(0, 45)) for t in truth]
    b = [t if rng.random() < 0.8 else str(rng.integers(0, 45)) for t in truth]
    for metric, score in (("accuracy", accuracy_score),
                          ("macro_f1", lambda t, p: f1_score(t, p, average="macro", zero_division=0))):
        gain = paired_bootstrap_labels(metric, truth, a, b, resamples=200)
        assert gain.champion == pytest.approx(score(truth, a)) and gain.challenger == pytest.approx(score(truth, b))
        assert gain.lower < gain.gain < gain.upper and gain.gain > 0


def test_estimated_macro_f1_equals_the_dense_confusion_it_replaces():
    """The reference keeps only seen mistakes plus an even smoothing share; the estimate must equal the
    classes x classes expected confusion built from the full smoothed distribution."""
    from skuflow.monitoring.estimate import REST, SMOOTHING, estimate, fit_reference

    rng = np.random.default_rng(4)
    classes = [f"k{i}" for i in range(12)]
    truth = rng.choice(classes, size=800).tolist()
    pred = [t if rng.random() < 0.75 else str(rng.choice(classes)) for t in truth]
    conf = rng.uniform(0.3, 1.0, size=800).tolist()
    ref = fit_reference(pred, conf, truth, classes)
    assert ref.macro_f1 == pytest.approx(f1_score(truth, pred, average="macro", zero_division=0))
    window, window_conf = rng.choice(classes, size=300).tolist(), rng.uniform(0.3, 1.0, size=300)
    p = ref.p_correct(window, window_conf)
    index = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((12, 12))
    for label, pj in zip(window, p, strict=True):
        j = index[label]
        cm[j, j] += pj
        for k in classes:
            if k != label:
                share = ref.mistakes[label].get(k, ref.mistakes[label].get(REST, 0.0))
                cm[index[k], j] += (1 - pj) * share
    tp = np.diag(cm)
    f1 = 2 * tp / (2 * tp + (cm.sum(axis=0) - tp) + (cm.sum(axis=1) - tp))
    from skuflow.monitoring.estimate import expected_totals, macro_f1_from_totals

    assert macro_f1_from_totals(*expected_totals(ref, window, p)) == pytest.approx(float(f1.mean()))
    assert estimate(ref, window, window_conf.tolist())["macro_f1"] == pytest.approx(float(f1.mean()))
    assert all(sum(m.get(k, m.get(REST, 0)) for k in classes if k != j) == pytest.approx(1.0)
               for j, m in ref.mistakes.items())
    assert SMOOTHING > 0


def test_predicted_class_series_stay_bounded_for_big_trees():
    from prometheus_client import generate_latest

    from skuflow.monitoring.metrics import MAX_CLASS_SERIES, OTHER_CLASSES, ApiMetrics

    metrics = ApiMetrics()
    labels = [f"A > leaf {i}" for i in range(MAX_CLASS_SERIES + 300)]
    metrics.observe_classes("category", 1, labels, [0.5] * len(labels))
    metrics.observe_classes("category", 1, [labels[0]], [0.9])
    text = generate_latest(metrics.registry).decode()
    series = [line for line in text.splitlines() if line.startswith("skuflow_predictions_total{")]
    assert len(series) == MAX_CLASS_SERIES + 1
    assert 'label="' + OTHER_CLASSES + '",model_version="1",task="category",variant=""} 300.0' in text
    assert 'label="A > leaf 0",model_version="1",task="category",variant=""} 2.0' in text
