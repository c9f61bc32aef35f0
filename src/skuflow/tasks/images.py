"""Image classification tasks: one photo in, a class out. ``returns`` and ``engagement`` are two
configurations of :class:`ImageTask`; the model is an :class:`~skuflow.images.classifier.ImageClassifier`
that decodes, resizes and normalises by itself."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from skuflow.data.schema import ValidationReport, require_columns
from skuflow.errors import ConfigError, SkuflowError
from skuflow.features.tabular import Table, column
from skuflow.images.decode import ImageRecord
from skuflow.tasks.classification import ClassificationTask, predictions_from_proba
from skuflow.tasks.outputs import ClassPredictions

STAT_COLUMNS = ("width", "height", "aspect", "brightness", "contrast")


def _example_image(size: int, channels: int, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    base = (np.sin(xx / (3 + seed)) * 60 + yy * (200 / size) + rng.normal(0, 10, (size, size))).clip(0, 255)
    pixels = np.repeat(base[:, :, None], channels, axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels).save(buf, format="PNG")
    return buf.getvalue()


SMALL_IMAGE_SIDE = 64  # at most this many pixels a side, and grey: the CNN from scratch fits
# configs/clothing-photos.yaml: 0.9355 test accuracy in 8.9 min on the clothing photos (5 views, 15 epochs:
# 0.9220 in 6.0 min); the validation folder, when there is one, joins the training rows
PHOTO_RECIPE = {"finetune_blocks": 3, "views": 10, "epochs": 20, "mixup": 0.4, "train_on_validation": True}


class ImageTask(ClassificationTask):
    label: ClassVar[str] = "label"
    required_fields: ClassVar[tuple[str, ...]] = ("image",)
    primary_metric: ClassVar[str] = "accuracy"
    record_model: ClassVar[type[BaseModel]] = ImageRecord
    input_kind: ClassVar[str] = "image"
    pip_requirements: ClassVar[tuple[str, ...]] = ("torch", "pillow", "efficientnet-lite-pytorch")
    monitor_numeric: ClassVar[tuple[str, ...]] = STAT_COLUMNS
    default_kind: ClassVar[str] = "cnn"
    example_size: ClassVar[int] = 28
    example_channels: ClassVar[int] = 1

    def read(self, source: str) -> pd.DataFrame:
        from skuflow.images.sources import read_images

        return read_images(source)

    def validate(self, frame: pd.DataFrame, where: str = "data", config: Any = None,
                 features: dict[str, Any] | None = None) -> tuple[pd.DataFrame, ValidationReport]:
        """Keep rows whose image decodes and whose label is present; count the others by reason."""
        from skuflow.images.decode import open_image

        require_columns(frame, (*self.required_fields, self.label), where)
        frame = frame.reset_index(drop=True)
        reasons: dict[int, str] = {}
        for i, (img, label) in enumerate(zip(frame["image"], frame[self.label], strict=True)):
            if label is None or (isinstance(label, float) and np.isnan(label)) or str(label).strip() == "":
                reasons[i] = f"{self.label}: missing value"
                continue
            try:
                im = open_image(img)
                im.verify()  # checks the whole file's structure without keeping pixels
            except SkuflowError as exc:
                reasons[i] = exc.message.split(" (")[0]
            except Exception as exc:  # PIL raises many types for broken files
                reasons[i] = f"image: corrupt ({exc.__class__.__name__})"
        valid = frame.drop(index=sorted(reasons)).reset_index(drop=True)
        valid[self.label] = valid[self.label].astype(str)
        report = ValidationReport(rows_in=len(frame), rows_valid=len(valid),
                                  reasons=dict(Counter(reasons.values()).most_common()),
                                  rejected_examples=[{"row": i, "reason": r, "path": _path(frame, i)}
                                                     for i, r in sorted(reasons.items())[:20]])
        return valid, report

    def default_model(self, frame: pd.DataFrame) -> tuple[str, dict[str, Any], str]:
        """Small grey images (Fashion-MNIST style) -> the CNN from scratch; photos -> EfficientNet-Lite0 transfer
        with the recipe measured on the clothing photos: a CNN on photos scored 0.76 where transfer scored
        0.9355. Decided on a sample of the images' headers (no pixels decoded)."""
        from skuflow.images.decode import open_image

        sample = frame["image"].sample(min(len(frame), 64), random_state=0) if len(frame) else frame["image"]
        shapes = [(max(im.size), im.mode) for im in (open_image(b) for b in sample)]
        side = int(np.median([s for s, _ in shapes])) if shapes else 0
        grey = sum(mode in ("1", "L", "LA", "I", "I;16") for _, mode in shapes)
        if shapes and side <= SMALL_IMAGE_SIDE and grey >= len(shapes) / 2:
            return "cnn", {}, f"{grey} of {len(shapes)} sampled images are grey, median side {side}px: a small CNN"
        return "efficientnet_lite0", dict(PHOTO_RECIPE), (
            f"photos (median side {side}px, {len(shapes) - grey} of {len(shapes)} sampled in colour): "
            "EfficientNet-Lite0 transfer, the recipe measured on clothing photos (configs/clothing-photos.yaml)")

    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise ConfigError(f"Task '{self.name}' needs torch: pip install 'skuflow[image]'") from exc
        from skuflow.images.classifier import ImageClassifier

        kind = model_config.get("kind") or self.default_kind
        return ImageClassifier(arch=kind, **{**feature_config, **(model_config.get("params") or {})})

    def search_space(self, model_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        space: dict[str, dict[str, Any]] = {"model.params.lr": {"low": 3e-4, "high": 1e-2, "log": True},
                                            "model.params.epochs": {"low": 4, "high": 20}}
        if (model_config.get("kind") or self.default_kind) != "cnn":  # transfer: blocks to tune, cached views
            space |= {"model.params.finetune_blocks": {"low": 1, "high": 5},
                      "model.params.views": {"low": 2, "high": 10}}
        return space

    def trial_settings(self, model_config: dict[str, Any]) -> dict[str, Any]:
        return {"model.params.threads": 1}

    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        return [{"image": _example_image(self.example_size, self.example_channels, i)} for i in range(n)]

    def monitored_features(self, X: Table) -> pd.DataFrame:
        from skuflow.images.decode import image_stats

        if isinstance(X, pd.DataFrame) and "image" not in X.columns:
            return X[list(STAT_COLUMNS)].astype(float)  # rows from the prediction log: statistics only
        rows = []
        for row, img in zip(_rows(X), column(X, "image"), strict=True):
            rows.append(image_stats(img) if img is not None else {k: row.get(k) for k in STAT_COLUMNS})
        return pd.DataFrame(rows, columns=list(STAT_COLUMNS)).astype(float)

    def _decode_each(self, model: Any, images: list[Any]) -> tuple[np.ndarray, list[SkuflowError | None]]:
        """Pixels for the model, and for each image the error that kept it from decoding (None if none)."""
        from skuflow.images.decode import decode_image

        pixels = np.zeros((len(images), model.size_, model.size_, model.n_channels_), dtype=np.uint8)
        errors: list[SkuflowError | None] = [None] * len(images)
        for i, img in enumerate(images):
            try:
                pixels[i] = decode_image(img, model.size_, model.n_channels_)
            except SkuflowError as exc:
                errors[i] = exc
        return pixels, errors

    def decode(self, model: Any, X: Table) -> np.ndarray:
        """Pixels for the model; a bad image fails naming its position (``images[3]: ...``)."""
        images = column(X, "image")
        pixels, errors = self._decode_each(model, images)
        for i, exc in enumerate(errors):
            if exc is not None:
                if len(images) > 1:
                    exc.message = f"images[{i}]: {exc.message}"
                    exc.args = (exc.message,)
                    exc.details["index"] = i
                raise exc
        return pixels

    def predict(self, model: Any, X: Table, top_k: int = 3) -> ClassPredictions:
        return predictions_from_proba(model.proba_from_pixels(self.decode(model, X)), model.classes_, top_k)

    def predict_rows(self, model: Any, frame: pd.DataFrame, top_k: int = 1) -> tuple[ClassPredictions | None,
                                                                                      pd.Series]:
        """Each photo decoded on its own (a corrupt one gets its reason), the rest scored together."""
        pixels, errors = self._decode_each(model, list(frame["image"]))
        reason = pd.Series([None if e is None else e.message for e in errors], index=frame.index, dtype=object)
        ok = reason.isna().to_numpy()
        if not ok.any():
            return None, reason
        return predictions_from_proba(model.proba_from_pixels(pixels[ok]), model.classes_, top_k), reason

    def explain(self, model: Any, record: dict[str, Any], top: int = 10) -> dict[str, Any]:
        """An occlusion heat map of the photo (``skuflow.evaluation.occlusion``); ``top`` does not apply."""
        from skuflow.evaluation.occlusion import explain_image

        return explain_image(model.proba_from_pixels, self.decode(model, [record])[0],
                             [str(c) for c in model.classes_])

    def importance(self, model: Any) -> dict[str, Any] | None:
        return None  # an image model's importance is a picture: see ``evaluate``'s saliency grid

    def novelty_features(self, model: Any, X: Table) -> Any:
        return None

    def input_columns(self, model: Any = None) -> list[str]:
        """The photo's bytes: what the gate's seen-row digests, duplicates and batch reads compare (the JSON
        record's ``image_base64`` is only how a photo travels over HTTP)."""
        return ["image"]

    def log_record(self, record: dict[str, Any]) -> dict[str, Any]:
        from skuflow.images.decode import image_stats

        img = record["image"]
        return {"sha256": hashlib.sha256(img).hexdigest()[:16], **image_stats(img)}

    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], ClassPredictions]:
        proba = model.predict_proba(frame)
        metrics, artifacts = self.evaluate_proba(model, frame, proba)
        history = getattr(model, "history_", [])
        if history:
            artifacts["learning_curves.png"] = learning_curves_figure(history, self.name)
        artifacts["misclassified.png"] = misclassified_figure(frame, proba, model, self.label)
        from skuflow.evaluation.occlusion import class_saliency_figure, per_class_sample

        rows = frame.iloc[per_class_sample(frame[self.label].astype(str).tolist())]
        artifacts["saliency.png"] = class_saliency_figure(model.proba_from_pixels, self.decode(model, rows),
                                                          rows[self.label].astype(str).tolist(),
                                                          [str(c) for c in model.classes_])
        return metrics, artifacts, predictions_from_proba(proba, model.classes_, 1)


def _rows(X: Table) -> list[dict[str, Any]]:
    if isinstance(X, pd.DataFrame):
        return [{} for _ in range(len(X))]
    return [dict(r) for r in X]


def _path(frame: pd.DataFrame, i: int) -> str | None:
    return str(frame["path"].iloc[i]) if "path" in frame.columns else None


def learning_curves_figure(history: list[dict[str, float]], title: str):
    """Per-epoch loss and accuracy (training and, where the data had one, validation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], marker="o")
    ax1.set_title("training loss")
    ax1.set_xlabel("epoch")
    ax2.plot(epochs, [h["train_accuracy"] for h in history], marker="o", label="train")
    if any("val_accuracy" in h for h in history):
        ax2.plot(epochs, [h.get("val_accuracy", np.nan) for h in history], marker="o", label="validation")
    ax2.set_title("accuracy")
    ax2.set_xlabel("epoch")
    ax2.legend()
    fig.suptitle(f"{title}: learning curves")
    fig.tight_layout()
    return fig


def misclassified_figure(frame: pd.DataFrame, proba: np.ndarray, model: Any, label: str, n: int = 24):
    """A grid of the most confidently wrong test images, with true and predicted class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skuflow.images.decode import decode_image

    classes = np.asarray(model.classes_)
    pred = classes[proba.argmax(1)]
    wrong = np.flatnonzero(pred != frame[label].to_numpy())
    wrong = wrong[np.argsort(-proba.max(1)[wrong])][:n]
    cols = 6
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.8, rows * 2.1), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong, strict=False):
        pixels = decode_image(frame["image"].iloc[i], 96, 3)
        ax.imshow(pixels)
        ax.set_title(f"{frame[label].iloc[i]}\n-> {pred[i]} {proba[i].max():.2f}", fontsize=7)
    fig.suptitle(f"most confident mistakes ({len(np.flatnonzero(pred != frame[label].to_numpy()))} in all)")
    fig.tight_layout()
    return fig


class ReturnsTask(ImageTask):
    name: ClassVar[str] = "returns"
    description: ClassVar[str] = "A returned item's photo -> its clothing class (warehouse sorting)."


class EngagementTask(ImageTask):
    name: ClassVar[str] = "engagement"
    description: ClassVar[str] = ("A product photo -> high or low engagement; labels are the folder names "
                                  "(DIR/{train,test}/{high_engagement,low_engagement}/*.jpg).")
    default_kind: ClassVar[str] = "efficientnet_lite0"
    example_size: ClassVar[int] = 64
    example_channels: ClassVar[int] = 3
