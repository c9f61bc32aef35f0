"""Training past one machine: a catalogue read, featurized and scored partition by partition on a Dask
cluster, and the model fitted across partitions without the rows ever gathered in one process.

Workers read their own partitions (Parquet row groups, ``skuflow.data.partitions``), check them with the
task's own validation, and split them by a digest of each row's inputs: a row, and every exact repeat of it,
always lands on the same side, whichever worker reads it. The feature step is fitted on a sample gathered
from every partition (hashed n-grams learn only their IDF from it) and broadcast; each worker then keeps its
partitions' feature matrices (a few hundred bytes a row). The client streams those matrices through the
model family's trainer (``trainer(n_features, classes, class_counts)``, e.g. ``EmbeddingBagClassifier``), one
partition at a time with the next already on its way, epoch after epoch. Evaluation scores the held-out rows
where they lie and sends back labels and confidences only. The logged model is the same pipeline the
in-process path logs, so serving, batch, the gate and monitoring do not know which path trained it.
"""

from __future__ import annotations

import resource
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from skuflow.data.ingest import apply_mapping
from skuflow.data.partitions import Partition, plan_partitions, read_partition
from skuflow.data.schema import ValidationReport
from skuflow.errors import ConfigError, DataError
from skuflow.label_paths import fold_rare_counts
from skuflow.tasks.base import Task
from skuflow.tasks.classification import ClassificationTask
from skuflow.tasks.outputs import ClassPredictions
from skuflow.training.config import TrainConfig
from skuflow.training.seen_rows import SeenRows, row_digests

SAMPLE_ROWS = 200_000  # training rows gathered to fit the feature step (its IDF settles long before)
HELD_OUT_SAMPLE_ROWS = 20_000  # held-out rows gathered for the reference profile, novelty and the gate
SPLIT_BUCKETS = 10_000


@dataclass
class Scan:
    """What the first pass over the partitions learned: label counts, a sample, the validation report."""

    counts: Counter = field(default_factory=Counter)  # training rows per label
    test_rows: int = 0
    report: ValidationReport = field(default_factory=lambda: ValidationReport(0, 0))
    sample: list[pd.DataFrame] = field(default_factory=list)
    digests: list[np.ndarray] = field(default_factory=list)  # training rows' input digests (seen rows)


def _split_rows(task: Task, config: TrainConfig, part: Partition,
                relabel: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Any, np.ndarray]:
    """(training rows, held-out rows, validation report, training rows' digests) of one partition."""
    data = config.data.model_copy(update={"min_leaf_rows": None}) if config.data.options().get("min_leaf_rows") \
        else config.data  # folding needs every partition's counts: the client does it (``relabel``)
    mapped = apply_mapping(read_partition(part), config.data.columns)
    clean, report = task.validate(mapped, where=part.url, config=data, features=config.features)
    if relabel:
        clean[task.label] = clean[task.label].map(lambda v: relabel.get(v, v))
    digests = row_digests(clean, task.input_columns())
    held_out = (digests % SPLIT_BUCKETS) < round(config.split.test_size * SPLIT_BUCKETS)
    return clean[~held_out], clean[held_out], report, digests[~held_out]


def _scan(part: Partition, task: Task, config: TrainConfig, sample_share: float) -> dict[str, Any]:
    train, test, report, digests = _split_rows(task, config, part)
    take = max(1, round(len(train) * sample_share)) if len(train) else 0
    return {"counts": Counter(train[task.label].astype(str)), "test_rows": len(test), "report": report,
            "sample": train.sample(n=min(take, len(train)), random_state=part.index), "digests": digests}


@dataclass
class Labels:
    """The classes (sorted) and the folds of thin leaves, shipped to the workers once as one object."""

    classes: np.ndarray
    relabel: dict[str, str]


def _featurize(part: Partition, task: Task, config: TrainConfig, features: Any,
               labels: Labels) -> tuple[Any, np.ndarray]:
    train, _, _, _ = _split_rows(task, config, part, labels.relabel)
    codes = pd.Categorical(train[task.label].astype(str), categories=labels.classes).codes.astype(np.int64)
    return features.transform(train), codes


def _score_held_out(part: Partition, task: Task, config: TrainConfig, model: Any, labels: Labels,
                    keep_share: float) -> dict[str, Any]:
    _, test, _, _ = _split_rows(task, config, part, labels.relabel)
    preds = task.predict(model, test, top_k=1)
    assert isinstance(preds, ClassPredictions)  # chunked families are classifiers (train_partitioned checks)
    keep = max(0, round(len(test) * keep_share))
    return {"truth": test[task.label].astype(str).tolist(), "labels": preds.labels,
            "confidences": preds.confidences, "rows": test.sample(n=min(keep, len(test)), random_state=part.index)}


def worker_peaks(client: Any) -> dict[str, float]:
    """Each worker's peak resident memory so far, in GiB."""
    return {addr: kb / 2**20 for addr, kb in
            client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss).items()}


@dataclass
class PartitionedFit:
    model: Any
    classes: np.ndarray
    scan: Scan
    relabel: dict[str, str]
    seconds: dict[str, float]
    parts: list[Partition]


def fit_partitioned(task: Task, url: str, config: TrainConfig, client: Any, step: Any,
                    partition_rows: int) -> PartitionedFit:
    """Scan, fit the feature step on a sample, featurize on the workers, and stream the partitions through
    the model family's trainer. ``config.model.kind`` must name a family that trains in chunks."""
    parts = plan_partitions(url, partition_rows=partition_rows)
    model = task.build_model(config.model.model_dump(), config.features)
    features, classifier = model.steps[0][1], model.steps[-1][1]
    if not hasattr(classifier, "trainer"):
        raise ConfigError(f"model.kind '{config.model.kind}' fits in one process only; the partitioned path "
                          "trains a family that learns from chunks of rows (embedding_bag)")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    scan = _scan_all(task, url, config, client, step, parts)
    min_rows = config.data.options().get("min_leaf_rows")
    relabel = fold_rare_counts(scan.counts, int(min_rows)) if min_rows else {}
    counts: Counter = Counter()
    for label, n in scan.counts.items():
        counts[relabel.get(label, label)] += n
    classes = np.asarray(sorted(counts))
    seconds["scan"] = time.perf_counter() - t0

    sample = pd.concat(scan.sample, ignore_index=True)
    sample[task.label] = sample[task.label].map(lambda v: relabel.get(v, v))
    features.fit(sample, sample[task.label])
    features_ref = client.scatter(features, broadcast=True, hash=False)
    t1 = time.perf_counter()
    # large arguments travel once each, as futures: inlined, a 3,000-class array became a task of its own whose
    # key clashed between calls ("AssertionError: <TaskState 'classes' processing>")
    labels_ref = client.scatter(Labels(classes, relabel), broadcast=True, hash=False)
    matrices = client.map(_featurize, parts, task=task, config=config, features=features_ref, labels=labels_ref,
                          pure=False)
    step(f"features: {len(parts)} partitions on {len(client.scheduler_info()['workers'])} workers")
    trainer = classifier.trainer(features.n_features_out_, classes, np.asarray([counts[c] for c in classes]))
    _stream_epochs(trainer, matrices, classifier.epochs, np.random.default_rng(config.split.seed), step)
    client.cancel(matrices)
    seconds["fit"] = time.perf_counter() - t1
    return PartitionedFit(model, classes, scan, relabel, seconds, parts)


def _scan_all(task: Task, url: str, config: TrainConfig, client: Any, step: Any, parts: list[Partition]) -> Scan:
    """Every partition's label counts, validation report, held-out count, digests and a sample for the
    feature step, gathered from the workers."""
    total = sum(_row_count(p) for p in parts)
    share = min(1.0, SAMPLE_ROWS / max(total, 1))
    scan = Scan()
    for i, found in enumerate(client.gather(client.map(_scan, parts, task=task, config=config,
                                                       sample_share=share, pure=False))):
        scan.counts.update(found["counts"])
        scan.test_rows += found["test_rows"]
        scan.report.rows_in += found["report"].rows_in
        scan.report.rows_valid += found["report"].rows_valid
        for reason, n in found["report"].reasons.items():
            scan.report.reasons[reason] = scan.report.reasons.get(reason, 0) + n
        scan.sample.append(found["sample"])
        scan.digests.append(found["digests"])
        step(f"scan: partition {i + 1}/{len(parts)}")
    if sum(scan.counts.values()) < 10:
        raise DataError(f"Only {sum(scan.counts.values())} valid training rows in {url}; need at least 10")
    return scan


def _stream_epochs(trainer: Any, matrices: list[Any], epochs: int, rng: np.random.Generator, step: Any) -> None:
    """Each epoch, every partition's feature matrix through the trainer in a new order, the next one fetched
    from its worker while this one trains."""
    with ThreadPoolExecutor(max_workers=1) as fetch:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(matrices)).tolist()
            pending = fetch.submit(matrices[order[0]].result)
            for i in range(len(order)):
                X, codes = pending.result()
                if i + 1 < len(order):
                    pending = fetch.submit(matrices[order[i + 1]].result)
                trainer.train(X, codes)
                del X, codes
                step(f"fit: epoch {epoch}/{epochs}, partition {i + 1}/{len(order)}")
            trainer.end_epoch()
    trainer.finish()


def score_partitioned(task: Task, config: TrainConfig, client: Any, fitted: PartitionedFit,
                      step: Any) -> tuple[list[str], list[str], list[float], pd.DataFrame]:
    """(truth, predicted labels, confidences, a sample of held-out rows) over every partition's held-out rows,
    scored on the workers."""
    parts = fitted.parts
    model_ref = client.scatter(fitted.model, broadcast=True, hash=False)
    labels_ref = client.scatter(Labels(fitted.classes, fitted.relabel), broadcast=True, hash=False)
    share = min(1.0, HELD_OUT_SAMPLE_ROWS / max(fitted.scan.test_rows, 1))
    truth: list[str] = []
    labels: list[str] = []
    confidences: list[float] = []
    rows = []
    for i, found in enumerate(client.gather(client.map(_score_held_out, parts, task=task, config=config,
                                                       model=model_ref, labels=labels_ref, keep_share=share,
                                                       pure=False))):
        truth += found["truth"]
        labels += found["labels"]
        confidences += found["confidences"]
        rows.append(found["rows"])
        step(f"evaluate: partition {i + 1}/{len(parts)}")
    return truth, labels, confidences, pd.concat(rows, ignore_index=True)


def seen_rows(fitted: PartitionedFit) -> SeenRows:
    return SeenRows(np.unique(np.concatenate(fitted.scan.digests)) if fitted.scan.digests else
                    np.empty(0, dtype=np.uint64))


def _row_count(part: Partition) -> int:
    if part.rows is not None:
        return part.rows[1] - part.rows[0]
    if part.fmt != "parquet":
        return part.length // 200  # a guess for text files: only the sample's share depends on it
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(part.url, "rb") as fh:
        meta = pq.ParquetFile(fh).metadata
    return sum(meta.row_group(rg).num_rows for rg in part.row_groups)


# peak memory of the in-process path per byte of Parquet on disk, measured on the synthetic catalogue
# (docs/benchmarks.md); real catalogues with longer descriptions compress less and expand less
IN_PROCESS_BYTES_PER_DISK_BYTE = 70


def choose_path(data: Any, mode: str) -> tuple[bool, str]:
    """(partitioned?, why): forced by ``cluster.mode``, else partitioned when a Parquet input's estimated
    in-process peak exceeds half the memory this process may use."""
    if mode != "auto":
        return mode == "partitioned", f"cluster.mode is {mode}"
    if not isinstance(data, str) or data.startswith("synthetic:"):
        return False, "the rows are already in this process"
    try:
        import fsspec
        import psutil

        from skuflow.data.ingest import _format_of

        if _format_of(data) != "parquet":
            return False, "only Parquet inputs are read partition by partition"
        fs, path = fsspec.core.url_to_fs(data)
        on_disk = fs.du(path) if fs.isdir(path) else fs.size(path)
        budget = psutil.virtual_memory().available / 2
    except Exception as exc:  # an unreadable size: the in-process path reports the real problem
        return False, f"the input's size could not be read ({exc.__class__.__name__})"
    need = on_disk * IN_PROCESS_BYTES_PER_DISK_BYTE
    verdict = "partitioned" if need > budget else "in process"
    return need > budget, (f"{on_disk / 2**20:,.0f} MiB of Parquet would need about {need / 2**30:,.1f} GiB in one "
                           f"process, against {budget / 2**30:,.1f} GiB (half the memory available): {verdict}")


def _on_cluster(task: Task, url: str, config: TrainConfig, settings: Any,
                step: Any) -> tuple[PartitionedFit, tuple[Any, ...], dict[str, Any], dict[str, float]]:
    """Fit and score on the cluster (``SKUFLOW_DASK_SCHEDULER``'s, or a local one started and closed here):
    the fit, the held-out truth, labels, confidences and sample, the workers and their peak memory."""
    from skuflow.cluster import start_client

    client, cluster = start_client(settings.dask_scheduler, config.cluster.workers,
                                   preload=[type(task).__module__], memory_limit=config.cluster.worker_memory)
    try:
        workers = client.scheduler_info()["workers"]
        step(f"cluster: {len(workers)} workers")
        fitted = fit_partitioned(task, url, config, client, step, config.cluster.partition_rows)
        t_eval = time.perf_counter()
        scored = score_partitioned(task, config, client, fitted, step)
        fitted.seconds["evaluate"] = time.perf_counter() - t_eval
        return fitted, scored, workers, worker_peaks(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def train_partitioned(task: Task, url: str, config: TrainConfig, settings: Any, step: Any) -> Any:
    """The partitioned path end to end: fit, evaluate and register as ``fit_and_register`` does, then the
    champion gate on a sample of the held-out rows. Returns a ``TrainResult``."""
    from skuflow.monitoring.novelty import NoveltyDetector
    from skuflow.registry.store import RegistryStore
    from skuflow.training.config import ModelConfig
    from skuflow.training.train import (
        Candidate,
        PreparedData,
        check_and_promote_rows,
        record_version,
        reference_profile,
        result_of,
    )

    started = time.perf_counter()
    if task.chunked_kind is None or not isinstance(task, ClassificationTask):
        raise ConfigError(f"task '{task.name}' has no model family that trains partition by partition; "
                          "set cluster.mode: in_process")
    if not config.model.kind:
        config = config.model_copy(update={"model": ModelConfig(kind=task.chunked_kind,
                                                                params=config.model.params)})
        step(f"model: {task.chunked_kind}, chosen because the partitioned path trains a family that learns "
             "from chunks of rows")
    fitted, (truth, labels, confidences, held), workers, peaks = _on_cluster(task, url, config, settings, step)
    classes = [str(c) for c in fitted.classes]
    metrics, artifacts = task.evaluate_labels(truth, labels, confidences, classes)
    metrics |= {"fit_seconds": fitted.seconds["fit"], "cluster.workers": float(len(workers)),
                "cluster.worker_peak_gib.max": max(peaks.values(), default=0.0),
                **{f"seconds.{k}": v for k, v in fitted.seconds.items()}}
    held_preds = task.predict(fitted.model, held, top_k=1)
    seen = seen_rows(fitted)
    digest = _digest(seen, len(truth))
    report = fitted.scan.report
    report.relabelled = fitted.relabel
    store = RegistryStore(settings)
    model_name = config.model_name or settings.model_name(task.name)
    with store.run(task.name, run_name=f"{model_name}-{digest[:8]}") as run:
        run.set_tags({"skuflow.task": task.name, "dataset_digest": digest, "source": url,
                      "skuflow.model_choice": f"{config.model.kind} (partitioned)", "skuflow.path": "partitioned"})
        run.log_params({"model.kind": config.model.kind, "model.params": config.model.params,
                        "features": config.features, "split": "input digest", "cluster": config.cluster.model_dump(),
                        "rows.train": int(sum(fitted.scan.counts.values())), "rows.test": len(truth),
                        "partitions": len(fitted.parts), "validation.rejected": report.rows_rejected})
        run.log_artifacts({"validation_report.json": report.to_dict() | {"folded_labels": report.relabelled},
                           "cluster.json": {"workers": {a: {"memory_limit": w.get("memory_limit"),
                                                            "peak_gib": peaks.get(a)} for a, w in workers.items()},
                                            "seconds": fitted.seconds}})
        sample = pd.concat(fitted.scan.sample, ignore_index=True)
        version = record_version(run, store, task, fitted.model, model_name, config, digest, metrics, artifacts,
                                 reference_profile(task, held, held_preds, fitted.model),
                                 NoveltyDetector.for_model(task, fitted.model, sample, held), seen)
    candidate = Candidate(run.run_id, model_name, version, metrics,
                          {"train": int(sum(fitted.scan.counts.values())), "test": len(truth)}, fitted.model)
    decision = check_and_promote_rows(task, candidate, held, seen, settings)
    prepared = PreparedData(held, report, url, digest)
    return result_of(candidate, decision, prepared, settings, time.perf_counter() - started)


def _digest(seen: SeenRows, held_out_rows: int) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    h.update(np.sort(seen.rows).tobytes())
    h.update(str(held_out_rows).encode())
    return h.hexdigest()
