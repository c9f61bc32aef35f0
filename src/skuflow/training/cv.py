"""K-fold cross-validation on training rows: grouped when the config's split is grouped (a product's
offers never straddle a fold boundary), stratified on the task's strata otherwise.

Tuning and ``skuflow train --cv`` both score a recipe here; the test split is never passed in.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedGroupKFold, StratifiedKFold

from skuflow.errors import ConfigError
from skuflow.tasks.base import Task, get_task
from skuflow.training.config import TrainConfig

Fold = tuple[np.ndarray, np.ndarray]


def cv_folds(task: Task, frame: pd.DataFrame, config: TrainConfig, k: int) -> list[Fold]:
    """``k`` (train, validation) index pairs over ``frame``, seeded by the config's split seed."""
    if k < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, not {k}")
    if k > len(frame):
        raise ConfigError(f"{k} folds need at least {k} rows; the training split has {len(frame)}")
    seed, strata = config.split.seed, task.strata(frame).astype(str).to_numpy()
    index = np.arange(len(frame))
    counts = pd.Series(strata).value_counts()
    stratify = len(counts) > 1 and counts.min() >= k
    if config.split.strategy == "group" and config.split.group_key in frame.columns:
        groups = frame[config.split.group_key].astype(str).to_numpy()
        if len(set(groups)) < k:
            raise ConfigError(f"{k} grouped folds need at least {k} groups of '{config.split.group_key}'")
        splitter: Any = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(tr, va) for tr, va in splitter.split(index, strata if stratify else None, groups)]
    splitter = StratifiedKFold(k, shuffle=True, random_state=seed) if stratify else KFold(k, shuffle=True,
                                                                                         random_state=seed)
    return [(tr, va) for tr, va in splitter.split(index, strata if stratify else None)]


def fit_and_score(task_name: str, config: TrainConfig, frame: pd.DataFrame, fold: Fold) -> dict[str, float]:
    """Fit the config's recipe on one fold's training rows and score its validation rows (a Dask task too:
    only names, the config and indices travel; the frame is shared)."""
    task = get_task(task_name)
    train_rows, val_rows = frame.iloc[fold[0]], frame.iloc[fold[1]]
    started = time.perf_counter()
    model = task.build_model(config.model.model_dump(), config.features)
    model.fit(train_rows, task.target(train_rows))
    scores = task.score(model, val_rows)
    return {k: v for k, v in scores.items() if not k.startswith("f1.")} | {
        "fit_seconds": time.perf_counter() - started}


def cross_validate(task: Task, config: TrainConfig, frame: pd.DataFrame, k: int) -> list[dict[str, float]]:
    """Every fold's metrics, one fold after another in this process."""
    return [fit_and_score(task.name, config, frame, fold) for fold in cv_folds(task, frame, config, k)]


def cv_summary(fold_metrics: list[dict[str, float]], primary: str) -> dict[str, float]:
    """``cv.METRIC.mean`` and ``cv.METRIC.sd`` (sample sd across folds) of every metric, plus ``cv.folds``."""
    out: dict[str, float] = {"cv.folds": float(len(fold_metrics))}
    for key in fold_metrics[0] if fold_metrics else ():
        if key == "fit_seconds":
            continue
        values = np.asarray([m[key] for m in fold_metrics], dtype=float)
        out[f"cv.{key}.mean"] = float(values.mean())
        out[f"cv.{key}.sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    if f"cv.{primary}.mean" not in out:
        raise ConfigError(f"cross-validation produced no '{primary}'")
    return out
