"""Explanations online: `POST /v1/category/explain?top=10` against `/predict` on the same champion, one
uvicorn worker, over loopback with wrk (bounded duration; 127.0.0.1 only), plus the in-process cost.

    .venv/bin/python benchmarks/explain.py [--duration 10] [--trees 150] [--json]

The champion is the demo recipe (configs/synthetic.yaml: LightGBM, 150 rounds) on 5,000 synthetic rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, print_table  # noqa: E402
from serving import VENV_BIN, free_port, need_wrk, wait_http, wrk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    need_wrk()
    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import train

    home = Path(tempfile.mkdtemp(prefix="skuflow-bench-explain-"))
    settings = Settings(home=home)
    config = load_config(ROOT / "configs" / "synthetic.yaml")
    config.model.params = {**config.model.params, "n_estimators": args.trees}
    result = train("category", "synthetic:5000:0", config, settings)
    task = get_task("category")
    record = task.example_records(1)[0]
    model = RegistryStore(settings).load_model(result.model_name, result.version)
    task.explain(model, record)  # the first call cuts the predicted class's trees out
    n = 500
    t = time.perf_counter()
    for _ in range(n):
        task.explain(model, record, top=10)
    in_process_ms = (time.perf_counter() - t) / n * 1000
    t = time.perf_counter()
    for _ in range(n):
        task.predict(model, [record])
    predict_ms = (time.perf_counter() - t) / n * 1000

    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port), "--workers", "1"],
                            env={**os.environ, "SKUFLOW_HOME": str(home)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    cases = {}
    try:
        wait_http(base + "/ready")
        routes = {"explain": "/v1/category/explain?top=10", "predict": "/v1/category/predict"}
        for conc in (1, args.concurrency):
            for name, route in routes.items():
                url = base + route
                wrk(url, record, conc, 2)  # warm-up
                cases[f"{name}_c{conc}"] = wrk(url, record, conc, args.duration)
                print(f"{name} c={conc}: {cases[f'{name}_c{conc}']}", file=sys.stderr, flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    rows = []
    for key, stats in cases.items():
        name, conc = key.rsplit("_c", 1)
        rows.append([f"/{name}", conc, f"{stats['rps']:.0f}", f"{stats['p50_ms']:.2f}", f"{stats['p99_ms']:.2f}",
                     stats["errors"], f"{in_process_ms if name == 'explain' else predict_ms:.3f}"])
    print_table(f"category v{result.version} (LightGBM, {args.trees} rounds), 1 worker, {args.duration}s per cell",
                ["route", "concurrency", "req/s", "p50 ms", "p99 ms", "errors", "in-process ms"], rows)
    print(json.dumps({"trees": args.trees, "concurrency": args.concurrency, "in_process_explain_ms": in_process_ms,
                      "in_process_predict_ms": predict_ms, **cases}))


if __name__ == "__main__":
    main()
