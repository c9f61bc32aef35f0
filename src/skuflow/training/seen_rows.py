"""What a model version trained on, kept compactly so the gate can compare models on rows neither saw.

Each row is reduced to an 8-byte digest of its input fields (text, numbers, image bytes; never the label,
so a relabelled row still counts as seen), and with a grouped split each group key to one too. A version
stores them sorted, as one small ``.npz`` artifact beside its reference profile: 8 bytes a row.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SEEN_ROWS_ARTIFACT = "training_rows.npz"
_SEP = b"\x1f"


def _value_bytes(value: Any) -> bytes:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 12.0 and 12 are the same price whether the column parsed as int or float
    return str(value).encode("utf-8", "surrogatepass")


def _digest(parts: list[Any]) -> int:
    blob = _SEP.join(_value_bytes(v) for v in parts)
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little")


def row_digests(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One uint64 per row from the named input columns (those the frame lacks count as empty)."""
    cols = [frame[c].tolist() if c in frame.columns else [None] * len(frame) for c in columns]
    return np.fromiter((_digest(list(vals)) for vals in zip(*cols, strict=True)), dtype=np.uint64,
                       count=len(frame))


def key_digests(values: pd.Series | list[Any]) -> np.ndarray:
    return np.fromiter((_digest([v]) for v in values), dtype=np.uint64, count=len(values))


@dataclass
class SeenRows:
    """Sorted digests of the rows (and, for grouped splits, the groups) a version trained on."""

    rows: np.ndarray
    groups: np.ndarray | None = None
    group_key: str | None = None

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: list[str], group_key: str | None = None) -> SeenRows:
        groups = None
        if group_key and group_key in frame.columns:
            groups = np.unique(key_digests(frame[group_key].astype(str)))
        return cls(np.unique(row_digests(frame, columns)), groups, group_key if groups is not None else None)

    def unseen(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        """Boolean mask of ``frame``'s rows this version never trained on (nor any of their groups)."""
        keep = ~np.isin(row_digests(frame, columns), self.rows)
        if self.groups is not None and self.group_key in frame.columns:
            keep &= ~np.isin(key_digests(frame[self.group_key].astype(str)), self.groups)
        return keep

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {"rows": self.rows, "group_key": np.asarray(self.group_key or "")}
        if self.groups is not None:
            arrays["groups"] = self.groups
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub reads names as options
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> SeenRows:
        with np.load(io.BytesIO(blob)) as npz:
            groups = npz["groups"] if "groups" in npz.files else None
            return cls(npz["rows"], groups, str(npz["group_key"]) or None)
