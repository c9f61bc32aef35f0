"""Sticky assignment of callers to variants: a salted hash, so every replica and a restarted server put
the same caller in the same arm without sharing any state."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

CHAMPION, CHALLENGER, SHADOW, FALLBACK = "champion", "challenger", "shadow", "fallback"
_SCALE = float(1 << 64)


def bucket(salt: str, key: str) -> float:
    """A uniform number in [0, 1) fixed by (salt, key)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8, key=salt.encode()[:64]).digest()
    return int.from_bytes(digest, "big") / _SCALE


def caller_key(field: str | None, record: Mapping[str, Any] | None, header: str | None, request_id: str) -> str:
    """Who is asking: the record's ``field`` (e.g. ``seller_id``), else the ``X-Experiment-Key`` header,
    else the request id (a caller without a key gets a fresh draw per request)."""
    if field and record is not None:
        value = record.get(field)
        if value is not None and value != "":
            return f"{field}={value}"
    if header:
        return f"header={header}"
    return f"request={request_id}"


def variant_for(salt: str, key: str, traffic: float) -> str:
    return CHALLENGER if bucket(salt, key) < traffic else CHAMPION
