"""LightGBM with early stopping on a held-out share of the training rows."""

import numpy as np

from skuflow.estimators.boosted import BoosterClassifier


def test_early_stopping_caps_rounds_and_keeps_the_sklearn_contract():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=600) > 0, "good", "poor")  # string labels, as skuflow's
    model = BoosterClassifier(n_estimators=500, learning_rate=0.3, early_stopping_rounds=10, verbose=-1)
    model.fit(X, y)
    assert 0 < model.best_iteration_ < 500
    assert set(model.predict(X)) <= {"good", "poor"} and (model.predict(X) == y).mean() > 0.85
    params = model.get_params()
    assert params["early_stopping_rounds"] == 10  # still a parameter: clone() and the logged config keep it
    plain = BoosterClassifier(n_estimators=20, verbose=-1).fit(X, y)
    assert plain.booster_.current_iteration() == 20
