"""Parse MLflow scoring-server payloads into records: ``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs`` (JSON) and ``text/csv``."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pandas as pd

from skuflow.errors import InvalidInputError, UnsupportedMediaError

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def _columns_to_records(cols: dict[str, Any]) -> list[dict[str, Any]]:
    lengths = {len(v) if isinstance(v, list) else 1 for v in cols.values()}
    if len(lengths) != 1:
        raise InvalidInputError("inputs: columns have different lengths")
    n = lengths.pop()
    return [{k: (v[i] if isinstance(v, list) else v) for k, v in cols.items()} for i in range(n)]


def parse_invocation(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Records from an MLflow-style request body; a malformed body raises a 4xx SkuflowError."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        try:
            return pd.read_csv(io.BytesIO(body)).to_dict(orient="records")
        except (ValueError, pd.errors.ParserError) as exc:
            raise InvalidInputError(f"body: not valid CSV ({exc})") from exc
    if ctype not in ("application/json", ""):
        raise UnsupportedMediaError(f"Content type '{ctype}' not supported; use application/json or text/csv")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"body: not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise InvalidInputError(f"body: expected an object with one of {', '.join(FORMATS)}")
    keys = [k for k in FORMATS if k in payload]
    if len(keys) != 1:
        raise InvalidInputError(f"body: expected exactly one of {', '.join(FORMATS)}, got {sorted(payload)}")
    key = keys[0]
    data = payload[key]
    if key == "dataframe_split":
        if not isinstance(data, dict) or "columns" not in data or "data" not in data:
            raise InvalidInputError("dataframe_split: needs 'columns' and 'data'")
        cols = data["columns"]
        return [dict(zip(cols, row, strict=False)) for row in data["data"]]
    if key == "inputs" and isinstance(data, dict):
        return _columns_to_records(data)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InvalidInputError(f"{key}: expected a list of records (objects keyed by field)")
    return data
