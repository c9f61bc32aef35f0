"""Soak: `skuflow serve` (one worker, 127.0.0.1) under wrk at concurrency 64 on /v1/category/predict for two
minutes back to back. Reports errors, the server's resident memory at the end of each minute (growth between
them is what a leak looks like), and whether every answered request reached the prediction log.

    .venv/bin/python benchmarks/soak.py [--minutes 2] [--connections 64] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from serving import VENV_BIN, free_port, need_wrk, wait_http  # noqa: E402

PRODUCT = {"title": "Kovari wireless headphones - noise cancelling", "description": "Long battery life.",
           "brand": "Kovari", "seller_id": "S10042", "price": 129.0}


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def _ms(text: str | None) -> float:
    if not text:
        return float("nan")
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_minute(url: str, connections: int, seconds: int) -> dict:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f"wrk.method = 'POST'\nwrk.body = '{json.dumps(PRODUCT)}'\n"
                 "wrk.headers['Content-Type'] = 'application/json'\n")
    script.close()
    # a 10 s timeout: wrk's default 2 s would count a slow answer as an error and hide how slow it was
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s",
                          script.name, url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(script.name)

    def number(pattern: str) -> str | None:
        found = re.search(pattern, out, re.M)
        return found.group(1) if found else None

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    failed = int(number(r"Non-2xx or 3xx responses: (\d+)") or 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"requests": int(number(r"(\d+) requests in") or 0), "errors": failed,
            "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)") or 0),
            "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True))
            if sock else {},
            "max_ms": _ms(number(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)")),
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
            "rps": float(number(r"Requests/sec:\s+([\d.]+)") or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    need_wrk()
    with tempfile.TemporaryDirectory(prefix="skuflow-soak-") as tmp:
        env = {**os.environ, "SKUFLOW_HOME": tmp, "HF_HUB_OFFLINE": "1"}
        subprocess.run([str(VENV_BIN / "skuflow"), "train", "category", "--data", "synthetic:5000", "--json"],
                       env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        minutes = []
        try:
            wait_http(base + "/ready")
            for _ in range(args.minutes):
                result = wrk_minute(base + "/v1/category/predict", args.connections, 60)
                result["rss_mb"] = rss_mb(server.pid)
                minutes.append(result)
        finally:
            server.send_signal(signal.SIGTERM)  # a clean stop drains the prediction log's queue
            server.wait(timeout=60)
        with sqlite3.connect(Path(tmp) / "predictions.db") as con:
            logged = con.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
    answered = sum(m["requests"] - m["errors"] for m in minutes)
    growth = minutes[-1]["rss_mb"] / minutes[0]["rss_mb"] - 1
    print_table(f"Soak: concurrency {args.connections}, one worker, {args.minutes} x 60 s",
                ["minute", "requests", "errors", "req/s", "p99 ms", "max ms", "RSS MB"],
                [[i + 1, m["requests"], m["errors"], f"{m['rps']:.0f}", f"{m['p99_ms']:.1f}", f"{m['max_ms']:.0f}",
                  f"{m['rss_mb']:.0f}"]
                 for i, m in enumerate(minutes)])
    print(f"RSS growth minute 1 -> {args.minutes}: {growth:+.1%}; answered {answered:,}, in the prediction log "
          f"{logged:,}")
    if args.json:
        print(json.dumps({"minutes": minutes, "rss_growth": growth, "answered": answered, "logged": logged}))


if __name__ == "__main__":
    main()
