"""Everything shared by classification tasks: predicting classes, accuracy, macro-F1, per-class F1,
one-vs-rest ROC-AUC, a confusion-matrix figure and a per-class report."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from skuflow.estimators.pipeline import final_estimator, is_pipeline, transform_features
from skuflow.evaluation.curves import curves, curves_figure, reliability, reliability_figure, reliability_of
from skuflow.evaluation.explain import importance_figure
from skuflow.features.tabular import Table
from skuflow.label_paths import (
    class_names,
    depth_of,
    is_path_labels,
    leaves,
    level_labels,
    level_predictions,
    tree_of,
)
from skuflow.tasks.base import Task
from skuflow.tasks.outputs import ClassificationOutput, ClassPredictions

CURVES_ARTIFACT = "roc_pr_curves.json"
RELIABILITY_ARTIFACT = "reliability.json"
IMPORTANCE_ARTIFACT = "importance.json"
PER_CLASS_ARTIFACT = "per_class.csv"
MAX_CONFUSION_CLASSES = 30  # a confusion grid and per-class MLflow metrics up to this many classes
# up to this many classes, evaluation keeps every class's probability (curves, AUC); beyond, it scores in chunks
FULL_PROBA_MAX_CLASSES = 200
EVALUATION_CHUNK_ROWS = 20_000


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
    classes = class_names(model_classes)
    best = proba.argmax(axis=1)
    k = min(top_k, proba.shape[1])
    if k == 1:
        order = best[:, None]
    else:  # the k best columns, then those k sorted: never a sort (or a Python list) of every class
        order = np.argpartition(proba, -k, axis=1)[:, -k:]
        order = np.take_along_axis(order, np.argsort(-np.take_along_axis(proba, order, axis=1), axis=1,
                                                     kind="stable"), axis=1)
    values = np.take_along_axis(proba, order, axis=1).astype(float).tolist()
    return ClassPredictions(
        labels=[classes[j] for j in best.tolist()],
        confidences=[row[0] for row in values],
        top_k=[[(classes[j], v) for j, v in zip(row, vals, strict=True)] for row, vals in zip(order.tolist(), values,
                                                                                             strict=True)],
        levels=level_predictions(proba, tree, best) if (tree := tree_of(model_classes)) is not None else None,
    )


def label_metrics(y_true: list[str], y_pred: list[str], classes: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1, per-class F1 (for up to ``MAX_CONFUSION_CLASSES`` classes: beyond, the per-class
    table artifact holds them) and, for category paths, each level's figures."""
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=classes, zero_division=0)),
    }
    if len(classes) <= MAX_CONFUSION_CLASSES:
        per_class = f1_score(y_true, y_pred, average=None, labels=classes, zero_division=0)
        metrics.update({f"f1.{c}": float(v) for c, v in zip(classes, per_class, strict=True)})
    if is_path_labels(classes):
        metrics.update(path_metrics(y_true, y_pred, depth_of(classes)))
    return metrics


def classification_metrics(y_true: list[str], proba: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Metrics from true labels and class probabilities (columns ordered as ``classes``)."""
    metrics = label_metrics(y_true, np.asarray(classes)[proba.argmax(axis=1)].tolist(), classes)
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


def per_class_table(y_true: list[str], y_pred: list[str], classes: list[str]) -> pd.DataFrame:
    """One row per class: precision, recall, F1 and support on the evaluation rows, worst F1 first."""
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                                     zero_division=0)
    table = pd.DataFrame({"class": classes, "precision": precision, "recall": recall, "f1": f1, "support": support})
    return table.sort_values(["f1", "support"], ascending=[True, False]).reset_index(drop=True)


def confused_pairs(y_true: list[str], y_pred: list[str], top: int = 25) -> pd.DataFrame:
    """The most frequent (true, predicted) mistakes, with their share of the true class's rows."""
    truth, pred = pd.Series(y_true, dtype=object), pd.Series(y_pred, dtype=object)
    wrong = truth != pred
    pairs = pd.DataFrame({"true": truth[wrong], "predicted": pred[wrong]}).value_counts().head(top)
    out = pairs.rename("rows").reset_index()
    out["share_of_true"] = out["rows"] / out["true"].map(truth.value_counts())
    return out


def confused_pairs_figure(pairs: pd.DataFrame, title: str):
    """The most confused pairs as horizontal bars: with thousands of classes a grid shows nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{_short(t)}  ->  {_short(p)}" for t, p in zip(pairs["true"], pairs["predicted"], strict=True)]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(names) + 1.5))
    ax.barh(range(len(names)), pairs["rows"], color="#c0504d")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("evaluation rows")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def worst_classes_figure(table: pd.DataFrame, title: str, top: int = 25, min_support: int = 5):
    """F1 of the weakest classes that have at least ``min_support`` evaluation rows (rarer ones are noise)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = table[table["support"] >= min_support].head(top)
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(shown) + 1.5))
    ax.barh(range(len(shown)), shown["f1"], color="#4f81bd")
    ax.set_yticks(range(len(shown)), [f"{_short(c)} (n={n})" for c, n in zip(shown["class"], shown["support"],
                                                                                 strict=True)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _short(label: str, width: int = 48) -> str:
    """A long path shown by its end, where the leaf is."""
    return label if len(label) <= width else "..." + label[-(width - 3):]


def mistakes_artifacts(task_name: str, y_true: list[str], y_pred: list[str],
                       classes: list[str]) -> dict[str, Any]:
    """Per-class table, weakest classes and the confusion picture: a grid for a few classes, the most confused
    pairs beyond (readable whatever the number of classes)."""
    table = per_class_table(y_true, y_pred, classes)
    pairs = confused_pairs(y_true, y_pred)
    out: dict[str, Any] = {PER_CLASS_ARTIFACT: table, "confused_pairs.csv": pairs,
                           "worst_classes.png": worst_classes_figure(table, f"{task_name}: weakest classes")}
    if len(classes) <= MAX_CONFUSION_CLASSES:
        out["confusion_matrix.png"] = confusion_figure(y_true, y_pred, classes, f"{task_name}: confusion matrix")
    else:
        out["confusion_matrix.png"] = confused_pairs_figure(pairs, f"{task_name}: most confused pairs "
                                                                   f"({len(classes):,} classes)")
    return out


class ClassificationTask(Task):
    """A task whose model is a probabilistic classifier over ``label``."""

    output = ClassificationOutput()

    def predict(self, model: Any, X: Table, top_k: int = 3) -> ClassPredictions:
        return predict_classes(model, X, top_k=top_k)

    def predict_proba(self, model: Any, X: Table) -> np.ndarray:
        """Class probabilities, columns as ``model.classes_`` (the gate and cross-validation score these)."""
        return predict_proba(model, X)

    def predict_labels(self, model: Any, X: Table) -> list[str]:
        """The top class of every row, scored a chunk of rows at a time (no rows x classes matrix kept)."""
        classes = np.asarray([str(c) for c in model.classes_], dtype=object)
        out: list[str] = []
        for start in range(0, len(X), EVALUATION_CHUNK_ROWS):
            chunk = X.iloc[start:start + EVALUATION_CHUNK_ROWS] if hasattr(X, "iloc") else \
                X[start:start + EVALUATION_CHUNK_ROWS]
            out += classes[self.predict_proba(model, chunk).argmax(axis=1)].tolist()
        return out

    def score(self, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        classes = [str(c) for c in model.classes_]
        return classification_metrics(frame[self.label].astype(str).tolist(), self.predict_proba(model, frame),
                                      classes)

    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], ClassPredictions]:
        classes = [str(c) for c in model.classes_]
        if len(classes) > FULL_PROBA_MAX_CLASSES:
            return self._evaluate_in_chunks(model, frame, classes)
        proba = self.predict_proba(model, frame)
        return (*self.evaluate_proba(model, frame, proba), predictions_from_proba(proba, model.classes_, 1))

    def _evaluate_in_chunks(self, model: Any, frame: pd.DataFrame,
                            classes: list[str]) -> tuple[dict[str, float], dict[str, Any], ClassPredictions]:
        """Many classes: rows scored a chunk at a time, keeping each row's prediction and confidence, never a
        rows x classes matrix (gigabytes at catalogue scale). No per-class curves or AUC."""
        labels: list[str] = []
        confidences: list[float] = []
        top_k: list[list[tuple[str, float]]] = []
        levels: list[list[tuple[str, float]]] | None = [] if is_path_labels(classes) else None
        for start in range(0, len(frame), EVALUATION_CHUNK_ROWS):
            part = predictions_from_proba(self.predict_proba(model, frame.iloc[start:start + EVALUATION_CHUNK_ROWS]),
                                          classes, 1)
            labels += part.labels
            confidences += part.confidences
            top_k += part.top_k
            if levels is not None and part.levels is not None:
                levels += part.levels
        metrics, artifacts = self.evaluate_labels(frame[self.label].astype(str).tolist(), labels, confidences,
                                                  classes)
        return metrics, artifacts, ClassPredictions(labels=labels, confidences=confidences, top_k=top_k, levels=levels)

    def evaluate_labels(self, y_true: list[str], labels: list[str], confidences: list[float],
                        classes: list[str]) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and artifacts from each row's predicted label and confidence alone (rows scored in chunks
        or on a cluster's workers): no per-class curves or AUC, which need every class's probability."""
        metrics = label_metrics(y_true, labels, classes)
        calibration = reliability_of(np.asarray(confidences), np.asarray(labels) == np.asarray(y_true))
        metrics["ece"] = calibration["ece"]
        artifacts = mistakes_artifacts(self.name, y_true, labels, classes) | {
            RELIABILITY_ARTIFACT: calibration, "reliability.png": reliability_figure(calibration, self.name)}
        return metrics, artifacts

    def evaluate_proba(self, model: Any, frame: pd.DataFrame,
                       proba: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and artifacts from probabilities already computed (subclasses predict once)."""
        classes = [str(c) for c in model.classes_]
        y_true = frame[self.label].astype(str).tolist()
        metrics = classification_metrics(y_true, proba, classes)
        y_pred = np.asarray(classes)[proba.argmax(axis=1)].tolist()
        roc_pr = curves(y_true, proba, classes)
        calibration = reliability(y_true, proba, classes)
        metrics["ece"] = calibration["ece"]
        artifacts = mistakes_artifacts(self.name, y_true, y_pred, classes) | {
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
