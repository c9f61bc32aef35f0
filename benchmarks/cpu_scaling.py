"""How far two processes on this machine scale over one, with no coordination at all: the ceiling any
parallel skuflow job (tuning trials, batch partitions) can reach here.

    .venv/bin/python benchmarks/cpu_scaling.py

Two kinds of work, each run alone and then twice at once in two forked processes, three rounds taking the
median (this virtual machine's speed wanders by several percent): a pure Python loop (compute-bound) and
sparse matrix-vector products of the size a PriceRunner fold's linear model iterates over (memory-bound,
as a sparse solver is). Prints the speed-up of each and a JSON line.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time

import numpy as np
import scipy.sparse as sp

ROWS, COLS, NONZEROS_PER_ROW = 11_000, 150_000, 60  # a fold: ~11k titles, word + char n-grams
_X: sp.csr_matrix | None = None


def _python_loop(_: int) -> float:
    t, s = time.perf_counter(), 0
    for i in range(100_000_000):
        s += i * i
    return time.perf_counter() - t


def _sparse(_: int) -> float:
    assert _X is not None
    xt = _X.T.tocsr()
    w = np.ones(COLS)
    t = time.perf_counter()
    for _ in range(2000):
        w = xt @ (_X @ w)
        w /= np.abs(w).max()
    return time.perf_counter() - t


def _scaling(fn, rounds: int = 3) -> dict[str, float]:
    ones, twos = [], []
    with mp.get_context("fork").Pool(2) as pool:
        pool.map(_noop, [0, 1])  # both processes exist before the clock starts
        for _ in range(rounds):
            t = time.perf_counter()
            fn(0)
            ones.append(time.perf_counter() - t)
            t = time.perf_counter()
            pool.map(fn, [0, 1], chunksize=1)
            twos.append(time.perf_counter() - t)
    one, two = float(np.median(ones)), float(np.median(twos))
    return {"one_job_s": round(one, 2), "two_jobs_s": round(two, 2), "speedup": round(2 * one / two, 2)}


def _noop(_: int) -> None:
    return None


def main() -> None:
    global _X
    rng = np.random.default_rng(0)
    cols = rng.integers(0, COLS, ROWS * NONZEROS_PER_ROW)
    _X = sp.csr_matrix((rng.random(len(cols)), cols, np.arange(0, len(cols) + 1, NONZEROS_PER_ROW)),
                       shape=(ROWS, COLS))
    out = {"python_loop": _scaling(_python_loop), "sparse_matvec": _scaling(_sparse)}
    for name, r in out.items():
        print(f"{name}: one job {r['one_job_s']} s, two at once {r['two_jobs_s']} s -> {r['speedup']}x")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
