"""LightGBM classifier whose predictions skip the sklearn wrapper's per-call input checks.

``LGBMClassifier.predict_proba`` spends several times longer validating a one-row sparse matrix than the
booster call takes; inside a fitted skuflow pipeline the featurizer already guarantees the input's shape
and type, so prediction goes straight to the booster.
"""

from __future__ import annotations

import warnings

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.utils.validation import check_is_fitted

# below this, one thread beats OpenMP start-up, and a served model's flat forest (see compile_trees) walks the
# rows, several times faster than the booster on one thread (make bench-compiled-trees)
SMALL_BATCH = 256
# above it, 0 = "OpenMP's default": all cores in a plain process, one in a Dask worker (its nanny sets
# OMP_NUM_THREADS=1), whatever threadpoolctl says in between; n_jobs would oversubscribe workers


RARE_CLASS = 20  # rows below which a class counts as rare (see BoosterClassifier._rare_class_guard)

# skuflow's own settings, passed like any LightGBM keyword and kept out of the booster's parameters
_OWN = ("early_stopping_rounds", "validation_fraction")


class BoosterClassifier(LGBMClassifier):
    """``early_stopping_rounds=R`` holds out ``validation_fraction`` (default 0.1) of the training rows,
    stratified and seeded, and stops adding trees once R rounds bring no gain there; ``n_estimators`` is
    then a cap, and prediction uses the best round."""

    def fit(self, X, y, *args, **kwargs):
        own = {k: self._other_params.pop(k) for k in _OWN if k in self._other_params}
        guard = self._rare_class_guard(y)
        if guard:
            self.set_params(**guard)
        try:
            rounds = own.get("early_stopping_rounds")
            if not rounds or args or "eval_set" in kwargs:
                return super().fit(X, y, *args, **kwargs)
            from lightgbm import early_stopping
            from sklearn.model_selection import train_test_split

            y = np.asarray(y)
            _, counts = np.unique(y, return_counts=True)
            idx = np.arange(len(y))
            fit_idx, val_idx = train_test_split(idx, test_size=float(own.get("validation_fraction") or 0.1),
                                                random_state=self.random_state or 0,
                                                stratify=y if counts.min() >= 2 else None)
            with warnings.catch_warnings():  # eval_X/eval_y skip the label encoding that eval_set gets
                warnings.simplefilter("ignore", category=FutureWarning)
                warnings.filterwarnings("ignore", message=".*eval_set.*")
                return super().fit(X[fit_idx], y[fit_idx], eval_set=[(X[val_idx], y[val_idx])],
                                   callbacks=[early_stopping(int(rounds), verbose=False)], **kwargs)
        finally:
            self._other_params.update(own)
            if guard:
                self.set_params(min_child_weight=1e-3)  # the params stay as the caller set them

    def _rare_class_guard(self, y) -> dict:
        """Leaves that hold only a tiny class's rows have a near-zero hessian sum, and their values (-G/H)
        explode: on fashion-products' 45 sub-categories (one with a single row) raw scores reached 1,800 by
        round 26 and accuracy fell to 4%. When a class has fewer than RARE_CLASS rows and the caller left
        min_child_weight at LightGBM's 1e-3, such leaves need a hessian sum of 0.1 (accuracy 0.967 there)."""
        if self.min_child_weight != 1e-3:
            return {}
        _, counts = np.unique(np.asarray(y), return_counts=True)
        return {"min_child_weight": 0.1} if len(counts) > 1 and counts.min() < RARE_CLASS else {}
    def predict_proba(self, X, *args, **kwargs) -> np.ndarray:
        if args or kwargs:  # raw scores, leaf indices, ...: the full sklearn path
            return np.asarray(super().predict_proba(X, *args, **kwargs))
        if getattr(self, "_Booster", None) is None:  # cheaper than check_is_fitted's tag lookup
            check_is_fitted(self)
        flat = getattr(self, "flat_forest_", None)
        if flat is not None and X.shape[0] < SMALL_BATCH and hasattr(X, "indptr"):
            proba = flat.predict_proba(X)
        else:
            threads = 1 if X.shape[0] < SMALL_BATCH else 0
            proba = np.asarray(self.booster_.predict(X, num_threads=threads))
        if proba.ndim == 1:
            proba = np.column_stack([1.0 - proba, proba])
        return proba

    def compile_trees(self) -> bool:
        """Lay the trees out flat for the online path (``estimators.flat_forest``): a single row walks them
        several times faster than through the booster (make bench-compiled-trees). Serving calls this
        on the loaded model only; a logged model never carries the flat copy."""
        from skuflow.estimators.flat_forest import FlatForest

        self.flat_forest_ = FlatForest.from_booster(self.booster_)
        return self.flat_forest_ is not None

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the base may hand back the live __dict__
        state.pop("flat_forest_", None)  # rebuilt from the booster where it is wanted
        return state

    def predict(self, X, *args, **kwargs) -> np.ndarray:
        if args or kwargs:
            return np.asarray(super().predict(X, *args, **kwargs))
        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]
