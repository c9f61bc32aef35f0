"""The registry unplugged under a serving worker: a real MLflow tracking server on 127.0.0.1 (SQLite backend,
artifacts served by it), `skuflow serve` polling it every second for its champion, one client sending
single-row predicts back to back. The MLflow server is killed (SIGKILL, every process of it) for the outage,
then started again on the same store; a version is promoted and the time until the worker serves it is timed.

Reports every answer during the outage (all must be 200 from the loaded champion) and the recovery.

    .venv/bin/python benchmarks/registry_outage.py [--outage 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import VENV_BIN, free_port, wait_http  # noqa: E402

PRODUCT = {"title": "Kovari wireless headphones - noise cancelling", "brand": "Kovari", "price": 129.0}


def start_mlflow(store: Path, port: int) -> subprocess.Popen:
    """Its own process group, so the kill takes the server and every worker it forked."""
    proc = subprocess.Popen([str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}", "--serve-artifacts",
                             "--artifacts-destination", str(store / "artifacts"), "--workers", "1"],
                            stdout=open(store / "mlflow.log", "a"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/health", timeout=180)
    return proc


def skuflow(env: dict, *args: str) -> dict:
    done = subprocess.run([str(VENV_BIN / "skuflow"), *args, "--json"], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def predict_loop(base: str, stop: threading.Event, out: list[tuple[float, int, str]]) -> None:
    with httpx.Client(base_url=base, timeout=10) as c:
        while not stop.is_set():
            try:
                r = c.post("/v1/category/predict", json=PRODUCT)
                out.append((time.monotonic(), r.status_code, r.headers.get("x-model-version", "")))
            except httpx.TransportError as exc:
                out.append((time.monotonic(), 0, type(exc).__name__))
            time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the MLflow server is down")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1"})
    with tempfile.TemporaryDirectory(prefix="skuflow-outage-") as tmp:
        store, port = Path(tmp), free_port()
        mlflow = start_mlflow(store, port)
        env = {**os.environ, "SKUFLOW_HOME": str(store / "home"), "SKUFLOW_MLFLOW_URI": f"http://127.0.0.1:{port}",
               "SKUFLOW_RELOAD_INTERVAL": "1"}
        skuflow(env, "train", "category", "--data", "synthetic:2000")
        skuflow(env, "train", "category", "--data", "synthetic:2000:7")
        skuflow(env, "models", "promote", "category", "1", "--reason", "outage benchmark: serve version 1")
        serve_port = free_port()
        server = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(serve_port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{serve_port}"
        answers: list[tuple[float, int, str]] = []
        stop = threading.Event()
        try:
            wait_http(base + "/ready")
            client = threading.Thread(target=predict_loop, args=(base, stop, answers))
            client.start()
            time.sleep(3)
            os.killpg(mlflow.pid, signal.SIGKILL)
            mlflow.wait()
            down = time.monotonic()
            time.sleep(args.outage)
            up_started = time.monotonic()
            mlflow = start_mlflow(store, port)
            up = time.monotonic()
            skuflow(env, "models", "promote", "category", "2", "--reason", "outage benchmark: the registry is back")
            promoted = time.monotonic()
            deadline = promoted + 120
            while not answers or answers[-1][2] != "2":
                if time.monotonic() > deadline:
                    raise TimeoutError("the version promoted after the outage was never served")
                time.sleep(0.05)
            served = next(t for t, _, v in answers if t >= promoted and v == "2")
            time.sleep(1)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=30)
            os.killpg(mlflow.pid, signal.SIGKILL)
    during = [(code, version) for t, code, version in answers if down <= t <= up]
    result = {
        "outage_s": round(up - down, 1), "mlflow_restart_s": round(up - up_started, 1),
        "answers_during_outage": len(during),
        "during_outage": {f"{code} v{version}": n for (code, version), n in Counter(during).items()},
        "non_200_total": sum(1 for _, code, _ in answers if code != 200),
        "served_promoted_version_after_s": round(served - promoted, 2), "answers_total": len(answers)}
    print(f"MLflow server down {result['outage_s']} s (restart took {result['mlflow_restart_s']} s): "
          f"{result['answers_during_outage']} predicts answered meanwhile as {result['during_outage']}; "
          f"{result['non_200_total']} non-200 in {result['answers_total']}; the version promoted once it was back "
          f"was served {result['served_promoted_version_after_s']} s after the promotion")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
