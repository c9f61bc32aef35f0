"""Online experiments concluded by the mSPRT, simulated (no HTTP): 1,000 seeded experiments per scenario,
feedback rows split 50/50, the test read after every row; beside it, a fixed-horizon two-proportion
z-test peeked every 100 rows, on the same rows.

    .venv/bin/python benchmarks/experiments.py [--experiments 1000] [--rows 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402


def main() -> None:
    from skuflow.experiments.sequential import simulate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    for label, pa, pb, seed in (("A/A: both 0.80", 0.80, 0.80, 1), ("challenger 0.85 vs champion 0.80", 0.80,
                                                                       0.85, 2)):
        t = time.perf_counter()
        r = simulate(pa, pb, args.experiments, args.rows, seed=seed)
        rows.append({"scenario": label, **r, "seconds": round(time.perf_counter() - t, 1)})
    print_table(f"{args.experiments} experiments, up to {args.rows:,} feedback rows each",
                ["scenario", "mSPRT promoted", "median rows", "z-test peeked promoted", "median rows"],
                [[r["scenario"], f"{r['msprt_promoted']:.1%}", r["msprt_median_rows"],
                  f"{r['ztest_peeking_promoted']:.1%}", r["ztest_peeking_median_rows"]] for r in rows])
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
