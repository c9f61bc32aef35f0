"""Performance estimation without labels and the outlier detector, on data whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score

from skuflow.data.generate import generate_catalogue
from skuflow.monitoring.drift import DriftPolicy, DriftReport
from skuflow.monitoring.estimate import PerformanceReference, estimate, fit_reference
from skuflow.monitoring.novelty import NoveltyDetector

CLASSES = ["a", "b", "c"]


def _overconfident_model(n: int, seed: int, skew: float = 0.0):
    """Predictions whose stated confidence is higher than their real chance of being right (p_true =
    conf ** 3): a model an estimate must not take at its word. ``skew`` moves traffic towards class a."""
    rng = np.random.default_rng(seed)
    share = np.array([1 / 3 + skew, 1 / 3 - skew / 2, 1 / 3 - skew / 2])
    truth = rng.choice(CLASSES, n, p=share)
    conf = rng.uniform(0.5, 1.0, n)
    right = rng.uniform(size=n) < conf ** 3
    # a wrong prediction names the next class along (a -> b -> c -> a): errors have a structure
    wrong = {c: CLASSES[(i + 1) % 3] for i, c in enumerate(CLASSES)}
    pred = np.where(right, truth, [wrong[t] for t in truth])
    return truth.tolist(), pred.tolist(), conf.tolist()


def test_estimate_corrects_overconfidence_and_tracks_accuracy_and_macro_f1():
    truth, pred, conf = _overconfident_model(5000, seed=0)
    ref = fit_reference(pred, conf, truth, CLASSES)
    assert ref.accuracy == pytest.approx(np.mean(np.array(pred) == np.array(truth)))
    ref = PerformanceReference.from_dict(ref.to_dict())  # as stored in the profile
    errors = []
    for seed in range(1, 21):
        t, p, c = _overconfident_model(1000, seed=seed, skew=0.2 if seed % 2 else 0.0)
        est = estimate(ref, p, c)
        realised_acc = float(np.mean(np.array(p) == np.array(t)))
        errors.append((est["accuracy"] - realised_acc, est["macro_f1"] - f1_score(t, p, average="macro")))
        # the stated confidence overstates accuracy by ~0.1: the estimate must not
        assert np.mean(c) - realised_acc > 0.08
    errors_arr = np.abs(np.array(errors))
    assert (errors_arr < 0.04).all() and errors_arr.mean(axis=0).max() < 0.02


def test_estimate_of_an_empty_window_and_unknown_classes():
    truth, pred, conf = _overconfident_model(2000, seed=0)
    ref = fit_reference(pred, conf, truth, CLASSES)
    assert estimate(ref, [], [])["accuracy"] is None
    est = estimate(ref, ["a", "zzz"], [0.9, 0.9])  # a class the reference never knew counts as a row, no crash
    assert est["n"] == 2 and 0 < est["accuracy"] < 1


def test_estimated_drop_raises_an_alert_only_beyond_the_setting():
    report = DriftReport("t", 1000, [], drifted=False, share_drifted=0.0)
    est = {"n": 1000, "accuracy": 0.80, "reference_accuracy": 0.90, "accuracy_drop": 0.10}
    report.add_performance(est, DriftPolicy(estimated_drop_alert=0.15))
    assert not report.alarm
    report.add_performance(est, DriftPolicy(estimated_drop_alert=0.05))
    assert report.alarm and "below the held-out" in report.alerts[0]


def _titles(n: int, seed: int) -> list[str]:
    frame = generate_catalogue(n, seed=seed)
    return (frame["title"] + " " + frame["description"].fillna("")).tolist()


FOREIGN = ["love this dress fits perfectly", "runs small order a size up", "beautiful colour but thin fabric",
           "my new favourite top", "returned it the seams were off", "so soft and comfy", "gorgeous for summer",
           "not flattering on me", "great quality for the money", "the zipper broke after a week"]


@pytest.fixture(scope="module")
def text_space():
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit(_titles(2000, seed=1))
    return vec


def test_novelty_threshold_holds_one_percent_and_catches_another_catalogue(text_space):
    # the reference must cover the catalogue's breadth (hundreds of product kinds): 6,000 rows, then 4,000 to
    # calibrate on
    detector = NoveltyDetector.fit(text_space.transform(_titles(6000, seed=1)),
                                   text_space.transform(_titles(4000, seed=2)))
    fresh = detector.window(text_space.transform(_titles(3000, seed=3)))
    assert 0.002 <= fresh["share"] <= 0.025 and not fresh["flagged"]
    rng = np.random.default_rng(0)
    foreign = [" ".join(rng.choice(FOREIGN, 2)) for _ in range(100)]
    mixed = detector.window(text_space.transform(_titles(900, seed=4) + foreign))
    assert mixed["flagged"] and mixed["share"] > 0.05
    scores = detector.scores(text_space.transform(foreign))
    assert np.mean(scores > detector.threshold) > 0.5
    # stored with a version and read back: the same scores
    again = NoveltyDetector.from_bytes(detector.to_bytes())
    assert again.threshold == detector.threshold
    np.testing.assert_allclose(again.scores(text_space.transform(foreign)), scores, rtol=1e-6)


def test_novelty_scores_a_training_row_as_familiar_and_an_empty_row_as_novel(text_space):
    titles = _titles(500, seed=1)
    detector = NoveltyDetector.fit(text_space.transform(titles), text_space.transform(_titles(500, seed=2)))
    scores = detector.scores(text_space.transform([titles[0], ""]))
    assert scores[0] == pytest.approx(0.0, abs=1e-5) and scores[1] == pytest.approx(1.0)


def test_occlusion_finds_the_part_of_the_image_the_model_reads():
    from skuflow.evaluation.occlusion import occlusion_map

    def proba(pixels: np.ndarray) -> np.ndarray:  # a "model" that looks only at the top-left quarter
        seen = pixels[:, :14, :14, 0].mean(axis=(1, 2)) / 255.0
        p = 1 / (1 + np.exp(-(8 * seen - 2)))
        return np.column_stack([1 - p, p])

    image = np.full((28, 28, 1), 40, dtype=np.uint8)
    image[:14, :14] = 250  # bright where the model looks
    k, p, drops = occlusion_map(proba, image)
    assert k == 1 and p > 0.9
    assert (drops[:3, :3] > 0).all() and np.allclose(drops[4:, :], 0) and np.allclose(drops[:, 4:], 0)
