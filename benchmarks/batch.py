"""Batch scoring throughput against the in-process pipeline, and peak memory of every process.

Generates a synthetic catalogue (default 1,000,000 rows, Parquet), trains the category champion, then
  1. scores every row in this process with the pipeline's predict, one thread (rows/s per core);
  2. runs `skuflow batch` on the default local Dask cluster, sampling the RSS of the client and of
     every worker process while it runs.
Prints both throughputs, the ratio batch / (in-process x workers), and the peak memory per process.

    .venv/bin/python benchmarks/batch.py [--rows 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, print_table  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def watch_tree(pid: int, peaks: dict[int, tuple[str, int]], stop: threading.Event) -> None:
    import psutil

    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for p in procs:
            try:
                rss = p.memory_info().rss
                name = " ".join(p.cmdline()[1:4])[-60:]
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if rss > peaks.get(p.pid, ("", 0))[1]:
                peaks[p.pid] = (name, rss)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import pandas as pd
    from threadpoolctl import threadpool_limits

    from skuflow.data.generate import generate_catalogue
    from skuflow.data.ingest import write_table
    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import train

    work = Path(tempfile.mkdtemp(prefix="skuflow-batch-bench-"))
    try:
        settings = Settings(home=work / "home")
        result = train("category", "synthetic:5000:0", load_config(ROOT / "configs" / "synthetic.yaml"), settings)
        t = time.perf_counter()
        catalogue = generate_catalogue(args.rows, seed=99)
        src = str(work / "catalogue.parquet")
        write_table(catalogue, src)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.0f}s", file=sys.stderr)

        # 1. in-process, one thread: the per-core reference
        model = RegistryStore(settings).load_model("category", result.version)
        task = get_task("category")
        frame = pd.read_parquet(src)
        del catalogue
        with threadpool_limits(limits=1):
            t = time.perf_counter()
            for start in range(0, len(frame), 100_000):
                task.predict(model, frame.iloc[start:start + 100_000], top_k=1)
            inproc_s = time.perf_counter() - t
        inproc_rps = len(frame) / inproc_s
        del frame
        print(f"in-process: {inproc_rps:,.0f} rows/s", file=sys.stderr)

        # 2. the batch command on the local cluster, every process's memory sampled
        out = str(work / "scored")
        env = {**os.environ, "SKUFLOW_HOME": str(settings.home)}
        proc = subprocess.Popen([str(VENV_BIN / "skuflow"), "batch", "category", "--input", src, "--output", out,
                                 "--workers", str(args.workers), "--json"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        peaks: dict[int, tuple[str, int]] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_tree, args=(proc.pid, peaks, stop), daemon=True)
        watcher.start()
        stdout, _ = proc.communicate(timeout=3600)
        stop.set()
        watcher.join()
        batch = json.loads(stdout.strip().splitlines()[-1])
        scored = pd.read_parquet(out, columns=["id"])
        assert len(scored) == args.rows and scored["id"].is_unique, "batch output is incomplete"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = batch["rows_per_s"] / (inproc_rps * args.workers)
    peak_gb = max(rss for _, rss in peaks.values()) / 2**30
    print_table(f"batch scoring, {args.rows:,} rows, {args.workers} local workers",
                ["measure", "value"],
                [["in-process predict, 1 thread (rows/s)", f"{inproc_rps:,.0f}"],
                 ["skuflow batch, wall clock incl. cluster start (rows/s)", f"{batch['rows_per_s']:,.0f}"],
                 ["ratio batch / (in-process x workers)", f"{ratio:.2f}"],
                 ["batch: time in partitions / (wall x workers)",
                  f"{batch['compute_seconds'] / (batch['seconds'] * args.workers):.2f}"],
                 ["peak RSS of any process (GB)", f"{peak_gb:.2f}"],
                 ["processes sampled", str(len(peaks))]])
    for pid, (name, rss) in sorted(peaks.items(), key=lambda kv: -kv[1][1])[:6]:
        print(f"  pid {pid}: {rss / 2**20:,.0f} MB  {name}", file=sys.stderr)
    print(json.dumps({"rows": args.rows, "workers": args.workers, "inprocess_rows_per_s": inproc_rps,
                      "batch_rows_per_s": batch["rows_per_s"], "ratio": ratio, "peak_rss_gb": peak_gb}))


if __name__ == "__main__":
    main()
