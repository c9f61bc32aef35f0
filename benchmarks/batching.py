"""Adaptive batching of online image requests: `skuflow serve` (one worker) with batching off and on, wrk at
concurrency 32 sending one photo per request (JSON base64) to /v1/returns/predict, for two returns models:

- the Fashion-MNIST CNN (28 x 28 grey, `skuflow train returns --data fashion-mnist:3000`);
- EfficientNet-Lite0 on the clothing photos (224 x 224 colour). Serving cost does not depend on how well the
  head was fitted, so it trains with 1 view and 1 epoch to keep the benchmark short.

Reports req/s, p50 and p99 of each, the ratio, and the mean rows per scoring call from /metrics.

    .venv/bin/python benchmarks/batching.py [--seconds 15] [--connections 32] [--only fmnist|photos] [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, print_table  # noqa: E402
from serving import VENV_BIN, free_port, need_wrk, wait_http, wrk  # noqa: E402

PHOTOS = SHARED / "clothing-photos"
MAX_WAIT_MS = 5.0  # SKUFLOW_MAX_BATCH_WAIT_MS's default, which the servers here run with
FAST_PHOTOS = "model:\n  kind: efficientnet_lite0\n  params: {finetune_blocks: 3, views: 1, epochs: 1}\n"


def train(home: Path, data: str, config: str | None) -> None:
    cmd = [str(VENV_BIN / "skuflow"), "train", "returns", "--data", data, "--json"]
    if config:
        cmd += ["--config", config]
    subprocess.run(cmd, env={**os.environ, "SKUFLOW_HOME": str(home)}, check=True, capture_output=True)


def one_photo(which: str) -> bytes:
    if which == "photos":
        return next(iter(sorted((PHOTOS / "test").rglob("*.jpg")))).read_bytes()
    from skuflow.images.sources import read_images

    return read_images("fashion-mnist:1")["image"].iloc[0]


def mean_of(metrics: str, name: str) -> float | None:
    """The mean of a returns histogram on /metrics (its sum over its count)."""
    total = re.search(rf'^{name}_sum\{{task="returns"\}} ([\d.e+-]+)$', metrics, re.M)
    count = re.search(rf'^{name}_count\{{task="returns"\}} ([\d.e+-]+)$', metrics, re.M)
    return float(total.group(1)) / float(count.group(1)) if total and count and float(count.group(1)) else None


def measure(home: Path, batching: str, body: dict, connections: int, seconds: int) -> dict:
    port = free_port()
    env = {**os.environ, "SKUFLOW_HOME": str(home), "SKUFLOW_BATCHING": batching}
    server = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/ready", timeout=180)
        wrk(base + "/v1/returns/predict", body, connections, 3)  # warm-up: threads, kernels, allocator
        out = wrk(base + "/v1/returns/predict", body, connections, seconds)
        metrics = httpx.get(base + "/metrics").text
        out["batch_rows"] = mean_of(metrics, "skuflow_batch_rows")
        out["scoring_ms"] = 1000 * (mean_of(metrics, "skuflow_model_seconds") or 0.0)  # per scoring call
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=["fmnist", "photos"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    need_wrk()
    os.environ.update({"HF_HUB_OFFLINE": "1"})
    results: dict[str, dict] = {}
    for which in [args.only] if args.only else ["fmnist", "photos"]:
        with tempfile.TemporaryDirectory(prefix=f"skuflow-batching-{which}-") as tmp:
            home = Path(tmp) / "home"
            if which == "photos":
                (Path(tmp) / "fast.yaml").write_text(FAST_PHOTOS)
                train(home, str(PHOTOS), str(Path(tmp) / "fast.yaml"))
            else:
                train(home, "fashion-mnist:3000", None)
            body = {"image_base64": base64.b64encode(one_photo(which)).decode()}
            results[which] = {mode: measure(home, mode, body, args.connections, args.seconds)
                              for mode in ("off", "on")}
    rows = []
    for which, by_mode in results.items():
        for mode, r in by_mode.items():
            rows.append([which, mode, f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                         f"{r['batch_rows']:.1f}" if r["batch_rows"] else "-", f"{r['scoring_ms']:.1f}", r["errors"]])
        by_mode["speedup"] = by_mode["on"]["rps"] / by_mode["off"]["rps"]  # type: ignore[assignment]
    print_table(f"returns, one photo per request, wrk c={args.connections}, {args.seconds} s, 1 worker",
                ["model", "batching", "req/s", "p50 ms", "p99 ms", "rows per call", "scoring ms per call", "errors"],
                rows)
    for which, by_mode in results.items():
        on = by_mode["on"]
        # a request that never queued behind another batch waits at most the window, then one scoring call
        bound = MAX_WAIT_MS + on["scoring_ms"]
        print(f"{which}: batching on answers {by_mode['speedup']:.2f}x the requests of batching off; p99 "
              f"{on['p99_ms']:.1f} ms against max wait + one batch's scoring {bound:.1f} ms")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
