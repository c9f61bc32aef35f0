"""Untrusted image bytes: every way they can be wrong gets its own status and a reason."""

import base64
import gzip
import io
import struct

import numpy as np
import pytest
from PIL import Image

from skuflow.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from skuflow.images.decode import decode_image, image_bytes_from_base64, image_stats
from skuflow.images.sources import FASHION_MNIST_DIR, read_fashion_mnist


def png(w: int = 40, h: int = 30, mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (w, h), color=(200, 30, 30) if mode == "RGB" else 120).save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(w: int = 60_000, h: int = 60_000) -> bytes:
    """A tiny file whose header claims 3.6 gigapixels (a decompression bomb)."""
    real = png(1, 1, "L")
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    import zlib

    chunk = b"IHDR" + ihdr
    return real[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


def test_decode_resizes_and_converts():
    out = decode_image(png(40, 30), 28, 1)
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8
    rgb = decode_image(png(10, 10, "L"), 16, 3)
    assert rgb.shape == (16, 16, 3) and (rgb[..., 0] == rgb[..., 1]).all()


@pytest.mark.parametrize("data, error, words", [
    (b"%PDF-1.4 not an image at all", UnsupportedMediaError, "not a supported image"),
    (png()[:60], InvalidInputError, "corrupt or truncated"),
    (bomb_png(), PayloadTooLargeError, "pixels"),
    (b"", InvalidInputError, "empty"),
])
def test_bad_images_fail_with_a_reason(data, error, words):
    with pytest.raises(error) as info:
        decode_image(data, 28, 1)
    assert words in info.value.message


def test_base64_errors_name_the_field():
    good = png()
    assert image_bytes_from_base64(base64.b64encode(good).decode()) == good
    assert image_bytes_from_base64("data:image/png;base64," + base64.b64encode(good).decode()) == good
    with pytest.raises(InvalidInputError, match="image_base64"):
        image_bytes_from_base64("not base64!!")


def test_image_stats_describe_size_and_light():
    stats = image_stats(png(40, 20))
    assert stats["width"] == 40 and stats["height"] == 20 and stats["aspect"] == 2.0
    assert 0 < stats["brightness"] < 255


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_idx_loader_reads_a_user_folder(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 5)):
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(_idx(rng.integers(0, 255, (n, 28, 28))))
        (tmp_path / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(_idx(np.arange(n) % 10))
    frame = read_fashion_mnist(str(tmp_path))
    assert frame["split"].value_counts().to_dict() == {"train": 12, "test": 5}
    assert frame["label"].iloc[1] == "trouser"
    assert decode_image(frame["image"].iloc[0], 28, 1).shape == (28, 28, 1)


@pytest.mark.skipif(not __import__("os").path.exists(FASHION_MNIST_DIR),
                    reason="Debian's dataset-fashion-mnist is not installed (make test installs it)")
def test_fashion_mnist_from_the_debian_package():
    frame = read_fashion_mnist(limit=50)
    assert len(frame) == 100 and frame["label"].nunique() > 5
