"""Split an input table into partitions that workers read by themselves.

Partitions are planned from file metadata only (Parquet row groups, byte ranges of CSV/JSONL), so the
client never loads the data, every worker reads just its own slice, and the same input always gives the
same partitions — which is what lets a rerun skip the ones already written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import fsspec
import pandas as pd
import pyarrow.parquet as pq
from fsspec.utils import read_block

from skuflow.data.ingest import _format_of
from skuflow.errors import DataError

DEFAULT_PARTITION_ROWS = 100_000
DEFAULT_BLOCK_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Partition:
    index: int
    url: str
    fmt: str
    row_groups: tuple[int, ...] = ()
    offset: int = 0
    length: int = 0
    header: bytes = b""
    rows: tuple[int, int] | None = None  # a slice of one oversized row group


def _files(url: str, suffixes: tuple[str, ...]) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(path):
        raise DataError(f"Input not found: {url}", url=url)
    if fs.isdir(path):
        found = [p for p in fs.find(path) if p.endswith(suffixes)
                 and not p.rsplit("/", 1)[-1].startswith(("_", "."))]
        if not found:
            raise DataError(f"No {'/'.join(suffixes)} files under {url}", url=url)
        return fs, sorted(found)
    return fs, [path]


def plan_partitions(url: str, partition_rows: int = DEFAULT_PARTITION_ROWS,
                    block_bytes: int = DEFAULT_BLOCK_BYTES) -> list[Partition]:
    """Deterministic partitions of a Parquet file/folder (by row groups) or a CSV/JSONL file (by bytes)."""
    fmt = _format_of(url)
    parts: list[Partition] = []
    if fmt == "parquet":
        fs, files = _files(url, (".parquet", ".pq"))
        for path in files:
            with fs.open(path, "rb") as fh:
                meta = pq.ParquetFile(fh).metadata
            group: list[int] = []
            rows = 0
            for rg in range(meta.num_row_groups):
                n = meta.row_group(rg).num_rows
                if n > 2 * partition_rows:  # one huge row group: several workers share it, by row slices
                    if group:
                        parts.append(Partition(len(parts), fs.unstrip_protocol(path), fmt, tuple(group)))
                        group, rows = [], 0
                    for start in range(0, n, partition_rows):
                        parts.append(Partition(len(parts), fs.unstrip_protocol(path), fmt, (rg,),
                                               rows=(start, min(n, start + partition_rows))))
                    continue
                group.append(rg)
                rows += n
                if rows >= partition_rows:
                    parts.append(Partition(len(parts), fs.unstrip_protocol(path), fmt, tuple(group)))
                    group, rows = [], 0
            if group:
                parts.append(Partition(len(parts), fs.unstrip_protocol(path), fmt, tuple(group)))
        return parts
    if fmt not in ("csv", "jsonl"):
        raise DataError(f"Batch input must be Parquet, CSV or JSONL, not {fmt}: {url}")
    fs, files = _files(url, (".csv", ".jsonl", ".ndjson"))
    for path in files:
        size = fs.size(path)
        header = b""
        if fmt == "csv":
            with fs.open(path, "rb") as fh:
                header = fh.readline()
        for offset in range(0, max(size, 1), block_bytes):
            parts.append(Partition(len(parts), fs.unstrip_protocol(path), fmt, (), offset, block_bytes, header))
    return parts


def read_partition(part: Partition, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of one partition (each line of a text file lands in exactly one partition)."""
    if part.fmt == "parquet":
        with fsspec.open(part.url, "rb") as fh:
            table = pq.ParquetFile(fh).read_row_groups(list(part.row_groups), columns=columns)
        if part.rows is not None:
            table = table.slice(part.rows[0], part.rows[1] - part.rows[0])
        return table.to_pandas()
    with fsspec.open(part.url, "rb") as fh:
        block = read_block(fh, part.offset, part.length, delimiter=b"\n")
    if part.fmt == "csv":
        if part.offset == 0:
            block = block[len(part.header):] if block.startswith(part.header) else block
        if not block.strip():
            return pd.read_csv(io.BytesIO(part.header))
        frame = pd.read_csv(io.BytesIO(part.header + block), dtype={"id": str}, usecols=columns)
    else:
        if not block.strip():
            return pd.DataFrame()
        frame = pd.read_json(io.BytesIO(block), lines=True, dtype={"id": str})
    return frame[columns] if columns and part.fmt == "jsonl" else frame


def input_columns(part: Partition) -> list[str]:
    """Column names from metadata or the header line, without reading the data."""
    if part.fmt == "parquet":
        with fsspec.open(part.url, "rb") as fh:
            return list(pq.ParquetFile(fh).schema_arrow.names)
    if part.fmt == "csv":
        return list(pd.read_csv(io.BytesIO(part.header)).columns)
    with fsspec.open(part.url, "rb") as fh:
        first = fh.readline()
    return list(pd.read_json(io.BytesIO(first), lines=True).columns)
