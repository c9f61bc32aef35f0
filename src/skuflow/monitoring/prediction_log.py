"""The prediction log: every online prediction (and each batch partition) with its inputs, model
version, confidence and latency, plus the true labels that feedback brings later.

Writes never sit on the request path: ``record`` puts a tuple on a queue (a few microseconds) and a
writer thread inserts in batches. SQLite in WAL mode by default, any SQLAlchemy URL (Postgres) by
configuration. Given a journal folder, ``record`` also appends the row to this process's journal before the
answer leaves (``skuflow.monitoring.journal``): a killed worker's rows are replayed by the next process to
start, and a database that is away (restarting, disk full) delays rows instead of losing them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any, cast

import orjson
import pandas as pd
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    exc,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from skuflow.monitoring.journal import Journal, replay_orphans

log = logging.getLogger("skuflow.prediction_log")

metadata = MetaData()
predictions = Table(
    "predictions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), index=True, nullable=False),
    Column("task", String(64), index=True, nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("features", Text),  # JSON of the input record, or a reference such as a Parquet path
    Column("prediction", String(256)),
    Column("confidence", Float),
    Column("latency_ms", Float),
    Column("source", String(16), nullable=False, default="online"),
    Column("ts", Float, index=True, nullable=False),
    # online experiments: which arm answered (champion, challenger, shadow, fallback) and its error, if any
    Column("experiment", String(96), index=True),
    Column("variant", String(16)),
    Column("error", Text),
    # the journal's key of the entry: a replay after a crash skips the rows the database already has
    Column("entry", String(64), unique=True),
)
# the columns ``record`` queues, in its tuple's order
_LOGGED = ("entry", "request_id", "task", "model_version", "features", "prediction", "confidence", "latency_ms",
           "source", "ts", "experiment", "variant", "error")
_ADDED_COLUMNS = ("experiment", "variant", "error", "entry")  # logs written before experiments or journals
RETRY_MAX_SECONDS = 5.0  # the longest wait between attempts while the database is away
REPLAY_SECONDS = 30.0  # how often the writer looks for the journals of workers that died
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), index=True, nullable=False),
    Column("task", String(64), index=True, nullable=False),
    Column("label", String(256), nullable=False),
    Column("ts", Float, nullable=False),
)

# what a drift check reads of each served row, written once by ``skuflow.monitoring.summaries``
drift_rows = Table(
    "drift_rows", metadata,
    Column("prediction_id", Integer, primary_key=True, autoincrement=False),
    Column("task", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("prediction", String(256)),
    Column("confidence", Float),
    Column("monitored", Text),  # JSON: the row's values of the columns the version's profile holds
    Column("novelty", Float),
    Index("ix_drift_rows_version", "task", "model_version", "prediction_id"),
)


def insert_skipping_known(engine: Any, table: Table, key: str | None = None) -> Any:
    """An insert into ``table`` that skips rows whose ``key`` (default: the primary key) the table already has:
    a replayed journal, or two workers summarizing the same rows. A plain insert on other databases."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(engine.dialect.name)
    if dialect is None:
        return insert(table)
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[key] if key else None)


class PredictionLog:
    """A queue in front of a database table; ``close`` drains it."""

    def __init__(self, url: str, batch_size: int = 500, flush_interval: float = 0.25,
                 journal_dir: Path | None = None) -> None:
        self.url = url
        # a server's connections die when it restarts: test each on checkout rather than fail a batch on it
        self.engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _wal(dbapi_conn, _record):  # readers (drift) never block the writer, nor it them
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
        metadata.create_all(self.engine)
        self._add_missing_columns()
        self._compile_insert()
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._queue: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
        self._pending = 0
        self._idle = threading.Condition()
        self._wake = threading.Event()
        self.written = 0
        self.dropped = 0
        self.retries = 0  # failed attempts to store a batch while the database was away
        self.replayed = 0
        self._closing = threading.Event()
        # one journal folder per database: a replay must reach the log its rows were meant for
        self.key = hashlib.sha256(url.encode()).hexdigest()[:12]  # names this database's files beside it
        self._journal_dir = journal_dir / self.key if journal_dir else None
        self.journal = Journal(self._journal_dir) if self._journal_dir else None
        self._thread = threading.Thread(target=self._writer, name="skuflow-prediction-log", daemon=True)
        self._thread.start()

    def _add_missing_columns(self) -> None:
        from sqlalchemy import inspect, text

        have = {c["name"] for c in inspect(self.engine).get_columns("predictions")}
        with self.engine.begin() as conn:
            for name in _ADDED_COLUMNS:
                if name not in have:
                    column = predictions.c[name]
                    conn.execute(text(f"ALTER TABLE predictions ADD COLUMN {name} "
                                      f"{column.type.compile(self.engine.dialect)}"))
                    if column.index or column.unique:  # the judge selects by experiment on every poll
                        unique = "UNIQUE " if column.unique else ""
                        conn.execute(text(f"CREATE {unique}INDEX IF NOT EXISTS ix_predictions_{name} "
                                          f"ON predictions ({name})"))

    # -- write side ---------------------------------------------------------------------------------
    def record(self, request_id: str, task: str, model_version: int, features: dict | str | None,
               prediction: str | None, confidence: float | None, latency_ms: float | None,
               source: str = "online", experiment: str | None = None, variant: str | None = None,
               error: str | None = None) -> None:
        if features is not None and not isinstance(features, str):
            features = orjson.dumps(features, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        row = (request_id, task, model_version, features, prediction, confidence, latency_ms, source, time.time(),
               experiment, variant, error)
        entry = self.journal.append(row) if self.journal else None
        with self._idle:
            self._pending += 1
        self._queue.put((entry, *row))

    def _writer(self) -> None:
        # Wake once per flush interval, not once per prediction: every wake-up makes the serving thread
        # hand over the GIL, which cost a busy server ~15% of its requests/s.
        self._replay()
        next_replay = time.monotonic() + REPLAY_SECONDS
        while True:
            if time.monotonic() >= next_replay:
                self._replay()
                next_replay = time.monotonic() + REPLAY_SECONDS
            batch: list[tuple | None] = [self._queue.get()]
            if batch[0] is not None:
                self._wake.wait(self.flush_interval)  # flush() cuts the wait short
                self._wake.clear()
            while True:
                if batch[-1] is None:
                    if len(batch) > 1:
                        self._insert(cast(list[tuple], batch[:-1]))  # only the last is the stop marker
                    return
                if len(batch) >= self.batch_size:
                    self._insert(cast(list[tuple], batch))
                    batch = []
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch:
                self._insert(cast(list[tuple], batch))

    def _replay(self) -> None:
        if self._journal_dir is None:
            return
        try:
            self.replayed += replay_orphans(self._journal_dir, self._store)
        except Exception:  # the database is away: the journals stay for the next look
            log.exception("replaying prediction journals failed")

    def _store(self, rows: list) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self._insert_sql, self._driver_rows([tuple(r) for r in rows]))

    def _insert(self, batch: list[tuple]) -> None:
        wait = 0.1
        while True:
            try:
                self._store(batch)
                self.written += len(batch)
                if self.journal and batch[-1][0] is not None:
                    self.journal.stored(batch[-1][0])
                break
            except (exc.OperationalError, exc.InterfaceError) as error:
                # the database is away (restarting, locked, its disk full): keep the rows and try again;
                # at shutdown they stay in the journal for the next start
                self.retries += 1
                if self.retries == 1 or self.retries % 100 == 0:
                    log.warning("prediction log unavailable, %d rows waiting: %s", len(batch), error)
                if self._closing.wait(wait):
                    if self.journal is None:  # with a journal the rows are only deferred to the next start
                        self.dropped += len(batch)
                    break
                wait = min(RETRY_MAX_SECONDS, wait * 2)
            except Exception:  # rows the database refuses: never take serving down; counted and logged
                self.dropped += len(batch)
                log.exception("dropped %d prediction log rows", len(batch))
                break
        with self._idle:
            self._pending -= len(batch)
            self._idle.notify_all()

    def _compile_insert(self) -> None:
        """The insert as the driver's own SQL, compiled once: SQLAlchemy's per-row parameter processing was
        most of the writer's ~28 µs a row, and the writer's time is taken from the serving thread's GIL. An
        entry the table already has (a replayed journal) is skipped."""
        compiled = insert_skipping_known(self.engine, predictions, "entry").compile(dialect=self.engine.dialect,
                                                                                  column_keys=list(_LOGGED))
        self._insert_sql = str(compiled)
        order = [_LOGGED.index(key) for key in compiled.positiontup or ()] if compiled.positional else None

        def driver_rows(rows: list[tuple]) -> list:
            if order is None:  # named paramstyles (psycopg's pyformat)
                return [dict(zip(_LOGGED, row, strict=True)) for row in rows]
            return rows if order == list(range(len(_LOGGED))) else [tuple(row[i] for i in order) for row in rows]

        self._driver_rows = driver_rows

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything recorded so far is written (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued; what the database cannot take within ``timeout`` stays in the journal."""
        everything = self.flush(timeout)
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout=timeout)
        if self.journal:
            self.journal.close(everything_stored=everything and not self._thread.is_alive())
        self.engine.dispose()

    def add_feedback(self, task: str, request_id: str, label: str) -> bool:
        """Record the true label of a logged prediction; False when the request id is unknown."""
        with self.engine.begin() as conn:
            known = conn.execute(select(predictions.c.id).where(
                (predictions.c.request_id == request_id) & (predictions.c.task == task)).limit(1)).first()
            if known is None:
                return False
            conn.execute(insert(feedback), [{"request_id": request_id, "task": task, "label": label,
                                            "ts": time.time()}])
        return True

    # -- read side ----------------------------------------------------------------------------------
    @staticmethod
    def served():
        """Answers a caller received: not the shadow's off-path predictions, not a failed attempt."""
        return or_(predictions.c.variant.is_(None), predictions.c.variant != "shadow") & predictions.c.error.is_(None)

    def window(self, task: str, last: int = 1000, model_version: int | None = None,
               source: str | None = "online") -> pd.DataFrame:
        """The most recent ``last`` predictions of a task (oldest first), inputs decoded."""
        q = select(predictions).where((predictions.c.task == task) & self.served())
        if model_version is not None:
            q = q.where(predictions.c.model_version == model_version)
        if source is not None:
            q = q.where(predictions.c.source == source)
        q = q.order_by(predictions.c.id.desc()).limit(last)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(q).mappings().all())
        if frame.empty:
            return frame
        return frame.iloc[::-1].reset_index(drop=True)

    def count(self, task: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(predictions)
                                    .where(predictions.c.task == task)).scalar_one())

    def feedback_pairs(self, task: str, last: int = 1000) -> list[tuple[str, str]]:
        """(logged prediction, true label) of the latest answers that have feedback, newest first."""
        q = (select(predictions.c.prediction, feedback.c.label)
             .join(feedback, (feedback.c.request_id == predictions.c.request_id) & (feedback.c.task == task))
             .where((predictions.c.task == task) & self.served()).order_by(feedback.c.id.desc()).limit(last))
        with self.engine.connect() as conn:
            return [(p, label) for p, label in conn.execute(q).all()]

    def live_score(self, task: str, output: Any, last: int = 1000) -> dict[str, Any]:
        """The task output's live metric (accuracy, RMSE) over the latest answers that have feedback."""
        pairs = self.feedback_pairs(task, last)
        value = output.live_score([p for p, _ in pairs], [t for _, t in pairs]) if pairs else None
        return {"n": len(pairs), "metric": output.live_metric, "value": value}


def decode_features(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Input records back from the log's JSON column (references and empty rows are skipped)."""
    out = []
    for raw in frame.get("features", pd.Series(dtype=object)):
        if isinstance(raw, str) and raw.startswith("{"):
            out.append(json.loads(raw))
    return out


def experiment_rows(plog: PredictionLog, experiment: str) -> pd.DataFrame:
    """Every logged attempt of an experiment: variant, prediction, confidence, latency, error."""
    c = predictions.c
    q = (select(c.id, c.request_id, c.variant, c.model_version, c.prediction, c.confidence, c.latency_ms, c.error)
         .where(c.experiment == experiment).order_by(c.id))
    with plog.engine.connect() as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["id", "request_id", "variant", "model_version",
                                                            "prediction", "confidence", "latency_ms", "error"])


def experiment_feedback(plog: PredictionLog, experiment: str, agree: Any = None) -> pd.DataFrame:
    """Feedback joined to an experiment's predictions, in the order it arrived: variant and whether the
    answer was right (``agree(prediction, label)``; equality by default).

    Counted from the log, not from memory, so a restarted server reads the same experiment."""
    c = predictions.c
    q = (select(feedback.c.id, c.variant, c.prediction, feedback.c.label)
         .join(feedback, (feedback.c.request_id == c.request_id) & (feedback.c.task == c.task))
         .where((c.experiment == experiment) & c.error.is_(None)).order_by(feedback.c.id))
    with plog.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(q).all(), columns=["feedback_id", "variant", "prediction", "label"])
    if agree is None:
        frame["correct"] = frame["prediction"] == frame["label"]
    else:
        frame["correct"] = [bool(agree(p, t)) for p, t in zip(frame["prediction"], frame["label"], strict=True)]
    return frame
