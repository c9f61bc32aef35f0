"""Turn untrusted image bytes into fixed-size pixel arrays, or fail with a reason a client can act on.

Every path that reads an image (training, online, batch) decodes through :func:`decode_image`, so a
photo is resized and converted the same way everywhere.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from skuflow.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# a 40-megapixel photo is already beyond any catalogue camera; larger headers are decompression bombs
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


class ImageRecord(BaseModel):
    """One image as JSON (multipart uploads carry the bytes as a file instead): the record of every task
    whose ``input_kind`` is ``image``."""

    model_config = ConfigDict(extra="forbid")

    image_base64: str = Field(min_length=4, description="The image file (JPEG, PNG, WebP...) in base64")


def image_bytes_from_base64(text: str, field: str = "image_base64") -> bytes:
    """Decode base64 (a ``data:image/...;base64,`` prefix is allowed) or fail naming the field."""
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"{field}: not valid base64 ({exc})", field=field) from exc


def open_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_PIXELS) -> Any:
    """A PIL image whose header has been checked (format, size) but whose pixels are not decoded yet."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInputError(f"image: expected bytes, got {type(data).__name__}", field="image")
    if len(data) == 0:
        raise InvalidInputError("image: empty file", field="image")
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"image: {len(data):,} bytes exceed the cap of {max_bytes:,}",
                                   bytes=len(data), cap=max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(bytes(data)), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaError(f"image: not a supported image ({', '.join(FORMATS)})") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLargeError(f"image: more than {max_pixels:,} pixels (decompression-bomb guard)") from exc
    w, h = im.size
    if w * h > max_pixels:
        raise PayloadTooLargeError(f"image: {w}x{h} = {w * h:,} pixels exceed the cap of {max_pixels:,} "
                                   "(decompression-bomb guard)", width=w, height=h)
    if w < 1 or h < 1:
        raise InvalidInputError("image: zero-sized image", field="image")
    return im


def decode_image(data: bytes | np.ndarray, size: int, channels: int) -> np.ndarray:
    """Decode to ``uint8`` of shape (size, size, channels). Arrays (already pixels) are resized only."""
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    if isinstance(data, np.ndarray):
        arr = data.astype(np.uint8, copy=False)
        im = Image.fromarray(arr.squeeze(-1) if arr.ndim == 3 and arr.shape[-1] == 1 else arr)
    else:
        im = open_image(data)
        if im.format == "JPEG":
            im.draft(mode, (size, size))  # let libjpeg decode at a reduced scale: 4-8x faster on photos
        try:
            im.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise InvalidInputError(f"image: corrupt or truncated {im.format} data ({exc})", field="image") from exc
    if im.mode != mode:
        im = im.convert(mode)
    if im.size != (size, size):
        im = im.resize((size, size), Image.Resampling.BILINEAR)
    out = np.asarray(im, dtype=np.uint8)
    return out[:, :, None] if out.ndim == 2 else out


def decode_many(images: list[Any], size: int, channels: int) -> np.ndarray:
    """Decode a list of images into one ``uint8`` array (N, size, size, channels)."""
    out = np.empty((len(images), size, size, channels), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = decode_image(img, size, channels)
    return out


def image_stats(data: bytes | np.ndarray) -> dict[str, float]:
    """What drift monitoring watches for an image: size, shape and light (cheap, no model)."""
    from PIL import Image, ImageStat

    if isinstance(data, np.ndarray):
        im = Image.fromarray(data.astype(np.uint8).squeeze())
    else:
        im = open_image(data)
    w, h = im.size  # before draft(), which shrinks a JPEG as it decodes
    if im.format == "JPEG":
        im.draft("L", (64, 64))
    grey = im.convert("L")
    grey.thumbnail((64, 64))
    stat = ImageStat.Stat(grey)
    return {"width": float(w), "height": float(h), "aspect": float(w) / float(h),
            "brightness": float(stat.mean[0]), "contrast": float(stat.stddev[0])}
