"""Bounded work per request: how fast `skuflow serve` (one worker, 127.0.0.1) refuses bodies built to be
expensive, and what a well-behaved caller's single-row predict sees meanwhile.

Three bodies: an 8 MiB CSV of 100,000 columns to /invocations, a JSON body nested 10,000 deep to
/v1/category/predict, and a record with 100,000 fields to /invocations. Another process sends them round-robin
for the whole hostile phase, as a caller elsewhere would; meanwhile one client sends single-row predicts back
to back, and its p99 is compared with a phase of the same length without hostile traffic.

    .venv/bin/python benchmarks/hostile.py [--seconds 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from serving import VENV_BIN, free_port, wait_http  # noqa: E402

PRODUCT = {"title": "Kovari wireless headphones - noise cancelling", "brand": "Kovari", "price": 129.0}


def bodies() -> dict[str, tuple[str, bytes, str]]:
    wide = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n"
    wide += b"x," * ((8 * 1024 * 1024 - 2 * len(wide)) // 2)  # pad to ~8 MiB with one long row
    wide = wide[: 8 * 1024 * 1024 - 1] + b"\n"
    deep = b'{"title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    fields = json.dumps({"dataframe_records": [{f"f{i}": i for i in range(100_000)}]}).encode()
    return {"CSV, 100,000 columns, 8 MiB": ("/invocations", wide, "text/csv"),
            "JSON nested 10,000 deep": ("/v1/category/predict", deep, "application/json"),
            "record of 100,000 fields": ("/invocations", fields, "application/json")}


def predict_loop(base: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=10) as c:
        while not stop.is_set():
            t = time.perf_counter()
            r = c.post("/v1/category/predict", json=PRODUCT)
            out.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text


def hostile_caller(base: str, seconds: float, out: multiprocessing.Queue) -> None:
    """The bodies round-robin for ``seconds``, each answer timed; the figures go back through ``out``."""
    sent = bodies()
    times: dict[str, list[float]] = {name: [] for name in sent}
    codes: dict[str, set[int]] = {name: set() for name in sent}
    deadline = time.perf_counter() + seconds
    with httpx.Client(base_url=base, timeout=30) as c:
        while time.perf_counter() < deadline:
            for name, (route, body, ctype) in sent.items():
                t = time.perf_counter()
                r = c.post(route, content=body, headers={"content-type": ctype})
                times[name].append(time.perf_counter() - t)
                codes[name].add(r.status_code)
    out.put({name: {"bytes": len(sent[name][1]), "status": sorted(codes[name]), "sent": len(t_),
                    "median_ms": 1000 * float(np.median(t_)), "p99_ms": 1000 * float(np.percentile(t_, 99)),
                    "max_ms": 1000 * float(np.max(t_))}
             for name, t_ in times.items()})


def timed_predicts(base: str, seconds: float, hostile: bool) -> tuple[list[float], dict]:
    """Single-row predict latencies for ``seconds``, with the hostile caller running beside them or not."""
    latencies: list[float] = []
    stop = threading.Event()
    worker = threading.Thread(target=predict_loop, args=(base, stop, latencies))
    refusals: dict = {}
    if hostile:
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no state shared with this one
        queue = spawn.Queue()
        caller = spawn.Process(target=hostile_caller, args=(base, seconds, queue))
        caller.start()
        time.sleep(1.0)  # the spawned interpreter imports before it sends
    worker.start()
    time.sleep(seconds)
    stop.set()
    worker.join()
    if hostile:
        refusals = queue.get(timeout=60)
        caller.join()
    return latencies, refusals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1"})
    with tempfile.TemporaryDirectory(prefix="skuflow-hostile-") as tmp:
        env = {**os.environ, "SKUFLOW_HOME": tmp}
        subprocess.run([str(VENV_BIN / "skuflow"), "train", "category", "--data", "synthetic:3000", "--json"],
                       env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base + "/ready")
            calm, _ = timed_predicts(base, args.seconds, hostile=False)
            busy, refusals = timed_predicts(base, args.seconds, hostile=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    p99 = {k: 1000 * float(np.percentile(v, 99)) for k, v in (("calm", calm), ("beside hostile bodies", busy))}
    print_table(f"Hostile bodies against one worker ({args.seconds:.0f} s, round-robin from another process)",
                ["body", "size", "sent", "status", "median ms", "p99 ms", "max ms"],
                [[k, f"{v['bytes']:,}", v["sent"], v["status"], f"{v['median_ms']:.1f}", f"{v['p99_ms']:.1f}",
                  f"{v['max_ms']:.1f}"]
                 for k, v in refusals.items()])
    print(f"single-row predict p99: {p99['calm']:.1f} ms alone, {p99['beside hostile bodies']:.1f} ms beside the "
          f"hostile bodies ({len(calm)} and {len(busy)} requests)")
    if args.json:
        print(json.dumps({"refusals": refusals, "predict_p99_ms": p99, "predicts": [len(calm), len(busy)]}))


if __name__ == "__main__":
    main()
