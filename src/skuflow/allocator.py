"""glibc's allocator, set for tensors: large blocks from the heap, freed memory kept, one arena.

By default glibc gives every block over 32 MB its own mmap (under Dask's nanny, which sets
MALLOC_TRIM_THRESHOLD_, every block over 128 kB), and a thread other than the main one allocates from its
own 64 MB arena, where big blocks are mmapped whatever the threshold. Each activation of a 224 px batch is
then a fresh zeroed mapping, and page faults dominate image inference, in a Dask worker most (measured in
docs/design.md). The price is up to TRIM_THRESHOLD of freed heap a process keeps.
"""

from __future__ import annotations

import ctypes
import sys

MMAP_THRESHOLD = 512 << 20
TRIM_THRESHOLD = 1 << 30
# for processes started by someone else (Dask workers, containers): glibc reads these at start-up
ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
               "MALLOC_ARENA_MAX": "1"}

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
_done: list[bool] = []


def keep_large_allocations() -> None:
    """Apply the setting to this process, once; threads started afterwards share the main arena, so call
    it before starting any (the CLI does, first thing). A no-op off glibc."""
    if _done or not sys.platform.startswith("linux"):
        return
    _done.append(True)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # musl or another libc: its own defaults stand
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    libc.mallopt(_M_ARENA_MAX, 1)
