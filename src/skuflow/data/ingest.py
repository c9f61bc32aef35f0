"""Read tabular product data from any path or fsspec URL and map its columns onto canonical fields."""

from __future__ import annotations

from collections.abc import Mapping

import fsspec
import pandas as pd

from skuflow.errors import DataError

SYNTHETIC_PREFIX = "synthetic"
PARQUET_ROW_GROUP = 64_000


def _format_of(url: str) -> str:
    name = url.lower().rstrip("/")
    for suffix in (".gz", ".bz2", ".zst", ".xz"):
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "parquet"  # a folder of part files, as batch scoring writes


def read_table(url: str, fmt: str | None = None) -> pd.DataFrame:
    """Read CSV, Parquet (file or folder), JSONL or JSON from a local path or any fsspec URL.

    ``synthetic:N[:SEED]`` generates N products instead of reading a file.
    """
    if url.startswith(SYNTHETIC_PREFIX):
        from skuflow.data.generate import generate_catalogue

        parts = url.split(":")
        rows = int(parts[1]) if len(parts) > 1 and parts[1] else 5000
        seed = int(parts[2]) if len(parts) > 2 else 0
        return generate_catalogue(rows, seed=seed)
    fmt = fmt or _format_of(url)
    try:
        fs, path = fsspec.core.url_to_fs(url)
        if not fs.exists(path):
            raise DataError(f"Data not found: {url}", url=url)
        if fmt == "parquet":
            return pd.read_parquet(url)
        with fsspec.open(url, "rt", compression="infer", encoding="utf-8") as fh:
            if fmt == "csv":
                sep = "\t" if url.lower().rstrip("/").removesuffix(".gz").endswith(".tsv") else ","
                return pd.read_csv(fh, sep=sep)
            if fmt == "jsonl":
                return pd.read_json(fh, lines=True)
            try:
                return pd.read_json(fh)
            except ValueError as exc:
                if "Trailing data" not in str(exc):
                    raise
        # public review dumps ship JSON lines under a .json(.gz) name: one document per line
        with fsspec.open(url, "rt", compression="infer", encoding="utf-8") as fh:
            return pd.read_json(fh, lines=True)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Could not read {url} as {fmt}: {exc}", url=url) from exc


def write_table(frame: pd.DataFrame, url: str) -> str:
    """Write a frame as CSV, Parquet or JSONL chosen by the URL's suffix."""
    fmt = _format_of(url)
    fs, path = fsspec.core.url_to_fs(url)
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if parent:
        fs.makedirs(parent, exist_ok=True)
    if fmt == "parquet":
        # row groups of 64k rows let batch scoring split the file across workers
        frame.to_parquet(url, index=False, row_group_size=PARQUET_ROW_GROUP)
    elif fmt == "csv":
        frame.to_csv(url, index=False)
    else:
        frame.to_json(url, orient="records", lines=True, date_format="iso")
    return url


def apply_mapping(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """Rename source columns to canonical names (``{"Product Title": "title", ...}``).

    A mapped source column that the file lacks is an error naming it; unmapped columns are kept.
    """
    if not columns:
        return frame
    missing = [src for src in columns if src not in frame.columns]
    if missing:
        raise DataError(f"Mapped column '{missing[0]}' is not in the data (columns: {list(frame.columns)})",
                        column=missing[0])
    return frame.rename(columns=dict(columns))
