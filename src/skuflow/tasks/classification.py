"""Everything shared by classification tasks: predicting classes, accuracy, macro-F1, per-class F1,
one-vs-rest ROC-AUC, a confusion-matrix figure and a per-class report."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score, roc_auc_score

from skuflow.estimators.pipeline import final_estimator, is_pipeline, transform_features
from skuflow.evaluation.curves import curves, curves_figure, reliability, reliability_figure
from skuflow.evaluation.explain import importance_figure
from skuflow.features.tabular import Table
from skuflow.label_paths import depth_of, is_path_labels, leaves, level_labels, level_predictions
from skuflow.tasks.base import Task
from skuflow.tasks.outputs import ClassificationOutput, ClassPredictions

CURVES_ARTIFACT = "roc_pr_curves.json"
RELIABILITY_ARTIFACT = "reliability.json"
IMPORTANCE_ARTIFACT = "importance.json"
MAX_CONFUSION_CLASSES = 30


def predict_proba(model: Any, X: Table) -> np.ndarray:
    """``model.predict_proba(X)``, walking a pipeline's steps directly (``skuflow.estimators.pipeline``)."""
    if is_pipeline(model):
        return np.asarray(final_estimator(model).predict_proba(transform_features(model, X)))
    return np.asarray(model.predict_proba(X))


def predict_classes(model: Any, X: Table, top_k: int = 3) -> ClassPredictions:
    """Score rows with a fitted classifier pipeline. Online, batch and evaluation all call this."""
    return predictions_from_proba(predict_proba(model, X), model.classes_, top_k)


def predictions_from_proba(proba: np.ndarray, model_classes: Any, top_k: int = 3) -> ClassPredictions:
    """Labels, confidences and top-k from a probability matrix whose columns follow ``model_classes``."""
    classes = [str(c) for c in model_classes]  # python strings: numpy str scalars are slow to build
    best = proba.argmax(axis=1)
    k = min(top_k, proba.shape[1])
    order = np.argsort(-proba, axis=1)[:, :k].tolist()
    rows = proba.tolist()
    return ClassPredictions(
        labels=[classes[j] for j in best.tolist()],
        confidences=[rows[i][j] for i, j in enumerate(best.tolist())],
        top_k=[[(classes[j], rows[i][j]) for j in row] for i, row in enumerate(order)],
        levels=level_predictions(proba, classes, best) if is_path_labels(classes) else None,
    )


def classification_metrics(y_true: list[str], proba: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Metrics from true labels and class probabilities (columns ordered as ``classes``)."""
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=classes, zero_division=0)),
    }
    per_class = f1_score(y_true, y_pred, average=None, labels=classes, zero_division=0)
    metrics.update({f"f1.{c}": float(v) for c, v in zip(classes, per_class, strict=True)})
    if is_path_labels(classes):
        metrics.update(path_metrics(y_true, y_pred.tolist(), depth_of(classes)))
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


def path_metrics(y_true: list[str], y_pred: list[str], depth: int) -> dict[str, float]:
    """Accuracy and macro-F1 at each level of category paths, and of the leaf's own name (a leaf name such as
    "Sandals" may sit under several parents); whole-path accuracy is ``accuracy``."""
    out: dict[str, float] = {}
    cuts = {f"level_{d}": (level_labels(y_true, d), level_labels(y_pred, d)) for d in range(1, depth + 1)}
    cuts["leaf"] = (leaves(y_true), leaves(y_pred))
    for name, (truth, pred) in cuts.items():
        out[f"{name}.accuracy"] = float(accuracy_score(truth, pred))
        out[f"{name}.macro_f1"] = float(f1_score(truth, pred, average="macro", zero_division=0))
    return out


def confusion_figure(y_true: list[str], y_pred: list[str], classes: list[str], title: str):
    """Row-normalised confusion matrix as a matplotlib figure (counts printed in each cell)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(classes) > MAX_CONFUSION_CLASSES:  # a 170-class grid is unreadable: the most frequent true classes
        counts = Counter(y_true)
        classes = sorted(classes, key=lambda c: -counts.get(c, 0))[:MAX_CONFUSION_CLASSES]
        title += f" ({MAX_CONFUSION_CLASSES} most frequent classes)"
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

    output = ClassificationOutput()

    def predict(self, model: Any, X: Table, top_k: int = 3) -> ClassPredictions:
        return predict_classes(model, X, top_k=top_k)

    def predict_proba(self, model: Any, X: Table) -> np.ndarray:
        """Class probabilities, columns as ``model.classes_`` (the gate and cross-validation score these)."""
        return predict_proba(model, X)

    def score(self, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        classes = [str(c) for c in model.classes_]
        return classification_metrics(frame[self.label].astype(str).tolist(), self.predict_proba(model, frame),
                                      classes)

    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], ClassPredictions]:
        proba = self.predict_proba(model, frame)
        return (*self.evaluate_proba(model, frame, proba), predictions_from_proba(proba, model.classes_, 1))

    def evaluate_proba(self, model: Any, frame: pd.DataFrame,
                       proba: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and artifacts from probabilities already computed (subclasses predict once)."""
        classes = [str(c) for c in model.classes_]
        y_true = frame[self.label].astype(str).tolist()
        metrics = classification_metrics(y_true, proba, classes)
        y_pred = np.asarray(classes)[proba.argmax(axis=1)].tolist()
        report = classification_report(y_true, y_pred, labels=classes, output_dict=True, zero_division=0)
        roc_pr = curves(y_true, proba, classes)
        calibration = reliability(y_true, proba, classes)
        metrics["ece"] = calibration["ece"]
        artifacts = {
            "confusion_matrix.png": confusion_figure(y_true, y_pred, classes, f"{self.name}: confusion matrix"),
            "per_class_report.json": report,
            CURVES_ARTIFACT: roc_pr,
            "roc_pr_curves.png": curves_figure(roc_pr, f"{self.name}: one-vs-rest curves"),
            RELIABILITY_ARTIFACT: calibration,
            "reliability.png": reliability_figure(calibration, self.name),
        }
        weights = self.importance(model)
        if weights is not None:
            artifacts[IMPORTANCE_ARTIFACT] = weights
            artifacts["importance.png"] = importance_figure(weights, f"{self.name}: what the model leans on")
        return metrics, artifacts
