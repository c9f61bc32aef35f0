"""What a shadow experiment costs the champion: `skuflow serve` under wrk at concurrency 8 (127.0.0.1, bounded
duration), alternating rounds without an experiment and with a shadow of a second version mirroring every
request. Reports requests/s, p50 and p99 per arm, the p99 added, and how many shadow rows were scored or
dropped.

    .venv/bin/python benchmarks/shadow.py [--duration 10] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, print_table  # noqa: E402
from serving import VENV_BIN, free_port, need_wrk, wait_http, wrk  # noqa: E402

KEY = "bench-admin"


def _metric(text: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([\d.e+]+)$", text, re.M))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    need_wrk()
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import train

    home = Path(tempfile.mkdtemp(prefix="skuflow-shadow-"))
    settings = Settings(home=home)
    config = load_config(ROOT / "configs" / "synthetic.yaml")
    train("category", "synthetic:5000:0", config, settings)
    v2 = train("category", "synthetic:5000:1", config, settings.model_copy(update={"promotion_min_rows": 10**9}))
    record = get_task("category").example_records(1)[0]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SKUFLOW_HOME": str(home), "SKUFLOW_ADMIN_API_KEY": KEY, "SKUFLOW_RELOAD_INTERVAL": "1"}
    proc = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    rounds: dict[str, list[dict]] = {"champion alone": [], "with shadow": []}
    try:
        wait_http(base + "/ready")
        url = base + "/v1/category/predict"
        wrk(url, record, args.concurrency, 3)  # warm-up
        for _ in range(args.rounds):
            rounds["champion alone"].append(wrk(url, record, args.concurrency, args.duration))
            print("champion alone", rounds["champion alone"][-1], file=sys.stderr, flush=True)
            r = httpx.post(base + "/v1/category/experiment", headers={"X-API-Key": KEY},
                           json={"challenger": v2.version, "mode": "shadow", "traffic": 1.0})
            r.raise_for_status()
            rounds["with shadow"].append(wrk(url, record, args.concurrency, args.duration))
            print("with shadow", rounds["with shadow"][-1], file=sys.stderr, flush=True)
            httpx.delete(base + "/v1/category/experiment", headers={"X-API-Key": KEY}).raise_for_status()
            time.sleep(1.5)  # the shadow queue drains
        metrics = httpx.get(base + "/metrics").text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)

    agreed = _metric(metrics, "skuflow_experiment_shadow_agreement_total")
    dropped = _metric(metrics, "skuflow_experiment_shadow_dropped_total")
    summary = {arm: {"rps": median(r["rps"] for r in rs), "p50_ms": median(r["p50_ms"] for r in rs),
                     "p99_ms": median(r["p99_ms"] for r in rs), "errors": sum(r["errors"] for r in rs)}
               for arm, rs in rounds.items()}
    added = summary["with shadow"]["p99_ms"] - summary["champion alone"]["p99_ms"]
    print_table(f"shadow overhead, one uvicorn worker, wrk c={args.concurrency}",
                ["arm", "requests/s", "p50 ms", "p99 ms", "errors"],
                [[arm, f"{s['rps']:,.0f}", f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}", str(s["errors"])]
                 for arm, s in summary.items()])
    print(f"  shadow added {added:+.2f} ms to the champion's p99 at concurrency {args.concurrency} (median of "
          f"{args.rounds} alternating rounds of {args.duration}s); shadow rows scored {agreed:,.0f}, "
          f"dropped {dropped:,.0f}")
    print(json.dumps({"concurrency": args.concurrency, "rounds": args.rounds, "duration_s": args.duration,
                      **{k.replace(" ", "_"): v for k, v in summary.items()}, "p99_added_ms": added,
                      "shadow_scored": agreed, "shadow_dropped": dropped}))


if __name__ == "__main__":
    main()
