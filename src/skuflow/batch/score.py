"""Score a whole table with a task's champion on Dask and write a partitioned Parquet dataset.

Each worker reads its own partition, loads the pinned model version once per process, scores with the
task's ``predict`` (the code online serving runs) and writes ``part-NNNNN.parquet`` by an atomic
rename. A rerun after a crash skips every part already written, so no row is written twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import fsspec
import pandas as pd

from skuflow.cluster import BackgroundCluster
from skuflow.data.partitions import DEFAULT_PARTITION_ROWS, Partition, input_columns, plan_partitions, read_partition
from skuflow.errors import ConfigError, MissingColumnError, ModelNotFoundError
from skuflow.experiments import record as experiment_record
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import Task, get_task
from skuflow.tasks.outputs import Predictions

MANIFEST = "_skuflow_batch.json"
Progress = Callable[[int, int], None]



@dataclass
class BatchResult:
    task: str
    model_name: str
    model_version: int
    output: str
    rows: int
    partitions: int
    partitions_skipped: int
    seconds: float
    rows_per_s: float
    summary: dict[str, Any] = field(default_factory=dict)  # of the predictions: class counts, value statistics
    invalid_rows: int = 0
    compute_seconds: float = 0.0  # summed over partitions: reading, scoring, writing
    run_id: str | None = None
    note: str = ""  # e.g. an online experiment the batch did not take part in

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def add_prediction_columns(out: pd.DataFrame, preds: Predictions | None, reason: pd.Series) -> None:
    """The output's columns (prediction, confidence or interval) where a row was scored, and its ``error``
    where it was not (``reason``, aligned with ``out``)."""
    scored = reason.index[reason.isna().to_numpy()]
    if preds is not None:
        for col, values in preds.columns().items():
            text = col == "prediction" or any(isinstance(v, str) for v in values[:1])  # labels, path levels
            out[col] = pd.Series(values, index=scored, dtype=object if text else float)
    else:  # no row could be scored: the part still has the column every part has
        out["prediction"] = pd.Series(None, index=out.index, dtype=object)
    out["error"] = reason


def score_partition(part: Partition, task: Task, model: Any, model_name: str,
                    version: int, output: str, key: str, scored_at: str,
                    columns: list[str] | None = None) -> dict[str, Any]:
    """Score one partition and write it; returns counts only (the rows never travel back)."""
    started = time.perf_counter()
    frame = read_partition(part, columns)
    # rows that cannot be scored are kept with the reason instead of a prediction: nothing is lost
    preds, reason = task.predict_rows(model, frame)
    out = pd.DataFrame({key: frame[key].astype(str)})
    for col in task.inputs_of(model).names:  # the catalogue attributes it read, to slice the output by
        if col in frame.columns:
            out[col] = frame[col]
    add_prediction_columns(out, preds, reason)
    out["model_name"] = model_name
    out["model_version"] = version
    out["scored_at"] = pd.Timestamp(scored_at)
    fs, root = fsspec.core.url_to_fs(output)
    tmp = f"{root}/_tmp-{part.index:05d}-{uuid.uuid4().hex}.parquet"
    with fs.open(tmp, "wb") as fh:
        out.to_parquet(fh, index=False)
    fs.mv(tmp, f"{root}/{_part_name(part.index)}")  # atomic on local disks; one PUT on object stores
    return {"index": part.index, "rows": len(out), "invalid": int(reason.notna().sum()),
            "summary": task.output.summary(preds.values if preds is not None else []),
            "seconds": time.perf_counter() - started}


def _done_parts(fs: fsspec.AbstractFileSystem, root: str) -> set[int]:
    done = set()
    for path in fs.ls(root, detail=False):
        name = path.rsplit("/", 1)[-1]
        if name.startswith("part-") and name.endswith(".parquet"):
            done.add(int(name[5:10]))
    return done


def _manifest(fs: fsspec.AbstractFileSystem, root: str, job: dict[str, Any], overwrite: bool,
              same_keys: tuple[str, ...] = ("task", "input", "partition_rows", "key", "partitions")) -> dict[str, Any]:
    """The job an output folder belongs to. A rerun must be the same job; its model version is reused."""
    path = f"{root}/{MANIFEST}"
    if fs.exists(path) and not overwrite:
        with fs.open(path, "r") as fh:
            existing = json.load(fh)
        same = all(existing.get(k) == job[k] for k in same_keys)
        if not same:
            raise ConfigError(f"Output {root} holds a different batch job ({existing.get('input')}); "
                              "choose another output or pass --overwrite")
        return existing
    if overwrite and fs.exists(root):
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)
    with fs.open(path, "w") as fh:
        json.dump(job, fh)
    return job


def dispatch(client: Any, model: Any, items: list[Any], fn: Callable[..., dict[str, Any]],
             args: Callable[[Any, Any], tuple], on_done: Callable[[int], None]) -> list[dict[str, Any]]:
    """Run ``fn(*args(item, model_ref))`` for every item on the cluster, a bounded number at a time;
    returns each call's counts in completion order."""
    from distributed import as_completed

    # the client ships the model to every worker once: workers need no registry access and no
    # MLflow import, and every partition on a worker shares the one deserialised copy
    model_ref = client.scatter(model, broadcast=True, hash=False)
    width = max(2, 2 * len(client.scheduler_info().get("workers", {})))  # bounded in-flight work
    pending = iter(items)
    stats: list[dict[str, Any]] = []

    def submit(item: Any) -> Any:
        return client.submit(fn, *args(item, model_ref), pure=False, retries=1)

    running = as_completed([submit(p) for p in islice(pending, width)])
    for fut in running:
        stats.append(fut.result())
        nxt = next(pending, None)
        if nxt is not None:
            running.add(submit(nxt))
        on_done(len(stats))
    return stats


def run_batch(task_name: str, input_url: str, output_url: str, settings: Settings, *,
              scheduler: str | None = None, n_workers: int | None = None, key: str = "id",
              partition_rows: int = DEFAULT_PARTITION_ROWS, overwrite: bool = False,
              on_progress: Progress | None = None, log_to_mlflow: bool = True) -> BatchResult:
    """Score ``input_url`` with the champion of ``task_name`` into the Parquet dataset ``output_url``."""
    started = time.perf_counter()
    task = get_task(task_name)
    cluster = BackgroundCluster(scheduler, n_workers, [type(task).__module__])
    try:
        if task.input_kind == "image":
            from skuflow.batch.images import run_image_batch

            return run_image_batch(task, input_url, output_url, settings, overwrite, on_progress, log_to_mlflow,
                                   started, cluster)
        return _run(task, input_url, output_url, settings, key, partition_rows, overwrite, on_progress,
                    log_to_mlflow, started, cluster)
    finally:
        cluster.close()


def _run(task: Any, input_url: str, output_url: str, settings: Settings, key: str, partition_rows: int,
         overwrite: bool, on_progress: Progress | None, log_to_mlflow: bool, started: float,
         cluster: BackgroundCluster) -> BatchResult:
    store = RegistryStore(settings)
    parts = plan_partitions(input_url, partition_rows=partition_rows)
    columns = input_columns(parts[0])
    for col in (key, *task.required_fields):
        if col not in columns:
            raise MissingColumnError(col, input_url)
    champion = store.champion(task.name)
    fs, root = fsspec.core.url_to_fs(output_url)
    job = {"task": task.name, "input": input_url, "partition_rows": partition_rows, "key": key,
           "partitions": len(parts), "model_name": champion.name if champion else None,
           "model_version": champion.version if champion else None,
           "started_at": datetime.now(UTC).isoformat()}
    manifest = _manifest(fs, root, job, overwrite)
    if manifest["model_version"] is None:
        raise ModelNotFoundError(f"Task '{task.name}' has no champion to score with")
    name, version = manifest["model_name"], int(manifest["model_version"])
    done = _done_parts(fs, root)
    todo = [p for p in parts if p.index not in done]
    stats: list[dict[str, Any]] = []
    if todo:
        model = store.load_model(name, version)  # while the cluster starts
        # read only what the model looks at (Parquet skips the other columns on disk)
        read_cols = [c for c in dict.fromkeys([key, *task.input_columns(model)]) if c in columns]
        stats = dispatch(cluster.client(), model, todo, score_partition,
                         # the task travels as an object: a plug-in registered only in the caller's process works
                         lambda p, ref: (p, task, ref, name, version, output_url, key, manifest["started_at"],
                                         read_cols),
                         lambda n: on_progress(len(done) + n, len(parts)) if on_progress else None)

    seconds = time.perf_counter() - started
    rows = sum(s["rows"] for s in stats)
    result = BatchResult(task.name, name, version, output_url, rows, len(parts), len(done), seconds,
                         rows / seconds if seconds else 0.0, task.output.merge_summaries([s["summary"] for s in stats]),
                         sum(s["invalid"] for s in stats), sum(s["seconds"] for s in stats))
    exp = experiment_record.load(store, task.name)
    if exp is not None and exp.running:
        # an experiment's evidence comes from callers it assigned; a batch is nobody's caller
        result.note = (f"experiment {exp.id} ({exp.mode} v{exp.challenger}) is running online; the batch used "
                       f"the champion v{version}")
    if log_to_mlflow and stats:
        result.run_id = _log(store, result, task.output.summary_metrics(result.summary))
    return result


def _log(store: RegistryStore, result: BatchResult, summary_metrics: dict[str, float]) -> str:
    with store.run(result.task, run_name=f"batch-{result.model_name}-v{result.model_version}") as run:
        run.set_tags({"skuflow.kind": "batch", "skuflow.task": result.task, "model_version": result.model_version,
                      "output": result.output})
        run.log_metrics({"rows": result.rows, "rows_per_s": result.rows_per_s, "seconds": result.seconds,
                         "partitions": result.partitions, "partitions_skipped": result.partitions_skipped,
                         "invalid_rows": result.invalid_rows, **summary_metrics})
        run.log_artifacts({"prediction_summary.json": result.summary})
        return run.run_id
