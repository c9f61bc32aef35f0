"""Content-hashed dataset versions: the same rows give the same digest, whatever file they came from."""

from __future__ import annotations

import hashlib

import pandas as pd


def dataset_digest(frame: pd.DataFrame) -> str:
    """A 16-hex-digit digest of the frame's content (column names, order of rows and values)."""
    h = hashlib.sha256()
    cols = sorted(frame.columns)
    h.update("\x1f".join(map(str, cols)).encode())
    if len(frame):
        view = frame[cols].copy()
        for c in cols:  # binary columns (images) are hashed by content, not by their repr
            if view[c].dtype == object and len(view) and isinstance(view[c].iloc[0], bytes | bytearray):
                view[c] = [hashlib.sha1(v).hexdigest() if isinstance(v, bytes | bytearray) else str(v)
                           for v in view[c]]
        row_hashes = pd.util.hash_pandas_object(view.astype(str), index=False)
        h.update(row_hashes.to_numpy().tobytes())
    return h.hexdigest()[:16]
