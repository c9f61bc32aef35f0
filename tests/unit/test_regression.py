"""Regression pieces on synthetic data: conformal intervals cover what they promise on fresh rows, the
stacked blend weighs members by what they know, and the gate's bootstrap reads RMSE the right way round."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from skuflow.evidence import paired_bootstrap_values
from skuflow.tasks.outputs import NumericPredictions, RegressionOutput
from skuflow.tasks.regression import ConformalRegressor
from skuflow.text.blend import BlendRegressor


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = 3 + 1.5 * X["a"] - X["b"] + rng.normal(scale=0.5, size=n)
    return X, y.to_numpy()


def test_conformal_intervals_cover_about_the_level_asked_on_fresh_rows():
    X, y = _data(2000, 0)
    model = ConformalRegressor(Ridge(), coverage=0.9, folds=5).fit(X, y)
    fresh_X, fresh_y = _data(20000, 1)
    values, lower, upper = model.predict_interval(fresh_X)
    covered = np.mean((fresh_y >= lower) & (fresh_y <= upper))
    assert 0.88 <= covered <= 0.92, covered
    assert np.allclose(upper - lower, 2 * model.half_width_) and np.allclose(values, model.predict(fresh_X))
    clipped = ConformalRegressor(Ridge(), clip=(1.0, 5.0)).fit(X, y).predict_interval(fresh_X)
    assert min(a.min() for a in clipped) >= 1.0 and max(a.max() for a in clipped) <= 5.0


def test_blend_regressor_weighs_the_informed_member_and_its_interval_covers():
    X, y = _data(3000, 2)
    blend = BlendRegressor([("ridge", Ridge()), ("mean", DummyRegressor())], refit=("ridge", "mean"),
                           holdout=0.2, rounds=3).fit(X, y)
    assert 0.9 < blend.weights_["ridge"] < 1.1  # the constant member only shifts the intercept
    fresh_X, fresh_y = _data(20000, 3)
    values, lower, upper = blend.predict_interval(fresh_X)
    assert 0.87 <= np.mean((fresh_y >= lower) & (fresh_y <= upper)) <= 0.93
    assert np.sqrt(np.mean((values - fresh_y) ** 2)) < 0.6


def test_bootstrap_on_errors_matches_sklearn_and_calls_a_lower_rmse_a_gain():
    rng = np.random.default_rng(4)
    truth = rng.normal(size=800)
    good, bad = truth + rng.normal(scale=0.3, size=800), truth + rng.normal(scale=0.6, size=800)
    gain = paired_bootstrap_values("rmse", truth, bad, good, confidence=0.95, resamples=1000, seed=0)
    assert np.isclose(gain.champion, np.sqrt(mean_squared_error(truth, bad)))
    assert np.isclose(gain.challenger, np.sqrt(mean_squared_error(truth, good)))
    assert gain.gain > 0 and gain.lower > 0  # the challenger's lower error is a gain
    back = paired_bootstrap_values("rmse", truth, good, bad, confidence=0.95, resamples=1000, seed=0)
    assert back.gain < 0 and back.upper < 0
    mae = paired_bootstrap_values("mae", truth, bad, good, resamples=200)
    assert np.isclose(mae.challenger, mean_absolute_error(truth, good))
    r2 = paired_bootstrap_values("r2", truth, bad, good, resamples=200)
    assert np.isclose(r2.challenger, r2_score(truth, good)) and r2.gain > 0


def test_numeric_predictions_through_the_regression_contract():
    preds = NumericPredictions([4.2, 1.5], [3.5, 1.0], [4.9, 2.2])
    assert preds.bodies() == [{"prediction": 4.2, "interval": [3.5, 4.9]},
                              {"prediction": 1.5, "interval": [1.0, 2.2]}]
    assert preds.take(1, 2).columns() == {"prediction": [1.5], "lower": [1.0], "upper": [2.2]}
    out = RegressionOutput(tolerance=0.5)
    assert out.agree(4.2, "4.6") and not out.agree(4.2, "3.5")
    assert not out.higher_is_better("rmse") and out.higher_is_better("r2")
    merged = out.merge_summaries([out.summary([1.0, 2.0]), out.summary([3.0]), out.summary([])])
    assert merged["rows"] == 3 and np.isclose(merged["mean"], 2.0) and np.isclose(merged["sd"], np.std([1, 2, 3]))
    assert np.isclose(out.live_score(["4.0", "2.0"], ["5", "2"]), np.sqrt(0.5))
