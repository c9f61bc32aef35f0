"""Compiled trees for the category champion: LightGBM's own booster and skuflow's flat forest (what serving
uses) against treelite's GTIL, tl2cgen's generated C and lleaves' LLVM, on the same 1000-round model the
serving benchmark serves.

    make bench-compiled-trees          # installs the `compiled-trees` extra, then runs this
    .venv/bin/python benchmarks/compiled_trees.py [--rounds 1000] [--json]

Each candidate is timed on one row (the online case, hot in a loop) and on 100 rows, and its probabilities
are compared with the booster's on 200 rows. lleaves compiles in a child process under a memory cap: on
this model it builds one LLVM function per tree whose signature lists every input column.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, print_table  # noqa: E402

LLEAVES_MEMORY_GB = 6
LLEAVES_TIMEOUT_S = 600


def per_call_us(fn, seconds: float = 2.0) -> float:
    for _ in range(20):
        fn()
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        n += 1
    return (time.perf_counter() - started) / n * 1e6


def lleaves_child(model_file: str, rows_file: str, cache: str) -> None:
    """Run as a child: compile, then print the timings and the largest difference as JSON."""
    import lleaves

    gb = LLEAVES_MEMORY_GB << 30
    resource.setrlimit(resource.RLIMIT_AS, (gb, gb))
    started = time.perf_counter()
    model = lleaves.Model(model_file=model_file)
    model.compile(cache=cache)
    compile_s = time.perf_counter() - started
    dense = np.load(rows_file)
    print(json.dumps({"compile_s": compile_s, "one_row_us": per_call_us(lambda: model.predict(dense[:1], n_jobs=1)),
                      "hundred_rows_us": per_call_us(lambda: model.predict(dense[:100], n_jobs=1)),
                      "proba": model.predict(dense, n_jobs=1).tolist()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000, help="synthetic training rows")
    parser.add_argument("--rounds", type=int, default=1000, help="boosting rounds (the serving benchmark's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import pandas as pd

    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import train

    home = Path(tempfile.mkdtemp(prefix="skuflow-compiled-"))
    try:
        settings = Settings(home=home)
        config = load_config(ROOT / "configs" / "synthetic.yaml")
        config.model.params = {**config.model.params, "n_estimators": args.rounds}
        result = train("category", f"synthetic:{args.rows}:0", config, settings)
        pipeline = RegistryStore(settings).load_model("category", result.version)
        booster = pipeline.steps[-1][1].booster_
        sparse = pipeline[:-1].transform(pd.DataFrame(get_task("category").example_records(200)))
        dense = sparse.toarray().astype(np.float64)
        reference = booster.predict(sparse, num_threads=1)
        model_file, rows_file = home / "model.txt", home / "rows.npy"
        booster.save_model(str(model_file))
        np.save(rows_file, dense)
        results = [{"engine": "LightGBM booster (served today)", "compile_s": 0.0,
                    "one_row_us": per_call_us(lambda: booster.predict(sparse[:1], num_threads=1)),
                    "hundred_rows_us": per_call_us(lambda: booster.predict(sparse[:100], num_threads=1)),
                    "max_abs_diff": 0.0}]
        results += [flat_forest(booster, sparse, reference), treelite_gtil(booster, dense, reference),
                    tl2cgen_compiled(booster, dense, reference, home),
                    lleaves_compiled(model_file, rows_file, home, reference)]
        results += cold_cache(booster, sparse)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    trees = booster.num_trees()
    print_table(f"category champion: {trees} trees ({args.rounds} rounds x {trees // args.rounds} classes), "
                f"{dense.shape[1]} input columns; one thread",
                ["engine", "compile s", "1 row µs", "100 rows µs", "max |p - booster p|", "note"],
                [[r["engine"], f"{r['compile_s']:.1f}" if r.get("compile_s") is not None else "-",
                  f"{r['one_row_us']:.0f}" if r.get("one_row_us") else "-",
                  f"{r['hundred_rows_us']:.0f}" if r.get("hundred_rows_us") else "-",
                  f"{r['max_abs_diff']:.1e}" if r.get("max_abs_diff") is not None else "-", r.get("note", "")]
                 for r in results])
    print(json.dumps({"trees": trees, "columns": dense.shape[1], "results": results}))


def flat_forest(booster, sparse, reference: np.ndarray) -> dict:
    from skuflow.estimators.flat_forest import FlatForest

    started = time.perf_counter()
    forest = FlatForest.from_booster(booster)
    forest.predict_proba(sparse[:1])  # numba compiles (or reads its cache) on the first call
    build_s = time.perf_counter() - started
    return {"engine": "skuflow flat forest (numba; served)", "compile_s": build_s,
            "one_row_us": per_call_us(lambda: forest.predict_proba(sparse[:1])),
            "hundred_rows_us": per_call_us(lambda: forest.predict_proba(sparse[:100])),
            "max_abs_diff": float(np.abs(forest.predict_proba(sparse) - reference).max()),
            "note": "CSR input; the served path below 256 rows"}


def cold_cache(booster, sparse, rounds: int = 1000) -> list[dict]:
    """One row at a time over 200 different rows, each call after touching 8 MB of other memory: what a
    server's predict meets (between two requests it has pushed the trees out of cache)."""
    from skuflow.estimators.flat_forest import FlatForest

    forest, other = FlatForest.from_booster(booster), np.ones(1 << 20)
    rows = [sparse[i:i + 1] for i in range(sparse.shape[0])]
    out = []
    for name, predict in (("LightGBM booster", lambda r: booster.predict(r, num_threads=1)),
                          ("skuflow flat forest", forest.predict_proba)):
        for cold in (False, True):
            total = 0.0
            for i in range(rounds):
                if cold:
                    other.sum()
                started = time.perf_counter()
                predict(rows[i % len(rows)])
                total += time.perf_counter() - started
            out.append({"engine": f"{name}, varied rows, {'cold' if cold else 'hot'}", "compile_s": None,
                        "one_row_us": total / rounds * 1e6})
    return out


def treelite_gtil(booster, dense: np.ndarray, reference: np.ndarray) -> dict:
    import treelite
    from treelite import gtil

    started = time.perf_counter()
    model = treelite.frontend.from_lightgbm(booster)
    load_s = time.perf_counter() - started
    proba = gtil.predict(model, dense, nthread=1).reshape(reference.shape)
    return {"engine": f"treelite {treelite.__version__} GTIL", "compile_s": load_s,
            "one_row_us": per_call_us(lambda: gtil.predict(model, dense[:1], nthread=1)),
            "hundred_rows_us": per_call_us(lambda: gtil.predict(model, dense[:100], nthread=1)),
            "max_abs_diff": float(np.abs(proba - reference).max()), "note": "interpreted; dense input"}


def tl2cgen_compiled(booster, dense: np.ndarray, reference: np.ndarray, home: Path) -> dict:
    import tl2cgen
    import treelite

    engine = f"tl2cgen {tl2cgen.__version__} (C, gcc -O2)"
    if shutil.which("gcc") is None:
        return {"engine": engine, "note": "needs a C compiler at run time: gcc not found"}
    started = time.perf_counter()
    lib = home / "tl2cgen.so"
    tl2cgen.export_lib(treelite.frontend.from_lightgbm(booster), toolchain="gcc", libpath=str(lib),
                       params={"parallel_comp": 16}, nthread=2, verbose=False)
    compile_s = time.perf_counter() - started
    predictor = tl2cgen.Predictor(str(lib), nthread=1)
    proba = predictor.predict(tl2cgen.DMatrix(dense)).reshape(reference.shape)
    note = "dense input"
    try:
        import scipy.sparse as sp

        tl2cgen.DMatrix(sp.csr_matrix(dense[:1]))
    except ValueError as exc:  # its CSR path calls np.array(copy=False), which NumPy 2 refuses
        note += f"; CSR input fails under NumPy 2 ({str(exc)[:40]}...)"
    return {"engine": engine, "compile_s": compile_s,
            "one_row_us": per_call_us(lambda: predictor.predict(tl2cgen.DMatrix(dense[:1]))),
            "hundred_rows_us": per_call_us(lambda: predictor.predict(tl2cgen.DMatrix(dense[:100]))),
            "max_abs_diff": float(np.abs(proba - reference).max()), "note": note}


def lleaves_compiled(model_file: Path, rows_file: Path, home: Path, reference: np.ndarray) -> dict:
    from importlib.metadata import version

    import lleaves  # noqa: F401  (fail here, not in the child, when the extra is missing)

    engine = f"lleaves {version('lleaves')} (LLVM)"
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--lleaves-child", str(model_file), str(rows_file),
                               str(home / "lleaves.so")], capture_output=True, text=True, timeout=LLEAVES_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "compile_s": None, "note": f"compile still running after {LLEAVES_TIMEOUT_S} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["killed"])[-1]
        return {"engine": engine, "compile_s": None,
                "note": f"compile failed after {time.perf_counter() - started:.0f} s under a "
                        f"{LLEAVES_MEMORY_GB} GB cap: {last[:80]}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    proba = np.asarray(out.pop("proba"))
    return {"engine": engine, **out, "max_abs_diff": float(np.abs(proba - reference).max()), "note": "dense input"}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--lleaves-child"]:
        lleaves_child(*sys.argv[2:5])
    else:
        main()
