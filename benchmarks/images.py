"""Image tasks: training time and test accuracy for Fashion-MNIST (CNN from scratch) and the real
clothing photos (EfficientNet-Lite0 transfer), then batch scoring images/s against the network's raw
throughput on the same batch size (all 3,781 photos).

    python benchmarks/images.py [--only fmnist|photos|batch]

Each training runs the CLI exactly as a user would (`skuflow train returns ... --json`) in a fresh
SKUFLOW_HOME, so the times include reading, validation, evaluation and registration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SHARED, print_table

PHOTOS = SHARED / "clothing-photos"
BENCH_HOME = ROOT / ".skuflow" / "bench-images"


def train_cli(home: Path, data: str, config: str | None) -> dict:
    cmd = [str(Path(sys.executable).parent / "skuflow"), "train", "returns", "--data", data, "--json"]
    if config:
        cmd += ["--config", config]
    env = {**os.environ, "SKUFLOW_HOME": str(home)}
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    return result


def bench_batch(home: Path) -> list[list[object]]:
    import torch

    from skuflow.batch.score import run_batch
    from skuflow.images.decode import decode_many
    from skuflow.images.sources import list_images, read_bytes
    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings

    settings = Settings(home=home)
    # every photo of the set (train, validation, test: 3,781): a nightly job's size, not a test split's,
    # so each worker's one-off start (model load, kernel set-up per batch shape) weighs what it would
    out = tempfile.mkdtemp(prefix="skuflow-bench-batch-") + "/scored.parquet"
    res = run_batch("returns", str(PHOTOS), out, settings, n_workers=2, log_to_mlflow=False)
    champ = RegistryStore(settings).champion("returns")
    model = RegistryStore(settings).load_model(champ.name, champ.version)
    pixels = decode_many(read_bytes(list_images(str(PHOTOS / "test"))), model.size_, model.n_channels_)
    torch.set_num_threads(2)
    net = model.net_.eval()
    x = model._to_tensor(pixels)
    timings = {}
    for tta in (False, True):
        with torch.inference_mode(), model._autocast():
            net(x[:64])  # warm-up
            started = time.perf_counter()
            for i in range(0, len(x), 64):
                net(x[i:i + 64])
                if tta:
                    net(torch.flip(x[i:i + 64], dims=[3]))
            timings[tta] = len(x) / (time.perf_counter() - started)
    served = timings[bool(model.tta)]
    # the job's own clock starts before the cluster boots; per-image work is what compares with raw
    worker_rate = res.rows / res.compute_seconds * 2 if res.compute_seconds else 0.0
    return [
        ["batch job, end to end (2 workers, incl. cluster start)", f"{res.rows / res.seconds:,.1f}"],
        ["batch, read+decode+score+write per worker x 2", f"{worker_rate:,.1f}"],
        ["raw net(tensor), batch 64, one pass", f"{timings[False]:,.1f}"],
        ["raw net(tensor), batch 64, + mirror pass (as served)", f"{timings[True]:,.1f}"],
        ["batch (per-worker rate) / raw as served", f"{worker_rate / served:.0%}"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["fmnist", "photos", "batch"])
    args = parser.parse_args()
    rows = []
    if args.only in (None, "fmnist"):
        r = train_cli(BENCH_HOME / "fmnist", "fashion-mnist", None)
        rows.append(["Fashion-MNIST (cnn, from scratch)", r["metrics"]["accuracy"], r["metrics"]["macro_f1"],
                     f"{r['metrics']['fit_seconds'] / 60:.1f}", f"{r['wall_seconds'] / 60:.1f}",
                     "skuflow train returns --data fashion-mnist"])
    if args.only in (None, "photos", "batch") and not (args.only == "batch" and (BENCH_HOME / "photos").exists()):
        r = train_cli(BENCH_HOME / "photos", str(PHOTOS), "configs/clothing-photos.yaml")
        rows.append(["clothing photos (EfficientNet-Lite0 transfer)", r["metrics"]["accuracy"],
                     r["metrics"]["macro_f1"], f"{r['metrics']['fit_seconds'] / 60:.1f}",
                     f"{r['wall_seconds'] / 60:.1f}",
                     "skuflow train returns --data ../shared/data/clothing-photos "
                     "--config configs/clothing-photos.yaml"])
    if rows:
        print_table("image models: test split, 2 CPU cores", ["data", "accuracy", "macro-F1", "fit min",
                                                              "command min", "command"], rows)
    if args.only in (None, "batch"):
        print_table("batch scoring of all 3,781 clothing photos", ["what", "images/s"],
                    bench_batch(BENCH_HOME / "photos"))


if __name__ == "__main__":
    main()
