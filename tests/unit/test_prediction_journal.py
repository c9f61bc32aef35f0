"""The prediction log's journal: a process killed with SIGKILL loses none of the rows it recorded, and the
replay by the next process duplicates none of those it had already stored."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from skuflow.monitoring.journal import Journal, replay_orphans
from skuflow.monitoring.prediction_log import PredictionLog

# The child records 300 rows and stores them, but (as if killed between the insert's commit and the journal's
# clean-up) its journal is never told so; then it records 200 more that its writer never gets to store.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from skuflow.monitoring.journal import Journal
    from skuflow.monitoring.prediction_log import PredictionLog
    Journal.stored = lambda self, key: None
    log = PredictionLog(sys.argv[1], flush_interval=3600, journal_dir=Path(sys.argv[2]))
    for i in range(300):
        log.record(f"a{i}", "category", 1, {"title": f"t{i}"}, "books", 0.5, 1.0)
    assert log.flush(30)
    for i in range(200):
        log.record(f"b{i}", "category", 1, {"title": f"u{i}"}, "toys", 0.5, 1.0)
    print("recorded", flush=True)
    time.sleep(600)
""")


def _rows(db):
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT request_id FROM predictions ORDER BY id")]


def test_a_killed_writer_loses_nothing_and_its_replay_duplicates_nothing(tmp_path):
    db, journal = tmp_path / "p.db", tmp_path / "journal"
    url = f"sqlite:///{db}"
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(journal)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "recorded"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert len(_rows(db)) == 300  # the 200 were answered but still queued in memory when it died

    survivor = PredictionLog(url, journal_dir=journal)  # the worker that takes its place
    try:
        assert survivor.flush(30)
        survivor.record("c0", "category", 1, {"title": "v"}, "books", 0.5, 1.0)
        assert survivor.flush(30)
    finally:
        survivor.close()
    rows = _rows(db)
    assert len(rows) == len(set(rows)) == 501
    assert {f"b{i}" for i in range(200)} <= set(rows)
    assert survivor.replayed == 500  # all read back; the 300 already stored were skipped by their keys
    assert [p.name for p in journal.rglob("*") if p.is_file()] == []  # a clean close leaves no journal


def test_a_live_journal_is_never_replayed_and_a_stored_one_is_emptied(tmp_path):
    live = Journal(tmp_path)
    keys = [live.append(("r", i)) for i in range(3)]
    seen: list = []
    assert replay_orphans(tmp_path, seen.extend) == 0 and seen == []  # its owner holds the lock
    segment = next(tmp_path.glob("*.jsonl"))
    assert segment.stat().st_size > 0
    live.stored(keys[1])
    assert segment.stat().st_size > 0  # the third entry is not stored yet
    live.stored(keys[2])
    assert segment.stat().st_size == 0
    live.close(everything_stored=True)
    assert list(tmp_path.iterdir()) == []


def test_full_segments_are_deleted_once_stored_and_a_torn_line_is_skipped(tmp_path):
    journal = Journal(tmp_path, segment_bytes=200)
    keys = [journal.append(("request", i, "x" * 40)) for i in range(20)]
    assert len(list(tmp_path.glob("*.jsonl"))) > 3
    journal.stored(keys[9])
    kept = sorted(tmp_path.glob("*.jsonl"))
    journal.close(everything_stored=False)  # as if killed: the files stay for a replay
    with kept[-1].open("ab") as f:
        f.write(b'["cut off by a full di')
    replayed: list = []
    assert replay_orphans(tmp_path, replayed.extend) == len(replayed)
    numbers = [entry[2] for entry in replayed]
    assert numbers == sorted(numbers) and numbers[-1] == 19 and 9 not in numbers[1:]
    assert list(tmp_path.iterdir()) == []


def test_a_database_that_is_away_delays_rows_instead_of_dropping_them(tmp_path):
    db = tmp_path / "p.db"
    log = PredictionLog(f"sqlite:///{db}?timeout=0.2", flush_interval=0.01, journal_dir=tmp_path / "journal")
    try:
        locker = sqlite3.connect(db, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")  # no writer gets in: every insert fails as while a server restarts
        for i in range(50):
            log.record(f"r{i}", "category", 1, {}, "books", 0.5, 1.0)
        deadline = time.monotonic() + 30
        while log.retries < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log.retries >= 2 and log.dropped == 0 and log.count("category") == 0
        locker.rollback()
        locker.close()
        assert log.flush(30)
        assert log.count("category") == 50 and log.dropped == 0
    finally:
        log.close()


def test_under_steady_load_the_journal_holds_about_one_batch(tmp_path, monkeypatch):
    from skuflow.monitoring import journal as journal_module

    monkeypatch.setattr(journal_module, "ROTATE_BYTES", 1000)
    journal = Journal(tmp_path)
    waiting = [journal.append(("request", i, "x" * 40)) for i in range(50)]
    for i in range(50, 2000, 50):  # each store leaves the newest 50 entries behind, as a busy writer does
        stored, waiting = waiting, [journal.append(("request", j, "x" * 40)) for j in range(i, i + 50)]
        journal.stored(stored[-1])
        assert sum(p.stat().st_size for p in tmp_path.glob("*.jsonl")) < 3 * 50 * 70
    journal.close(everything_stored=False)
