"""Prefect 3 flows that wire the pipeline steps. They run in-process with no server to start
(Prefect's ephemeral mode) or on a schedule under `skuflow flow serve`."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import date
from typing import Any

from filelock import FileLock, Timeout
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from skuflow.errors import SkuflowError
from skuflow.flows import steps
from skuflow.settings import Settings, get_settings


class FlowBusyError(SkuflowError):
    status_code = 409
    error_code = "flow_busy"


@contextmanager
def one_active_run(settings: Settings, name: str):
    """At most one active run per pipeline and task on this SKUFLOW_HOME (deployments add a server-side
    concurrency limit of 1 on top)."""
    locks = settings.ensure_home() / "locks"
    locks.mkdir(exist_ok=True)
    lock = FileLock(str(locks / f"{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise FlowBusyError(f"Another '{name}' run is active on {settings.home}") from exc
    try:
        yield
    finally:
        lock.release()


# I/O steps retry: a flaky bucket or database should not fail the night's run.
_generate = task(name="generate-data", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)(steps.generate_data)
_version = task(name="save-and-version-data", retries=2, retry_delay_seconds=2,
                cache_policy=NO_CACHE)(steps.save_and_version_data)
_train = task(name="train-model", cache_policy=NO_CACHE)(steps.train_model)
_gate = task(name="check-and-register", retries=1, retry_delay_seconds=2,
             cache_policy=NO_CACHE)(steps.check_and_register)
_summary = task(name="pipeline-summary", cache_policy=NO_CACHE)(steps.pipeline_summary)


@flow(name="skuflow-train", log_prints=False)
def train_flow(task_name: str | None = None, data: str | None = None, config_path: str | None = None) -> dict:
    """generate/ingest -> validate + version -> train + register -> champion gate -> summary
    (``task_name`` defaults to ``SKUFLOW_DEFAULT_TASK``)."""
    settings = get_settings()
    task_name = task_name or settings.default_task
    log = get_run_logger()
    started = time.time()
    with one_active_run(settings, f"train-{task_name}"):
        raw = _generate(data or settings.train_data, settings)
        version = _version(task_name, raw["raw_path"], config_path, settings)
        log.info("dataset %s: %s rows (%s rejected)", version["digest"], version["rows"],
                 version["validation"]["rows_rejected"])
        candidate = _train(task_name, version["dataset_path"], config_path, settings)
        gate = _gate(task_name, version["dataset_path"], config_path, candidate, settings)
        summary = _summary(task_name, raw, version, candidate, gate, started)
    verdict = "promoted" if summary["promoted"] else "kept champion"
    log.info("%s v%s: %s (champion v%s -> v%s): %s", task_name, candidate["version"], verdict,
             summary["champion_before"], summary["champion_after"], summary["reason"])
    return summary


@flow(name="skuflow-batch", log_prints=False)
def batch_flow(task_name: str | None = None, input_url: str | None = None, output_url: str | None = None,
               scheduler: str | None = None) -> dict[str, Any]:
    """Nightly scoring of the catalogue with the champion into a dated Parquet dataset."""
    from skuflow.batch.score import run_batch

    settings = get_settings()
    task_name = task_name or settings.default_task
    log = get_run_logger()
    with one_active_run(settings, f"batch-{task_name}"):
        if input_url is None:  # the demo: tonight's synthetic catalogue
            input_url = _generate(settings.batch_input, settings)["raw_path"]
        output_url = output_url or f"{settings.batch_output or settings.home / 'batch'}/{task_name}/{date.today()}"
        score = task(name="score-catalogue", retries=1, cache_policy=NO_CACHE)(run_batch)
        result = score(task_name, input_url, output_url, settings, scheduler=scheduler or settings.dask_scheduler)
    log.info("%s rows scored by %s v%s at %.0f rows/s -> %s", result.rows, result.model_name,
             result.model_version, result.rows_per_s, result.output)
    return result.to_dict()
