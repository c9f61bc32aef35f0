"""Where training and batch images come from: a class-per-folder tree on any fsspec URL (local, s3://),
or the Fashion-MNIST idx files. Each gives one frame: ``image`` (encoded bytes), ``label``, ``split``
(train/validation/test when the source has them) and ``path``."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd

from skuflow.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
SPLITS = {"train": "train", "training": "train", "validation": "validation", "val": "validation",
          "valid": "validation", "test": "test", "testing": "test"}
FASHION_MNIST = "fashion-mnist"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = ("tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                         "bag", "ankle_boot")
_IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def is_image_path(path: str) -> bool:
    return path.lower().endswith(IMAGE_SUFFIXES)


def list_images(url: str) -> list[str]:
    """Every image file under ``url`` (sorted full URLs/paths); an empty or missing tree is an error."""
    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(root):
        raise DataError(f"Image folder not found: {url}", url=url)
    found = sorted(p for p in fs.find(root) if is_image_path(p))
    if not found:
        raise DataError(f"No images ({', '.join(IMAGE_SUFFIXES)}) under {url}", url=url)
    protocol = fs.protocol[0] if isinstance(fs.protocol, tuple | list) else fs.protocol
    return [p if protocol in ("file", "local") else f"{protocol}://{p}" for p in found]


def _relative(path: str, url: str) -> list[str]:
    root = fsspec.core.url_to_fs(url)[1].rstrip("/")
    plain = fsspec.core.url_to_fs(path)[1]
    return plain[len(root):].strip("/").split("/")


def read_bytes(paths: list[str]) -> list[bytes]:
    """File contents in the given order; remote stores fetch them concurrently."""
    if not paths:
        return []
    fs = fsspec.core.url_to_fs(paths[0])[0]
    plain = [fsspec.core.url_to_fs(p)[1] for p in paths]
    got = fs.cat(plain, on_error="raise")
    return [got[p] for p in plain]


def read_image_folder(url: str) -> pd.DataFrame:
    """``URL/[split/]label/*.jpg`` as a frame; the folder names are the labels."""
    paths = list_images(url)
    labels, splits = [], []
    for p in paths:
        parts = _relative(p, url)
        if len(parts) < 2:
            raise DataError(f"{p}: images must sit in a folder named after their class "
                            "(DIR/[train|validation|test/]CLASS/IMAGE)", url=url)
        labels.append(parts[-2])
        splits.append(SPLITS.get(parts[-3].lower()) if len(parts) >= 3 else None)
    return pd.DataFrame({"image": read_bytes(paths), "label": labels, "split": splits, "path": paths})


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte data
        raise DataError(f"{path}: not an idx file of unsigned bytes (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    raise DataError(f"Fashion-MNIST file {stem}(.gz) not found in {folder} "
                    "(install Debian's dataset-fashion-mnist or name a folder holding the four idx files)")


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def read_fashion_mnist(folder: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The 70,000 Fashion-MNIST images as PNG bytes with their class names and official split.

    ``limit`` keeps the first N images of each split (tests)."""
    base = Path(folder or os.environ.get("SKUFLOW_FASHION_MNIST_DIR", FASHION_MNIST_DIR))
    frames = []
    for split, (images_stem, labels_stem) in _IDX_FILES.items():
        pixels = _read_idx(_idx_file(base, images_stem))
        labels = _read_idx(_idx_file(base, labels_stem))
        if len(pixels) != len(labels):
            raise DataError(f"{base}: {len(pixels)} images but {len(labels)} labels in the {split} split")
        n = len(pixels) if limit is None else min(limit, len(pixels))
        frames.append(pd.DataFrame({
            "image": [png_bytes(p) for p in pixels[:n]],
            "label": [FASHION_MNIST_CLASSES[int(y)] for y in labels[:n]],
            "split": split,
            "path": [f"{FASHION_MNIST}/{split}/{i}" for i in range(n)],
        }))
    return pd.concat(frames, ignore_index=True)


def read_images(source: str) -> pd.DataFrame:
    """``fashion-mnist[:FOLDER][:LIMIT]`` or a class-per-folder tree at a path/URL."""
    if source == FASHION_MNIST or source.startswith(FASHION_MNIST + ":"):
        rest = source[len(FASHION_MNIST) + 1:]
        folder, limit = None, None
        for part in [p for p in rest.split(":") if p]:
            if part.isdigit():
                limit = int(part)
            else:
                folder = part
        return read_fashion_mnist(folder, limit)
    return read_image_folder(source)
