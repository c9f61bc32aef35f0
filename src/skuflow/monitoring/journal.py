"""A local append-only journal in front of the prediction log, so that an answered prediction survives its
worker's crash.

``append`` writes one line with one ``write`` call before the answer leaves: the bytes are in the kernel's
page cache from then on, so a SIGKILL of the process cannot lose them (only the machine's crash can, which
would need an fsync per request). The log's writer thread reports what it has stored (``stored``): spent
segments are deleted and an idle journal is truncated, so the journal holds only what is not yet in the
database.

Each process owns one journal, named by a lock file it holds with ``flock`` for its lifetime. The kernel
drops the lock when the process dies however it dies, so any other process (the worker that replaces it, or
the next start) can tell an orphan from a live journal and ``replay_orphans`` stores what it held. Every
line carries a key unique to the entry; the database ignores a key it already has, so a replay never
duplicates a row that was stored before the crash.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("skuflow.prediction_log")

SEGMENT_BYTES = 4 << 20  # a segment is deleted whole once stored; the most one holds
ROTATE_BYTES = 64 << 10  # a store that leaves newer entries behind starts a new segment past this size


def _segments(directory: Path, owner: str) -> list[Path]:
    return sorted(directory.glob(f"{owner}.*.jsonl"), key=lambda p: int(p.name.split(".")[-2]))


class Journal:
    """This process's journal: ``append`` before answering, ``stored`` after the database has the rows."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # locked before it carries its name, so a replaying process never takes a new journal for an orphan
        unnamed = directory / f".{self.owner}.lock.new"
        self._lock_fd = os.open(unnamed, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        unnamed.rename(directory / f"{self.owner}.lock")
        self.segment_bytes = segment_bytes
        self._mutex = threading.Lock()
        self._seq = 0  # entries appended
        self._segment = -1
        self._full: list[tuple[Path, int]] = []  # closed segments and the last entry each holds
        self._fd = -1
        self._bytes = 0
        self.failed = 0  # entries that could not be written (a full disk): they live on in memory only
        self._open_segment()

    def _path(self, segment: int) -> Path:
        return self.directory / f"{self.owner}.{segment}.jsonl"

    def _open_segment(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._full.append((self._path(self._segment), self._seq))
        self._segment += 1
        self._fd = os.open(self._path(self._segment), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        self._bytes = 0

    def append(self, row: tuple) -> str:
        """Write ``row`` (JSON-ready values) and return its entry key."""
        with self._mutex:
            self._seq += 1
            key = f"{self.owner}:{self._seq}"
            line = orjson.dumps([key, *row]) + b"\n"
            try:
                written = os.write(self._fd, line)
                if written != len(line):
                    raise OSError(errno.ENOSPC, "short write")
                self._bytes += written
            except OSError as exc:
                self.failed += 1
                self._undo_partial(exc)
            if self._bytes >= self.segment_bytes:
                self._open_segment()
            return key

    def _undo_partial(self, exc: OSError) -> None:
        # a torn line would swallow the next one on replay; shrinking a file works on a full disk too
        try:
            os.ftruncate(self._fd, self._bytes)
        except OSError:
            pass
        if self.failed == 1 or self.failed % 10_000 == 0:
            log.error("prediction journal write failed (%s); %d entries kept in memory only", exc, self.failed)

    def stored(self, key: str) -> None:
        """Every entry up to ``key`` is in the database: drop the segments that held only those."""
        seq = int(key.rsplit(":", 1)[1])
        with self._mutex:
            while self._full and self._full[0][1] <= seq:
                self._full.pop(0)[0].unlink(missing_ok=True)
            if seq == self._seq and not self._full and self._bytes:
                os.ftruncate(self._fd, 0)  # O_APPEND: the next line goes to the start again
                self._bytes = 0
            elif self._bytes >= ROTATE_BYTES:
                # under steady load something newer is always waiting: start a segment that the next
                # store can delete, so the journal holds about one writer batch, not a growing file
                self._open_segment()

    def close(self, everything_stored: bool) -> None:
        """Release the journal; its files go only when the database has every entry (else the next start
        replays them)."""
        with self._mutex:
            os.close(self._fd)
            if everything_stored:
                for path, _ in self._full:
                    path.unlink(missing_ok=True)
                self._path(self._segment).unlink(missing_ok=True)
                (self.directory / f"{self.owner}.lock").unlink(missing_ok=True)
            os.close(self._lock_fd)


def _entries(paths: list[Path]) -> Iterator[list[Any]]:
    for path in paths:
        with path.open("rb") as f:
            for line in f:
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:  # the last line of a segment cut off by a full disk
                    log.warning("skipped an unreadable line in %s", path)


def replay_orphans(directory: Path, store: Callable[[list[list[Any]]], None], batch: int = 2000) -> int:
    """Store the entries of journals whose owners have died, then delete them. ``store`` takes a list of
    ``[key, *row]`` and must ignore keys it already has. Returns the entries read; an exception from
    ``store`` leaves the journal in place for the next attempt."""
    if not directory.is_dir():
        return 0
    count = 0
    for lock in sorted(directory.glob("*.lock")):
        fd = os.open(lock, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its owner is alive
                continue
            paths = _segments(directory, lock.stem)
            pending: list[list[Any]] = []
            for entry in _entries(paths):
                pending.append(entry)
                if len(pending) >= batch:
                    store(pending)
                    count, pending = count + len(pending), []
            if pending:
                store(pending)
                count += len(pending)
            for path in paths:
                path.unlink(missing_ok=True)
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
    if count:
        log.warning("replayed %d prediction log entries from the journals of stopped processes", count)
    return count
