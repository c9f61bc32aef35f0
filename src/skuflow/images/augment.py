"""Training-side augmentation on uint8 pixel batches (N, H, W, C): crop, flip, brightness, erasing.
Serving never calls these."""

from __future__ import annotations

import numpy as np


def random_crop(batch: np.ndarray, size: int, rng: np.random.Generator, pad: int = 0) -> np.ndarray:
    """A random ``size`` x ``size`` window of each image, after ``pad`` pixels of zero padding."""
    if pad:
        batch = np.pad(batch, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, _ = batch.shape
    ys = rng.integers(0, h - size + 1, n)
    xs = rng.integers(0, w - size + 1, n)
    return np.stack([batch[i, y:y + size, x:x + size] for i, (y, x) in enumerate(zip(ys, xs, strict=True))])


def random_flip(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    flip = rng.random(len(batch)) < 0.5
    out = batch.copy()
    out[flip] = out[flip, :, ::-1]
    return out


def random_brightness(batch: np.ndarray, rng: np.random.Generator, amount: float = 0.2) -> np.ndarray:
    scale = rng.uniform(1 - amount, 1 + amount, (len(batch), 1, 1, 1))
    return np.clip(batch.astype(np.float32) * scale, 0, 255).astype(np.uint8)


def random_erase(batch: np.ndarray, rng: np.random.Generator, p: float = 0.5,
                 area: tuple[float, float] = (0.02, 0.2)) -> np.ndarray:
    """Random erasing (Zhong et al. 2017): blank a random rectangle in a share ``p`` of the images."""
    out = batch.copy()
    n, h, w, c = out.shape
    for i in np.flatnonzero(rng.random(n) < p):
        a = rng.uniform(*area) * h * w
        ratio = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
        eh, ew = int(round(np.sqrt(a * ratio))), int(round(np.sqrt(a / ratio)))
        if 0 < eh < h and 0 < ew < w:
            y, x = rng.integers(0, h - eh), rng.integers(0, w - ew)
            out[i, y:y + eh, x:x + ew] = rng.integers(0, 256, (eh, ew, c), dtype=np.uint8)
    return out
