"""What logging a prediction adds to a request: the scoring path without the prediction log, with it, and
with it behind its crash-safe journal, 20,000 single-row predictions each, interleaved so that all see the
same machine state.

    .venv/bin/python benchmarks/prediction_log.py [--json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402


def main() -> None:
    from skuflow.data.generate import generate_catalogue, listing_records
    from skuflow.monitoring.metrics import ApiMetrics
    from skuflow.monitoring.prediction_log import PredictionLog
    from skuflow.registry.store import RegistryStore
    from skuflow.serving.runtime import LoadedModel
    from skuflow.serving.scoring import Scorer
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.train import train

    home = Path(tempfile.mkdtemp(prefix="skuflow-plog-bench-"))
    settings = Settings(home=home)
    result = train("category", "synthetic:3000:0", None, settings)
    task = get_task("category")
    model = RegistryStore(settings).load_model("category", result.version)
    loaded = LoadedModel(task, "category", result.version, None, None, model, time.time())
    plog = PredictionLog(str(settings.prediction_log_url))
    journaled = PredictionLog(f"sqlite:///{home / 'journaled.db'}", journal_dir=home / "journal")
    scorers = {"without log": Scorer(ApiMetrics(), None), "with log": Scorer(ApiMetrics(), plog),
               "with log + journal": Scorer(ApiMetrics(), journaled)}
    records = generate_catalogue(2000, seed=5)[["title", "description", "brand", "seller_id", "price"]]
    records = listing_records(records)
    n = 20_000
    times: dict[str, list[float]] = {name: [] for name in scorers}
    order = list(scorers.items())
    for i in range(n):
        rec = [records[i % len(records)]]
        for name, scorer in order[i % 3:] + order[:i % 3]:
            t = time.perf_counter()
            scorer.score(task, loaded, rec, 3, f"r{i}", t)
            times[name].append(time.perf_counter() - t)
    t = time.perf_counter()
    plog.close()
    drain = time.perf_counter() - t
    journaled.close()
    stats = {k: {"p50_ms": float(np.percentile(v, 50) * 1e3), "p99_ms": float(np.percentile(v, 99) * 1e3)}
             for k, v in times.items()}
    added = stats["with log"]["p99_ms"] - stats["without log"]["p99_ms"]
    journal_added = stats["with log + journal"]["p99_ms"] - stats["with log"]["p99_ms"]
    print_table(f"{n:,} single-row predictions each", ["path", "p50 ms", "p99 ms"],
                [[k, f"{v['p50_ms']:.3f}", f"{v['p99_ms']:.3f}"] for k, v in stats.items()])
    print(f"added p99: {added:.3f} ms, and by the journal {journal_added:.3f} ms; "
          f"rows written {plog.written:,}, dropped {plog.dropped}; "
          f"queue drained {drain:.2f}s after the last request")
    print(json.dumps({"stats": stats, "added_p99_ms": added, "journal_added_p99_ms": journal_added,
                      "written": plog.written, "dropped": plog.dropped}))


if __name__ == "__main__":
    main()
