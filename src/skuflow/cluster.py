"""Dask clients for skuflow's distributed work (batch scoring, tuning trials): an existing scheduler when
one is named, otherwise a local cluster of single-threaded worker processes forked from a preloaded
fork server."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from skuflow import allocator

# What a worker needs to unpickle and run a model, imported once in the fork server instead of once per
# worker (spawn re-imports all of it in every process: seconds of CPU on a small machine).
# The caller adds its task's module (``preload``).
FORKSERVER_PRELOAD = ["distributed", "numpy", "pandas", "pyarrow", "scipy.sparse", "sklearn.pipeline", "lightgbm"]


PASSED_ENV_PREFIXES = ("AWS_", "FSSPEC_", "GOOGLE_", "AZURE_", "SKUFLOW_")


def start_client(scheduler: str | None, n_workers: int | None, preload: Sequence[str] = (),
                 memory_limit: str | None = None):
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    # workers start with the allocator setting torch needs (and without Dask's 128 kB trim threshold,
    # which made every activation a fresh mmap: image scoring ran at half speed)
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ"), **allocator.ENVIRONMENT}
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver",
                          "distributed.nanny.pre-spawn-environ": environ}):
        from distributed.utils import get_mp_context

        # the fork server is a fresh single-threaded process, so forking from it is safe (unlike "fork")
        get_mp_context().set_forkserver_preload([*FORKSERVER_PRELOAD, *preload])
        # workers fork from a server that may predate this job: hand them the storage settings explicitly
        env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES)}
        cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.WARNING, env=env,
                               memory_limit=memory_limit or "auto")
    return Client(cluster), cluster


class BackgroundCluster:
    """Connects to the scheduler, or boots a local cluster, in a thread: the worker processes start
    while the caller plans partitions and loads the model."""

    def __init__(self, scheduler: str | None, n_workers: int | None, preload: Sequence[str] = ()) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future: Future = self._pool.submit(start_client, scheduler, n_workers, preload)

    def client(self) -> Any:
        return self._future.result()[0]

    def close(self) -> None:
        try:
            client, cluster = self._future.result()  # a start still in progress is waited for
        except Exception:  # a cluster that never started has nothing to close
            client, cluster = None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        self._pool.shutdown(wait=True)
