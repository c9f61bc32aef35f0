"""Where in a photo the model looked: occlusion maps.

Each cell of a grid over the image is covered with the image's mean colour in turn, and the drop in the
predicted class's log-odds is that cell's importance (positive: covering it hurts the prediction). It
needs nothing but the model's probabilities, so it explains any image model the same way, at the cost of
grid x grid extra images per photo, scored in one batch. Text is occluded the same way, a phrase at a time.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np

GRID = 7  # cells per side: 49 occluded copies per photo
PHRASE_WORDS = 3  # words a text phrase spans: single words miss "not worth it", sentences are too coarse


def occlusion_map(proba: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, k: int | None = None,
                  grid: int = GRID) -> tuple[int, float, np.ndarray]:
    """For one image (H x W x C uint8): the explained class, its probability, and the grid x grid map of the
    drops in its log-odds when each cell is covered."""
    h, w = pixels.shape[:2]
    base = proba(pixels[None])[0]
    k = int(base.argmax()) if k is None else k
    fill = pixels.reshape(-1, pixels.shape[2]).mean(axis=0).astype(pixels.dtype)
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    copies = np.repeat(pixels[None], grid * grid, axis=0)
    for i in range(grid):
        for j in range(grid):
            copies[i * grid + j, ys[i]:ys[i + 1], xs[j]:xs[j + 1]] = fill
    drops = _log_odds(base[k]) - _log_odds(proba(copies)[:, k])
    return k, float(base[k]), drops.reshape(grid, grid)


def _log_odds(p: np.ndarray) -> np.ndarray:
    # a confident model moves from 0.999 to 0.99 where it matters: probabilities hide that, log-odds do not
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def heatmap_png(pixels: np.ndarray, drops: np.ndarray, title: str = "") -> bytes:
    """The photo in grey with the map laid over it (red: covering it lowers the prediction)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.2, 3.4))
    _overlay(ax, pixels, drops)
    ax.set_title(title, fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _overlay(ax: Any, pixels: np.ndarray, drops: np.ndarray) -> None:
    h, w = pixels.shape[:2]
    grey = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    ax.imshow(grey, cmap="gray", extent=(0, w, h, 0))
    limit = float(np.abs(drops).max()) or 1.0
    ax.imshow(drops, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.5, extent=(0, w, h, 0),
              interpolation="bilinear")
    ax.axis("off")


def explain_image(proba: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, classes: list[str]) -> dict[str, Any]:
    k, p, drops = occlusion_map(proba, pixels)
    return {"prediction": classes[k], "confidence": p, "method": "occlusion", "grid": drops.round(5).tolist(),
            "heatmap_png_base64": base64.b64encode(heatmap_png(pixels, drops, f"{classes[k]} ({p:.0%})")).decode()}


def per_class_sample(labels: list[str], per_class: int = 4, seed: int = 0) -> list[int]:
    """Up to ``per_class`` row positions of each label (the rows a saliency grid explains)."""
    rng = np.random.default_rng(seed)
    lab = np.asarray(labels)
    picked: list[int] = []
    for cls in sorted(set(labels)):
        idx = np.flatnonzero(lab == cls)
        picked += sorted(rng.choice(idx, min(per_class, len(idx)), replace=False).tolist())
    return picked


def class_saliency_figure(proba: Callable[[np.ndarray], np.ndarray], pixels: np.ndarray, labels: list[str],
                          classes: list[str]):
    """A grid of class-average occlusion maps (each image explained for its true class), laid over the
    class's average image: ``pixels`` and ``labels`` are a few images per class (``per_class_sample``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in classes if c in set(labels)]
    cols = min(5, max(1, len(shown)))
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.6 * rows), squeeze=False)
    lab = np.asarray(labels)
    for ax, cls in zip(axes.ravel(), shown, strict=False):
        idx = np.flatnonzero(lab == cls)
        maps = [occlusion_map(proba, pixels[i], classes.index(cls))[2] for i in idx]
        _overlay(ax, pixels[idx].mean(axis=0), np.mean(maps, axis=0))
        ax.set_title(cls, fontsize=8)
    for ax in axes.ravel()[len(shown):]:
        ax.axis("off")
    fig.suptitle("where the model looks (occlusion, class averages)")
    fig.tight_layout()
    return fig


def phrases(text: str, size: int = PHRASE_WORDS) -> list[tuple[int, int]]:
    """Word spans of ``size`` words (the last may be shorter), as (start, stop) word indices."""
    n = len(text.split())
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def explain_text(score: Callable[[list[dict[str, Any]]], np.ndarray], record: dict[str, Any],
                 fields: tuple[str, ...], top: int = 10) -> list[dict[str, Any]]:
    """Phrase occlusion: each phrase of each text field removed in turn, all variants scored in one call;
    a phrase's contribution is how much the score (a log-odds) falls without it. Sorted by size, largest
    first, at most ``top``."""
    variants, names = [], []
    for field in fields:
        text = record.get(field) or ""
        words = str(text).split()
        for start, stop in phrases(str(text)):
            variants.append({**record, field: " ".join(words[:start] + words[stop:]) or None})
            names.append((field, " ".join(words[start:stop])))
    if not variants:
        return []
    scores = score([record, *variants])
    drops = scores[0] - scores[1:]
    order = np.argsort(-np.abs(drops), kind="stable")[:top]
    return [{"feature": f"{names[i][0]}: \"{names[i][1]}\"", "family": names[i][0],
             "contribution": float(drops[i])} for i in order.tolist()]
