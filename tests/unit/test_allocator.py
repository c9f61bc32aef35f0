"""The allocator setting takes effect: a large block freed on a worker thread stays in the process for
the next batch instead of going back to the kernel (and coming back as page faults)."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys, threading
import numpy as np
if sys.argv[1] == "tuned":
    from skuflow.allocator import keep_large_allocations
    keep_large_allocations()

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20

def work():
    block = np.ones(100 * 2**20, dtype=np.uint8)  # touched: 100 MB resident
    del block

before = rss_mb()
t = threading.Thread(target=work)
t.start()
t.join()
print(rss_mb() - before)
"""


def _kept_mb(mode: str) -> float:
    # glibc's own defaults: no MALLOC_* variables (a Dask nanny started earlier in this process sets them)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_large_blocks_freed_on_a_thread_are_kept_for_reuse():
    assert _kept_mb("default") < 20  # glibc's default: the block was its own mmap, returned on free
    assert _kept_mb("tuned") > 90  # one heap, trimmed only above 1 GB: the next batch reuses it
