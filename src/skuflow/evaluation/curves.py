"""Evaluation a person can read: ROC and precision-recall curves per class (one-vs-rest) with micro and
macro averages, and a reliability diagram with the expected calibration error. Each comes as JSON data (for
the dashboard and for anyone who wants to redraw it) and as a matplotlib figure (an MLflow artifact)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

MAX_POINTS = 200  # per curve in the JSON: enough to draw it, small enough to ship with every version
RELIABILITY_BINS = 15


def _thin(xs: np.ndarray, ys: np.ndarray) -> tuple[list[float], list[float]]:
    if len(xs) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(xs) - 1, MAX_POINTS).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return [round(float(x), 5) for x in xs], [round(float(y), 5) for y in ys]


def curves(y_true: list[str], proba: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """ROC and PR curves of every class that occurs in ``y_true`` (one-vs-rest), plus the micro average
    (all class-row pairs pooled) and the macro average (the per-class curves' mean on a common grid)."""
    truth = np.asarray(y_true)
    onehot = np.column_stack([truth == c for c in classes]).astype(int)
    present = [i for i, c in enumerate(classes) if 0 < onehot[:, i].sum() < len(truth)]
    out: dict[str, Any] = {"roc": {}, "pr": {}}
    grid = np.linspace(0.0, 1.0, 101)
    tprs, precs = [], []
    for i in present:
        fpr, tpr, _ = roc_curve(onehot[:, i], proba[:, i])
        prec, rec, _ = precision_recall_curve(onehot[:, i], proba[:, i])
        fx, fy = _thin(fpr, tpr)
        rx, ry = _thin(rec[::-1], prec[::-1])
        out["roc"][classes[i]] = {"fpr": fx, "tpr": fy, "auc": float(auc(fpr, tpr))}
        out["pr"][classes[i]] = {"recall": rx, "precision": ry,
                                 "average_precision": float(average_precision_score(onehot[:, i], proba[:, i]))}
        tprs.append(np.interp(grid, fpr, tpr))
        # precision at each recall level, taken as the best precision at that recall or beyond (interpolated)
        order = np.argsort(rec)
        best = np.maximum.accumulate(prec[order][::-1])[::-1]
        precs.append(np.interp(grid, rec[order], best))
    if present:
        cols = onehot[:, present].ravel()
        scores = proba[:, present].ravel()
        fpr, tpr, _ = roc_curve(cols, scores)
        prec, rec, _ = precision_recall_curve(cols, scores)
        fx, fy = _thin(fpr, tpr)
        rx, ry = _thin(rec[::-1], prec[::-1])
        out["roc"]["micro"] = {"fpr": fx, "tpr": fy, "auc": float(auc(fpr, tpr))}
        out["pr"]["micro"] = {"recall": rx, "precision": ry,
                              "average_precision": float(average_precision_score(cols, scores))}
        macro_tpr = np.mean(tprs, axis=0)
        out["roc"]["macro"] = {"fpr": grid.round(3).tolist(), "tpr": macro_tpr.round(5).tolist(),
                               "auc": float(np.mean([out["roc"][classes[i]]["auc"] for i in present]))}
        out["pr"]["macro"] = {"recall": grid.round(3).tolist(), "precision": np.mean(precs, axis=0).round(5).tolist(),
                              "average_precision": float(np.mean([out["pr"][classes[i]]["average_precision"]
                                                                  for i in present]))}
    return out


def reliability(y_true: list[str], proba: np.ndarray, classes: list[str],
                bins: int = RELIABILITY_BINS) -> dict[str, Any]:
    """Top-label reliability: rows binned by confidence, each bin's mean confidence against its accuracy.
    ECE is the row-weighted mean gap between the two (equal-width bins)."""
    conf = proba.max(axis=1)
    right = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    return reliability_of(conf, right, bins)


def reliability_of(conf: np.ndarray, right: np.ndarray, bins: int = RELIABILITY_BINS) -> dict[str, Any]:
    """The reliability table from each row's top confidence and whether its top label was right."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        if not n:
            continue
        mean_conf, acc = float(conf[sel].mean()), float(right[sel].mean())
        ece += n / len(conf) * abs(mean_conf - acc)
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "rows": n, "confidence": mean_conf,
                     "accuracy": acc})
    return {"bins": rows, "ece": float(ece), "rows": int(len(conf))}


def curves_figure(data: dict[str, Any], title: str, max_classes: int = 12):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.8))
    names = [n for n in data["roc"] if n not in ("micro", "macro")]
    shown = sorted(names, key=lambda n: data["roc"][n]["auc"])[:max_classes]  # the weakest classes first
    for name in [*shown, "micro", "macro"]:
        if name not in data["roc"]:
            continue
        style = {"lw": 2.2, "ls": "--"} if name in ("micro", "macro") else {"lw": 1.0}
        roc, pr = data["roc"][name], data["pr"][name]
        ax_roc.plot(roc["fpr"], roc["tpr"], label=f"{name} ({roc['auc']:.3f})", **style)
        ax_pr.plot(pr["recall"], pr["precision"], label=f"{name} ({pr['average_precision']:.3f})", **style)
    ax_roc.plot([0, 1], [0, 1], color="grey", lw=0.6)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (AUC)")
    ax_pr.set(xlabel="recall", ylabel="precision", title="precision-recall (AP)", ylim=(0, 1.02))
    for ax in (ax_roc, ax_pr):
        ax.legend(fontsize=7, loc="lower right" if ax is ax_roc else "lower left")
    fig.suptitle(title if len(shown) == len(names) else f"{title} ({len(shown)} weakest of {len(names)} classes)")
    fig.tight_layout()
    return fig


def reliability_figure(data: dict[str, Any], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_n) = plt.subplots(2, 1, figsize=(5.5, 6), height_ratios=[3, 1], sharex=True)
    bins = data["bins"]
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="perfectly calibrated")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label="model")
    ax.set(ylabel="accuracy", title=f"{title}: reliability (ECE {data['ece']:.4f})")
    ax.legend(fontsize=8)
    ax_n.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["rows"] for b in bins],
             width=[b["high"] - b["low"] for b in bins], color="#7f8c8d")
    ax_n.set(xlabel="confidence", ylabel="rows", yscale="log")
    fig.tight_layout()
    return fig
