"""Parse MLflow scoring-server payloads into records: ``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs`` (JSON) and ``text/csv``."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pandas as pd

from skuflow.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from skuflow.serving.bounds import RecordBounds

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
RECORD_LISTS = ("dataframe_records", "instances", "inputs")


def _columns_to_records(cols: dict[str, Any]) -> list[dict[str, Any]]:
    lengths = {len(v) if isinstance(v, list) else 1 for v in cols.values()}
    if len(lengths) != 1:
        raise InvalidInputError("inputs: columns have different lengths")
    n = lengths.pop()
    return [{k: (v[i] if isinstance(v, list) else v) for k, v in cols.items()} for i in range(n)]


def _split_to_records(data: Any) -> list[dict[str, Any]]:
    """``{"columns": [...], "data": [[...], ...]}`` checked shape first: column names are distinct strings,
    every row a list with one value per column (pandas' orient="split")."""
    if not isinstance(data, dict) or "columns" not in data or "data" not in data:
        raise InvalidInputError("dataframe_split: needs 'columns' and 'data'")
    cols, rows = data["columns"], data["data"]
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise InvalidInputError("dataframe_split.columns: expected a list of column names (strings)")
    if len(set(cols)) != len(cols):
        raise InvalidInputError(f"dataframe_split.columns: '{_first_repeat(cols)}' appears twice")
    if not isinstance(rows, list):
        raise InvalidInputError("dataframe_split.data: expected a list of rows")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(cols):
            raise InvalidInputError(f"dataframe_split.data[{i}]: expected a list of {len(cols)} values, one per column")
    return [dict(zip(cols, row, strict=True)) for row in rows]


def _first_repeat(names: list[str]) -> str:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return ""


_CSV_TYPES = ("text/csv", "application/csv")


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


async def read_invocation_body(chunks: AsyncIterator[bytes], content_type: str, max_columns: int) -> bytes:
    """The body as it streams in. A CSV one is refused as soon as its header line is over ``max_columns``
    wide: an 8 MiB body of 100,000 columns is refused at its first chunk instead of after the whole upload.
    The width counts every comma of the header line (quoted ones too: an upper bound, and no row is parsed)."""
    parts: list[bytes] = []
    commas, header_done = 0, _media_type(content_type) not in _CSV_TYPES
    async for chunk in chunks:
        parts.append(chunk)
        if not header_done:
            end = chunk.find(b"\n")
            commas += chunk[: end if end >= 0 else len(chunk)].count(b",")
            header_done = end >= 0
            if commas + 1 > max_columns:  # before the line's end, the count is what arrived so far
                raise PayloadTooLargeError(f"body: {'' if header_done else 'at least '}{commas + 1} CSV columns "
                                           f"exceed the limit of {max_columns}")
    return b"".join(parts)


def _csv_records(body: bytes, numbers: frozenset[str]) -> list[dict[str, Any]]:
    """CSV rows, the header checked before pandas reads the body: parsing cost grows with the columns (and
    with their square when names repeat), so a repeating header is refused first (a wide one already was, by
    ``read_invocation_body``). Cells are text (a title "0" stays a title) except in ``numbers``' columns."""
    import csv

    end = body.find(b"\n")
    first = body[: end if end >= 0 else len(body)]
    header = next(csv.reader([first.decode("utf-8", errors="replace")]), [])
    if len(set(header)) != len(header):
        raise InvalidInputError(f"body: CSV column '{_first_repeat(header)}' appears twice")
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=str)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InvalidInputError(f"body: not valid CSV ({exc})") from exc
    for col in numbers & set(frame.columns):
        as_number = pd.to_numeric(frame[col], errors="coerce")
        bad = frame[col].notna() & as_number.isna()
        if bad.any():
            raise InvalidInputError(f"{int(bad.to_numpy().argmax())}.{col}: not a number")
        frame[col] = as_number
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def parse_invocation(body: bytes, content_type: str, bounds: RecordBounds,
                     numbers: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Records from an MLflow-style request body read by ``read_invocation_body`` (which refused a too-wide
    CSV); a malformed body raises a 4xx SkuflowError."""
    ctype = _media_type(content_type)
    if ctype in _CSV_TYPES:
        return _csv_records(body, numbers)
    if ctype not in ("application/json", ""):
        raise UnsupportedMediaError(f"Content type '{ctype}' not supported; use application/json or text/csv")
    bounds.check(body, RECORD_LISTS)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"body: not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise InvalidInputError(f"body: expected an object with one of {', '.join(FORMATS)}")
    keys = [k for k in FORMATS if k in payload]
    if len(keys) != len(payload):
        raise InvalidInputError(f"body: unexpected key '{next(k for k in payload if k not in FORMATS)}' (one of "
                                f"{', '.join(FORMATS)})")
    if len(keys) != 1:
        raise InvalidInputError(f"body: expected exactly one of {', '.join(FORMATS)}, got {sorted(payload)}")
    key = keys[0]
    data = payload[key]
    if key == "dataframe_split":
        records = _split_to_records(data)
    elif key == "inputs" and isinstance(data, dict):
        records = _columns_to_records(data)
    elif not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InvalidInputError(f"{key}: expected a list of records (objects keyed by field)")
    else:
        records = data
    width = max((len(r) for r in records), default=0)
    if width > bounds.max_fields:  # dataframe_split's columns and inputs' columns: counted once parsed
        raise PayloadTooLargeError(f"{key}: a record of {width} fields exceeds the limit of {bounds.max_fields}")
    return records
