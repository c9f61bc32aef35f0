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


def test_rare_classes_train_on_every_category_family():
    """A label layout real category trees have: one class of a single row, one of three rows."""
    import numpy as np

    from skuflow.data.generate import generate_catalogue
    from skuflow.estimators.smote import RareSafeSMOTE
    from skuflow.tasks.base import get_task

    rows = generate_catalogue(500, seed=4)
    y = rows["category"].astype(str).to_numpy().astype(object)
    y[0], y[1:4] = "vouchers", "umbrellas"
    task = get_task("category")
    for kind, params in {"lightgbm": {"n_estimators": 30}, "linear": {}, "rf_smote": {"n_estimators": 20}}.items():
        model = task.build_model({"kind": kind, "params": params}, {}).fit(rows, y)
        proba = task.predict_proba(model, rows)
        assert proba.shape == (500, len(set(y))) and np.isfinite(proba).all(), kind
        assert (np.asarray(model.classes_)[proba.argmax(1)] == y).mean() > 0.8, kind
    booster = task.build_model({"kind": "lightgbm", "params": {"n_estimators": 30}}, {}).fit(rows, y).steps[-1][1]
    assert float(booster.booster_.params["min_child_weight"]) == 0.1 and booster.min_child_weight == 1e-3
    X = np.random.default_rng(0).normal(size=(54, 3))
    labels = np.array(["a"] * 50 + ["b"] * 3 + ["c"])
    _, out = RareSafeSMOTE(random_state=0).fit_resample(X, labels)
    assert {k: int((out == k).sum()) for k in "abc"} == {"a": 50, "b": 50, "c": 1}
