"""Copy a folder of files between any two fsspec locations (local, s3://, ...) and prove the copy:
every file is checksummed at the source and read back from the destination."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import fsspec

from skuflow.errors import DataError

CHECKSUMS = "_skuflow_checksums.json"


@dataclass
class TransferReport:
    source: str
    destination: str
    files: int
    bytes: int
    copied: int
    skipped: int
    seconds: float
    mismatches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _join(root: str, rel: str) -> str:
    return f"{root.rstrip('/')}/{rel}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_tree(source: str, destination: str, on_file: Callable[[int, int], None] | None = None) -> TransferReport:
    """Copy every file under ``source`` to the same relative path under ``destination``.

    Files already at the destination with the same checksum are skipped (a rerun resumes); each copied
    file is read back and compared; a manifest of SHA-256 sums is written next to the files."""
    started = time.perf_counter()
    src_fs, src_root = fsspec.core.url_to_fs(source)
    dst_fs, dst_root = fsspec.core.url_to_fs(destination)
    if not src_fs.exists(src_root):
        raise DataError(f"Source not found: {source}", url=source)
    if src_fs.isfile(src_root):
        raise DataError(f"Source must be a folder: {source}", url=source)
    files = sorted(p for p in src_fs.find(src_root) if not p.rsplit("/", 1)[-1].startswith((".", "_skuflow")))
    if not files:
        raise DataError(f"No files under {source}", url=source)
    dst_fs.makedirs(dst_root, exist_ok=True)
    sums: dict[str, str] = {}
    copied = skipped = total_bytes = 0
    mismatches: list[str] = []
    for n, path in enumerate(files, 1):
        rel = path[len(src_root.rstrip("/")):].lstrip("/")
        data = src_fs.cat_file(path)
        digest = _sha256(data)
        target = _join(dst_root, rel)
        if dst_fs.exists(target) and _sha256(dst_fs.cat_file(target)) == digest:
            skipped += 1
        else:
            parent = target.rsplit("/", 1)[0]
            dst_fs.makedirs(parent, exist_ok=True)
            dst_fs.pipe_file(target, data)
            if _sha256(dst_fs.cat_file(target)) != digest:
                mismatches.append(rel)
            copied += 1
        sums[rel] = digest
        total_bytes += len(data)
        if on_file:
            on_file(n, len(files))
    dst_fs.pipe_file(_join(dst_root, CHECKSUMS), json.dumps(sums, indent=0, sort_keys=True).encode())
    if mismatches:
        raise DataError(f"{len(mismatches)} files differ after copying to {destination}: {mismatches[:5]}",
                        mismatches=mismatches)
    return TransferReport(source, destination, len(files), total_bytes, copied, skipped,
                          time.perf_counter() - started, mismatches)
