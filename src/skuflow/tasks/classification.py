"""Evaluation shared by every classification task: accuracy, macro-F1, per-class F1, one-vs-rest
ROC-AUC, a confusion-matrix figure and a per-class report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score, roc_auc_score

from skuflow.tasks.base import Task, predict_proba


def classification_metrics(y_true: list[str], proba: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Metrics from true labels and class probabilities (columns ordered as ``classes``)."""
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=classes, zero_division=0)),
    }
    per_class = f1_score(y_true, y_pred, average=None, labels=classes, zero_division=0)
    metrics.update({f"f1.{c}": float(v) for c, v in zip(classes, per_class, strict=True)})
    present = sorted(set(y_true))
    if len(present) > 1 and set(present) <= set(classes):
        if len(classes) == 2:
            pos = classes[1]
            metrics["roc_auc"] = float(roc_auc_score(np.asarray(y_true) == pos, proba[:, 1]))
        else:
            cols = [classes.index(c) for c in present]
            sub = proba[:, cols]
            sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
            metrics["roc_auc_ovr"] = float(
                roc_auc_score(y_true, sub, multi_class="ovr", labels=present, average="macro")
            )
    return metrics


def confusion_figure(y_true: list[str], y_pred: list[str], classes: list[str], title: str):
    """Row-normalised confusion matrix as a matplotlib figure (counts printed in each cell)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = confusion_matrix(y_true, y_pred, labels=classes)
    norm = cm / np.clip(cm.sum(axis=1, keepdims=True), 1, None)
    size = max(5.0, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    fig.tight_layout()
    return fig


class ClassificationTask(Task):
    """A task whose model is a probabilistic classifier over ``label``."""

    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], np.ndarray]:
        proba = predict_proba(model, frame)
        return (*self.evaluate_proba(model, frame, proba), proba)

    def evaluate_proba(self, model: Any, frame: pd.DataFrame,
                       proba: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and artifacts from probabilities already computed (subclasses predict once)."""
        classes = [str(c) for c in model.classes_]
        y_true = frame[self.label].astype(str).tolist()
        metrics = classification_metrics(y_true, proba, classes)
        y_pred = np.asarray(classes)[proba.argmax(axis=1)].tolist()
        report = classification_report(y_true, y_pred, labels=classes, output_dict=True, zero_division=0)
        artifacts = {
            "confusion_matrix.png": confusion_figure(y_true, y_pred, classes, f"{self.name}: confusion matrix"),
            "per_class_report.json": report,
        }
        return metrics, artifacts
