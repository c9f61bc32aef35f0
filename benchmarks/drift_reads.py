"""What a drift read costs on a big log: a 1,000,000-row SQLite prediction log of a trained category
champion, summarized once (the summarizer's work, timed), then `window_drift` at windows of 10 to 10,000
read from the summaries.

    .venv/bin/python benchmarks/drift_reads.py [--rows 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import orjson

    from skuflow.data.generate import generate_catalogue, listing_records
    from skuflow.monitoring.drift import DriftPolicy
    from skuflow.monitoring.prediction_log import PredictionLog
    from skuflow.monitoring.summaries import summarize_served
    from skuflow.monitoring.window import window_drift
    from skuflow.registry.store import RegistryStore
    from skuflow.serving.runtime import ModelHolder
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.train import train

    settings = Settings(home=Path(tempfile.mkdtemp(prefix="skuflow-drift-reads-")))
    version = train("category", "synthetic:3000:0", None, settings).version
    plog = PredictionLog(str(settings.prediction_log_url))
    fields = ["title", "description", "brand", "seller_id", "price"]
    feats = [orjson.dumps(r).decode() for r in listing_records(generate_catalogue(5000, seed=3)[fields])]
    now = time.time()
    for start in range(0, args.rows, 50_000):
        rows = [(f"e{i}", f"r{i}", "category", version, feats[i % 5000], "electronics", 0.8, 2.0, "online",
                 now + i * 1e-3, None, None, None) for i in range(start, min(args.rows, start + 50_000))]
        plog._store(rows)  # the writer thread's own insert, without its queue
    task = get_task("category")
    loaded = ModelHolder().load_champion(RegistryStore(settings), task)
    t = time.perf_counter()
    summarized = summarize_served(plog, loaded)
    summary_s = time.perf_counter() - t
    reads = {}
    for window in (10, 1000, 10_000):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            window_drift(task, plog, loaded.profile, loaded.version, window, DriftPolicy(), novelty=loaded.novelty)
            plog.live_score("category", task.output, window)
            times.append(time.perf_counter() - t)
        reads[window] = 1e3 * sorted(times)[len(times) // 2]
        print(f"window {window:>6,}: drift read {reads[window]:.0f} ms (median of 5)")
    print(f"log {args.rows:,} rows; summarized the newest {summarized:,} in {summary_s:.1f} s "
          f"({1e3 * summary_s / max(1, summarized):.2f} ms a row)")
    print(json.dumps({"rows": args.rows, "summarized": summarized, "summary_s": summary_s,
                      "read_ms": {str(k): v for k, v in reads.items()}}))


if __name__ == "__main__":
    main()
