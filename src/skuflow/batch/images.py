"""Nightly scoring of an image folder (local or s3://) on the same Dask engine as tables.

Output: a Parquet dataset with one row per image (path, prediction, confidence, error, model name and
version, scored_at). A rerun lists the folder again and scores only images no part file holds yet, so a
crashed run resumes and images added since are picked up; the model version stays the one the output
was started with.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import fsspec
import pandas as pd

from skuflow.batch.score import BatchResult, Progress, _log, _manifest, add_prediction_columns, dispatch
from skuflow.cluster import BackgroundCluster
from skuflow.errors import ModelNotFoundError
from skuflow.images.sources import list_images, read_bytes
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import Task

IMAGES_PER_PART = 256


def _scored_paths(fs: fsspec.AbstractFileSystem, root: str) -> tuple[set[str], int]:
    """Paths already in the output's part files, and the next free part number."""
    parts = sorted(p for p in fs.ls(root, detail=False) if p.rsplit("/", 1)[-1].startswith("part-"))
    done: set[str] = set()
    for p in parts:
        with fs.open(p, "rb") as fh:
            done.update(pd.read_parquet(fh, columns=["path"])["path"].tolist())
    next_index = max((int(p.rsplit("/", 1)[-1][5:10]) for p in parts), default=-1) + 1
    return done, next_index


def _match_worker_threads() -> None:
    """torch defaults to one thread per core in every process; on a worker, use the worker's share."""
    try:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    except (ImportError, ValueError):  # not on a Dask worker
        return
    import torch

    torch.set_num_threads(max(1, threads))


def score_image_part(index: int, paths: list[str], task: Task, model: Any, model_name: str, version: int,
                     output: str, scored_at: str) -> dict[str, Any]:
    """Read, decode and score one group of images and write it as ``part-NNNNN.parquet``; an image
    that cannot be read or decoded gets a row with the reason instead of a prediction."""
    started = time.perf_counter()
    _match_worker_threads()
    try:
        contents: list[Any] = read_bytes(paths)
    except Exception:  # one unreadable file must not sink its neighbours: read them one by one
        contents = []
        for p in paths:
            try:
                contents.append(read_bytes([p])[0])
            except Exception as exc:
                contents.append(exc)
    unreadable = [isinstance(c, Exception) for c in contents]
    frame = pd.DataFrame({"image": [None if bad else c for c, bad in zip(contents, unreadable, strict=True)]})
    readable = frame[[not bad for bad in unreadable]]
    preds, reason = task.predict_rows(model, readable) if len(readable) else (None, readable["image"])
    reason = reason.reindex(frame.index)
    for i, c in enumerate(contents):
        if unreadable[i]:
            reason.iloc[i] = f"unreadable: {c.__class__.__name__}"
    out = pd.DataFrame({"path": paths})
    add_prediction_columns(out, preds, reason)
    out["model_name"], out["model_version"], out["scored_at"] = model_name, version, pd.Timestamp(scored_at)
    fs, root = fsspec.core.url_to_fs(output)
    tmp = f"{root}/_tmp-{index:05d}-{uuid.uuid4().hex}.parquet"
    with fs.open(tmp, "wb") as fh:
        out.to_parquet(fh, index=False)
    fs.mv(tmp, f"{root}/part-{index:05d}.parquet")  # atomic on local disks; one PUT on object stores
    return {"index": index, "rows": len(out), "invalid": int(reason.notna().sum()),
            "summary": task.output.summary(preds.values if preds is not None else []),
            "seconds": time.perf_counter() - started}


def run_image_batch(task: Task, input_url: str, output_url: str, settings: Settings, overwrite: bool,
                    on_progress: Progress | None, log_to_mlflow: bool, started: float,
                    cluster: BackgroundCluster, images_per_part: int = IMAGES_PER_PART) -> BatchResult:
    store = RegistryStore(settings)
    paths = list_images(input_url)
    champion = store.champion(task.name)
    fs, root = fsspec.core.url_to_fs(output_url)
    job = {"task": task.name, "input": input_url, "kind": "images",
           "model_name": champion.name if champion else None,
           "model_version": champion.version if champion else None, "started_at": datetime.now(UTC).isoformat()}
    manifest = _manifest(fs, root, job, overwrite, same_keys=("task", "input", "kind"))
    if manifest["model_version"] is None:
        raise ModelNotFoundError(f"Task '{task.name}' has no champion to score with")
    name, version = manifest["model_name"], int(manifest["model_version"])
    done, next_index = _scored_paths(fs, root)
    todo = [p for p in paths if p not in done]
    groups = [(next_index + i, todo[s:s + images_per_part]) for i, s in enumerate(range(0, len(todo), images_per_part))]
    stats: list[dict[str, Any]] = []
    if groups:
        model = store.load_model(name, version)
        stats = dispatch(cluster.client(), model, groups, score_image_part,
                         lambda g, ref: (g[0], g[1], task, ref, name, version, output_url,
                                         manifest["started_at"]),
                         lambda n: on_progress(n, len(groups)) if on_progress else None)
    seconds = time.perf_counter() - started
    rows = sum(s["rows"] for s in stats)
    result = BatchResult(task.name, name, version, output_url, rows, len(groups) + next_index, next_index, seconds,
                         rows / seconds if seconds else 0.0, task.output.merge_summaries([s["summary"] for s in stats]),
                         sum(s["invalid"] for s in stats), sum(s["seconds"] for s in stats))
    if log_to_mlflow and stats:
        result.run_id = _log(store, result, task.output.summary_metrics(result.summary))
    return result
