"""Category training partition by partition on a local Dask cluster, against the in-process path.

    .venv/bin/python benchmarks/cluster_training.py [--rows 5000000] [--sample-rows 1000000] [--leaves 3000]
                                                    [--workers 2] [--worker-memory 3GB] [--json]

Writes a synthetic catalogue of ``--rows`` products under a ``--leaves``-leaf tree as a Parquet folder
(``skuflow data generate --parts``), then runs ``skuflow train category`` as a user would, each in its own
process with the peak RSS of every process it starts (client, scheduler, nannies, workers):
1. the first ``--sample-rows`` rows in process (``cluster.mode: in_process``),
2. the same rows partitioned on a local cluster of ``--workers`` workers with ``--worker-memory`` each,
3. all rows partitioned on the same cluster.
The two sample runs compare accuracy (their held-out rows differ: a random stratified split against a split
by input digest, both 20%); time from the sample to all rows shows how the partitioned path grows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from scale import run_measured  # noqa: E402

VENV_BIN = Path(sys.executable).parent
PART_ROWS = 1_000_000  # rows per generated file


def generate(folder: Path, rows: int, leaves: int, depth: int) -> None:
    subprocess.run([str(VENV_BIN / "skuflow"), "data", "generate", "--rows", str(rows), "--leaves", str(leaves),
                    "--depth", str(depth), "--parts", str(max(1, rows // PART_ROWS)), "--out", str(folder),
                    "--json"], check=True, capture_output=True)


def train(data: str, config: dict, home: Path) -> dict:
    config_path = home.parent / f"config-{config['cluster']['mode']}-{abs(hash(data)) % 10**6}.yaml"
    config_path.write_text(yaml.safe_dump(config))
    out, seconds, peak, procs = run_measured([str(VENV_BIN / "skuflow"), "train", "category", "--data", data,
                                              "--config", str(config_path), "--json"],
                                             {**os.environ, "SKUFLOW_HOME": str(home)})
    result = json.loads(out.strip().splitlines()[-1])
    m = result["metrics"]
    return {"seconds": seconds, "peak_gib": peak, "processes": procs, "accuracy": m["accuracy"],
            "macro_f1": m["macro_f1"], "rows_train": result["rows"]["train"], "rows_test": result["rows"]["test"],
            "worker_peak_gib": m.get("cluster.worker_peak_gib.max"),
            "stages": {k: round(v, 1) for k, v in m.items() if k.startswith("seconds.")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--sample-rows", type=int, default=1_000_000)
    parser.add_argument("--leaves", type=int, default=3000)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="3GB")
    parser.add_argument("--skip", default="", help="comma-separated runs to skip: in_process,sample,all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="skuflow-cluster-"))
    data = work / "catalogue"
    generate(data, args.rows, args.leaves, args.depth)
    files = sorted(data.glob("*.parquet"))
    sample_files = files[: max(1, args.sample_rows // PART_ROWS)]
    sample = work / "sample"
    sample.mkdir()
    for f in sample_files:
        (sample / f.name).symlink_to(f)
    cluster = {"mode": "partitioned", "workers": args.workers, "worker_memory": args.worker_memory}
    runs = {"in_process": (str(sample), {"cluster": {"mode": "in_process"}}),
            "sample": (str(sample), {"cluster": cluster}),
            "all": (str(data), {"cluster": cluster})}
    results = {}
    for name, (path, config) in runs.items():
        if name in args.skip.split(","):
            continue
        results[name] = train(path, config, work / f"home-{name}")
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    rows = {"in_process": args.sample_rows, "sample": args.sample_rows, "all": args.rows}
    print_table(f"category, {args.leaves} leaves: in process vs partitioned on {args.workers} workers x "
                f"{args.worker_memory}", ["run", "rows", "seconds", "peak GiB (any process)", "worker peak GiB",
                                          "accuracy", "macro-F1"],
                [[name, rows[name], round(r["seconds"], 1), round(r["peak_gib"], 2), r["worker_peak_gib"] or "-",
                  r["accuracy"], r["macro_f1"]] for name, r in results.items()])
    if "sample" in results and "all" in results:
        print(f"time from {args.sample_rows:,} to {args.rows:,} rows: "
              f"{results['all']['seconds'] / results['sample']['seconds']:.2f}x")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
