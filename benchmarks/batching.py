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
MAX_BATCH = 32  # SKUFLOW_MAX_BATCH_SIZE's default
LOAD = 0.5  # the paced runs offer about this share of the batched capacity
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


def full_batch_ms(home: Path, photo: bytes, rows: int = MAX_BATCH, calls: int = 10) -> float:
    """Median time of one scoring call on a full batch (``rows`` photos) of the served champion, in a fresh
    process that loaded it as the server does: with at most ``rows`` callers, no request has more rows
    ahead of it and its own than one full batch."""
    out = subprocess.run([sys.executable, __file__, "--full-batch", str(home), base64.b64encode(photo).decode(),
                          str(rows), str(calls)], capture_output=True, text=True, timeout=600, check=True,
                         env={**os.environ, "SKUFLOW_HOME": str(home)}).stdout
    return float(out.strip().splitlines()[-1])


def _full_batch(home: str, photo_b64: str, rows: str, calls: str) -> None:
    import statistics
    import time

    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task

    task, settings = get_task("returns"), Settings(home=Path(home))
    store = RegistryStore(settings)
    champion = store.champion(settings.model_name("returns"))
    assert champion is not None, "no returns champion"
    model = store.load_model(settings.model_name("returns"), champion.version)
    records = [{"image": base64.b64decode(photo_b64)} for _ in range(int(rows))]
    task.predict(model, records)  # warm-up: kernels, allocator
    times = []
    for _ in range(int(calls)):
        started = time.perf_counter()
        task.predict(model, records)
        times.append(time.perf_counter() - started)
    print(statistics.median(times) * 1000)


def measure(home: Path, batching: str, body: dict, connections: int, seconds: int, pause_ms: int = 0) -> dict:
    port = free_port()
    env = {**os.environ, "SKUFLOW_HOME": str(home), "SKUFLOW_BATCHING": batching}
    server = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/ready", timeout=180)
        wrk(base + "/v1/returns/predict", body, connections, 3)  # warm-up: threads, kernels, allocator
        out = wrk(base + "/v1/returns/predict", body, connections, seconds, pause_ms)
        metrics = httpx.get(base + "/metrics").text
        out["batch_rows"] = mean_of(metrics, "skuflow_batch_rows")
        out["scoring_ms"] = 1000 * (mean_of(metrics, "skuflow_model_seconds") or 0.0)  # per scoring call
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--full-batch":
        _full_batch(*sys.argv[2:6])
        return
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
            on = measure(home, "on", body, args.connections, args.seconds)
            # Flat out, c callers wait c / rate on average whatever the batcher does (Little's law): the
            # latency bound is read at half the batched capacity, each caller pausing between requests.
            pause = round(1000 * args.connections / (LOAD * on["rps"]))
            results[which] = {"on": on, "off": measure(home, "off", body, args.connections, args.seconds),
                              "on, paced": measure(home, "on", body, args.connections, args.seconds, pause),
                              "off, paced": measure(home, "off", body, args.connections, args.seconds, pause),
                              "pause_ms": pause}
            results[which]["full_batch_ms"] = full_batch_ms(home, one_photo(which))  # type: ignore[assignment]
    rows = []
    for which, by_mode in results.items():
        for mode in ("off", "on", "off, paced", "on, paced"):
            r = by_mode[mode]
            shown = f"{mode} {by_mode['pause_ms']} ms" if "paced" in mode else mode
            rows.append([which, shown, f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                         f"{r['batch_rows']:.1f}" if r["batch_rows"] else "-", f"{r['scoring_ms']:.1f}", r["errors"]])
        by_mode["speedup"] = by_mode["on"]["rps"] / by_mode["off"]["rps"]  # type: ignore[assignment]
    print_table(f"returns, one photo per request, wrk c={args.connections} flat out or paced (each connection "
                f"pauses 0 to twice the given ms between requests), {args.seconds} s, 1 worker",
                ["model", "batching", "req/s", "p50 ms", "p99 ms", "rows per call", "scoring ms per call", "errors"],
                rows)
    for which, by_mode in results.items():
        paced, full = by_mode["on, paced"], by_mode["full_batch_ms"]
        # With c callers and batches of up to c rows, no request has more rows ahead of it and its own than one
        # full batch: below saturation its latency is at most the window plus one full batch's scoring (split
        # over the calls in flight), plus the HTTP work of its own request.
        bound = MAX_WAIT_MS + full
        by_mode["p99_bound_ms"] = bound
        print(f"{which}: batching on answers {by_mode['speedup']:.2f}x the requests of batching off flat out; at "
              f"{paced['rps']:.0f} req/s (paced) p99 {paced['p99_ms']:.1f} ms with batching against max wait + "
              f"one full batch's scoring ({MAX_BATCH} rows, {full:.1f} ms in process) = {bound:.1f} ms; without "
              f"batching {by_mode['off, paced']['p99_ms']:.1f} ms")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
