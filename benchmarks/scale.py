"""Train and serve the category model at catalogue scale: rows x leaf categories, fastText as the reference.

    .venv/bin/python benchmarks/scale.py [--rows 10000,100000,1000000] [--leaves 20,300,3000] [--depth 6]
                                         [--no-serve] [--no-fasttext] [--json]

For each (rows, leaves): a synthetic ragged tree (``skuflow data generate --leaves L --depth D``) is trained
with ``skuflow train category --data ... --json`` and no ``model.kind`` (the data picks the family), in its
own process, timed, with the peak RSS of every process it starts. fastText (``fasttext-wheel``, word bigrams,
25 epochs, 2 threads, title + description + brand) trains on the same split in its own process: softmax while
rows x leaves <= 10^8 (beyond, its softmax takes hours: 100,000 x 3,000 took 11 min), hierarchical softmax
above. Then ``skuflow serve --workers 1`` loads the champion (seconds to /ready) and wrk sends single rows at
c=8 (p50/p99). Needs wrk for serving (``make sysdeps``) and ``fasttext-wheel`` for the reference
(``make bench-scale`` installs it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from serving import free_port, need_wrk, wait_http, wrk  # noqa: E402

VENV_BIN = Path(sys.executable).parent
FASTTEXT_SOFTMAX_MAX_CELLS = 10**8


class PeakRSS:
    """Polls a process and its children; ``peak`` is the largest RSS any single one of them reached."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        import psutil

        self.root, self.every, self.peak, self.peaks = psutil.Process(pid), every, 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.peaks[p.pid] = max(self.peaks.get(p.pid, 0), rss)
                self.peak = max(self.peak, rss)
            time.sleep(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**30


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float, int]:
    """(stdout, seconds, peak GiB of any one process, processes seen)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rss = PeakRSS(proc.pid)
    out, _ = proc.communicate()
    peak = rss.stop()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed with {proc.returncode}: {out[-2000:]}")
    return out, time.perf_counter() - started, peak, len(rss.peaks)


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def fasttext_reference(data: str, split_dir: Path, loss: str) -> dict:
    """Writes the same split skuflow trains on, then trains and scores fastText in a fresh process."""
    from skuflow.tasks.base import get_task
    from skuflow.training.config import TrainConfig
    from skuflow.training.train import prepare, split_frame

    task, config = get_task("category"), TrainConfig()
    prepared = prepare(task, data, config)
    train_df, test_df = split_frame(prepared.frame, task.label, config.split, task.strata(prepared.frame))
    for name, frame in (("train", train_df), ("test", test_df)):
        with open(split_dir / f"{name}.txt", "w") as fh:
            for text, label in zip(_texts(frame), frame[task.label].astype(str), strict=True):
                fh.write(f"__label__{label.replace(' ', '_')} {text}\n")
    out, seconds, peak, _ = run_measured([sys.executable, __file__, "--fasttext-child", str(split_dir), loss],
                                         dict(os.environ))
    return json.loads(out.strip().splitlines()[-1]) | {"seconds": seconds, "peak_gib": peak, "loss": loss}


def _texts(frame) -> list[str]:
    cols = [frame[c].fillna("").astype(str) for c in ("title", "description", "brand")]
    return [" ".join(parts).replace("\n", " ").lower() for parts in zip(*cols, strict=True)]


def _fasttext_child(split_dir: str, loss: str) -> None:
    import fasttext

    model = fasttext.train_supervised(f"{split_dir}/train.txt", wordNgrams=2, epoch=25, thread=2, loss=loss,
                                      verbose=0)
    lines = Path(f"{split_dir}/test.txt").read_text().splitlines()
    labels = [line.split(" ", 1)[0] for line in lines]
    predicted = model.predict([line.split(" ", 1)[1] for line in lines])[0]
    right = sum(p[0] == t for p, t in zip(predicted, labels, strict=True))
    print(json.dumps({"accuracy": right / len(labels)}))


def serve_figures(home: Path, record: dict, duration: int) -> dict:
    port = free_port()
    env = {**os.environ, "SKUFLOW_HOME": str(home)}
    started = time.perf_counter()
    proc = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--port", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    rss = PeakRSS(proc.pid)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/ready", timeout=300)
        load = time.perf_counter() - started
        wrk(base + "/v1/category/predict", record, 8, 2)  # warm-up
        stats = wrk(base + "/v1/category/predict", record, 8, duration)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    if stats["errors"]:
        raise RuntimeError(f"{stats['errors']} failed requests serving {home}: {record}")
    return {"load_s": load, "serve_peak_gib": rss.stop(), **stats}


def one_size(rows: int, leaves: int, depth: int, args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"skuflow-scale-{rows}-{leaves}-"))
    home, data = work / "home", str(work / "catalogue.parquet")
    env = {**os.environ, "SKUFLOW_HOME": str(home)}
    subprocess.run([str(VENV_BIN / "skuflow"), "data", "generate", "--rows", str(rows), "--leaves", str(leaves),
                    "--depth", str(depth), "--out", data, "--json"], env=env, check=True, capture_output=True)
    out, seconds, peak, procs = run_measured([str(VENV_BIN / "skuflow"), "train", "category", "--data", data,
                                              "--json"], env)
    result = json.loads(out.strip().splitlines()[-1])
    m = result["metrics"]
    row = {"rows": rows, "leaves": leaves, "classes": None, "train_s": seconds, "train_peak_gib": peak,
           "processes": procs, "json_bytes": len(out.strip().splitlines()[-1]), "accuracy": m["accuracy"],
           "macro_f1": m["macro_f1"], "fit_s": m["fit_seconds"], "model_mb": folder_mb(home / "mlartifacts")
           if (home / "mlartifacts").exists() else folder_mb(home)}
    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings

    store = RegistryStore(Settings(home=home))
    run = store.client.get_run(result["run_id"])
    row["kind"] = run.data.params.get("model.kind")
    row["classes"] = len(store.load_model(result["model_name"], result["version"]).classes_)
    if not args.no_fasttext:
        loss = "softmax" if rows * leaves <= FASTTEXT_SOFTMAX_MAX_CELLS else "hs"
        ref = fasttext_reference(data, work, loss)
        row |= {"fasttext_accuracy": ref["accuracy"], "fasttext_s": ref["seconds"],
                "fasttext_peak_gib": ref["peak_gib"], "fasttext_loss": loss}
    if not args.no_serve:
        import pandas as pd

        record = {k: v for k, v in pd.read_parquet(data).iloc[0].to_dict().items()
                  if k in ("title", "description", "brand", "seller_id", "price") and pd.notna(v)}
        row |= serve_figures(home, record, args.duration)
    return row


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--fasttext-child":
        _fasttext_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--leaves", default="20,300,3000")
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per served model")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--no-fasttext", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.no_serve:
        need_wrk()
    results = []
    for rows in map(int, args.rows.split(",")):
        for leaves in map(int, args.leaves.split(",")):
            results.append(one_size(rows, leaves, args.depth, args))
            print(json.dumps(results[-1], default=str), file=sys.stderr, flush=True)
    header = ["rows", "leaves", "kind", "train s", "peak GiB", "model MB", "accuracy", "macro-F1", "fastText acc",
              "fastText s", "load s", "p50 ms", "p99 ms"]
    print_table("category at scale (one process per command; peak = largest single process)", header, [
        [r["rows"], r["leaves"], r["kind"], round(r["train_s"], 1), round(r["train_peak_gib"], 2),
         round(r["model_mb"], 1), r["accuracy"], r["macro_f1"],
         r.get("fasttext_accuracy", "-"), round(r["fasttext_s"], 1) if "fasttext_s" in r else "-",
         round(r["load_s"], 1) if "load_s" in r else "-", r.get("p50_ms", "-"), r.get("p99_ms", "-")]
        for r in results])
    if args.json:
        print(json.dumps({"results": results}, default=str))


if __name__ == "__main__":
    main()
