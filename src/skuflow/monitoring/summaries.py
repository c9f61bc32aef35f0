"""Drift summaries: what a drift check reads of each logged prediction, computed once per row as rows
arrive instead of from raw rows on every read.

A row's summary is the monitored columns its version's profile holds, its prediction and confidence, and its
novelty score. Featurizing a row for its novelty score is most of a drift check's cost, so a read that
recomputed it took seconds on a 10,000-row window; a read of summaries is one narrow indexed query and the
statistics. ``summarize`` runs off the request path (the serving process's summarizer thread, the monitor
loop, the CLI); the drift route only reads.

When traffic outruns the summarizer, ``summarize`` starts at the newest ``newest`` pending rows and skips
older ones: a window is then the latest rows summarized, a sample of the traffic in blocks, never a
backlog that grows without end.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine, delete, func, select

from skuflow.monitoring.novelty import NoveltyDetector
from skuflow.monitoring.prediction_log import (
    PredictionLog,
    drift_rows,
    feedback,
    insert_skipping_known,
    predictions,
)
from skuflow.monitoring.profile import Profile, monitored_frame

if TYPE_CHECKING:  # monitoring sits below the tasks: it calls a task's methods, never imports one
    from skuflow.tasks.base import Task

log = logging.getLogger("skuflow.monitoring")

BATCH = 1000
KEEP = 20_000  # summaries kept per version: twice the largest window the drift route reads


@dataclass
class Window:
    """The latest summarized rows of one version, oldest first, as drift reads them."""

    features: pd.DataFrame  # the monitored columns
    predictions: list[Any]  # as the task's output reads them back from the log
    confidences: list[float]
    novelty: np.ndarray | None  # None when the task has no novelty space or the version no detector

    def __len__(self) -> int:
        return len(self.predictions)


def _pending(plog: PredictionLog, task: str, version: int, newest: int) -> int:
    """The id after which rows wait: the last summarized one, or later when more than ``newest`` wait."""
    c = predictions.c
    with plog.engine.connect() as conn:
        last = conn.execute(select(func.max(drift_rows.c.prediction_id)).where(
            (drift_rows.c.task == task) & (drift_rows.c.model_version == version))).scalar() or 0
        floor = conn.execute(select(c.id).where(_served_after(task, version, last))
                             .order_by(c.id.desc()).offset(newest).limit(1)).scalar()
    return max(last, floor or 0)


def _served_after(task: str, version: int, after: int) -> Any:
    """The version's online answers logged after prediction id ``after``."""
    c = predictions.c
    return ((c.task == task) & (c.model_version == version) & (c.id > after) & (c.source == "online")
            & PredictionLog.served())


def _summaries(task: Task, profile: Profile, model: Any, novelty: NoveltyDetector | None,
               rows: Sequence[Any]) -> list[dict[str, Any]]:
    records = [orjson.loads(r.features) if isinstance(r.features, str) and r.features.startswith("{") else {}
               for r in rows]
    frame = monitored_frame(task, records)
    kept = [col for col in (*profile.numeric, *profile.categorical) if col in frame.columns]
    values = frame[kept].astype(object).where(frame[kept].notna(), None).to_dict("records")
    scores = None
    if model is not None and novelty is not None:
        X = task.novelty_features(model, records)
        scores = novelty.scores(X) if X is not None else None
    return [{"prediction_id": r.id, "task": task.name, "model_version": r.model_version, "prediction": r.prediction,
             "confidence": r.confidence, "novelty": None if scores is None else float(scores[i]),
             "monitored": orjson.dumps(values[i], default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()}
            for i, r in enumerate(rows)]


def summarize(task: Task, plog: PredictionLog, version: int, profile: Profile, model: Any = None,
              novelty: NoveltyDetector | None = None, newest: int = KEEP // 2, limit: int | None = None) -> int:
    """Summarize the version's served online rows not yet summarized (at most the newest ``newest``, and at
    most ``limit`` in this call); returns how many."""
    c = predictions.c
    after, done = _pending(plog, task.name, version, newest), 0
    while limit is None or done < limit:
        size = BATCH if limit is None else min(BATCH, limit - done)
        with plog.engine.connect() as conn:
            rows = conn.execute(select(c.id, c.model_version, c.features, c.prediction, c.confidence)
                                .where(_served_after(task.name, version, after)).order_by(c.id).limit(size)).all()
        if not rows:
            break
        _insert(plog.engine, _summaries(task, profile, model, novelty, rows))
        after, done = rows[-1].id, done + len(rows)
    if done:
        _prune(plog.engine, task.name, version)
    return done


def summarize_served(plog: PredictionLog, served: Any, limit: int | None = None) -> int:
    """``summarize`` for a served version: anything with task, version, profile, model and novelty (a
    LoadedModel); nothing without a profile."""
    if served.profile is None:
        return 0
    return summarize(served.task, plog, served.version, served.profile, served.model, served.novelty, limit=limit)


def _insert(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:  # two workers may summarize the same rows: the second's are skipped
        conn.execute(insert_skipping_known(engine, drift_rows), rows)


def _prune(engine: Engine, task: str, version: int) -> None:
    d = drift_rows.c
    mine = (d.task == task) & (d.model_version == version)
    with engine.begin() as conn:
        oldest_kept = conn.execute(select(d.prediction_id).where(mine).order_by(d.prediction_id.desc())
                                   .offset(KEEP).limit(1)).scalar()
        if oldest_kept is not None:
            conn.execute(delete(drift_rows).where(mine & (d.prediction_id <= oldest_kept)))


def marks(plog: PredictionLog, task: str, version: int) -> tuple[int, int]:
    """The newest summarized prediction id of a version and the newest feedback id (0 for none): a drift
    answer stays the same until one of them moves."""
    d = drift_rows.c
    with plog.engine.connect() as conn:
        row = conn.execute(select(
            select(func.max(d.prediction_id)).where((d.task == task) & (d.model_version == version))
            .scalar_subquery(), select(func.max(feedback.c.id)).scalar_subquery())).one()
    return int(row[0] or 0), int(row[1] or 0)


def read(task: Task, plog: PredictionLog, version: int, window: int) -> Window:
    """The latest ``window`` summarized rows of a version: one indexed read, no featurizing."""
    d = drift_rows.c
    q = (select(d.monitored, d.prediction, d.confidence, d.novelty)
         .where((d.task == task.name) & (d.model_version == version)).order_by(d.prediction_id.desc())
         .limit(window))
    with plog.engine.connect() as conn:
        rows = conn.execute(q).all()[::-1]
    features = pd.DataFrame([orjson.loads(r.monitored) for r in rows], index=pd.RangeIndex(len(rows)))
    scores = [r.novelty for r in rows]
    return Window(features, task.output.predictions_from_log([r.prediction for r in rows]),
                  [np.nan if r.confidence is None else float(r.confidence) for r in rows],
                  np.asarray(scores, dtype=float) if rows and None not in scores else None)


def keep_summarized(plog: PredictionLog, served: Callable[[], dict[str, Any]], interval: float,
                    stop: threading.Event, lock: Path, rows_per_tick: int = 500) -> None:
    """The serving process's summarizer thread: every ``interval`` seconds, summarize up to ``rows_per_tick``
    new rows of each served version (anything with task, version, profile, model and novelty).

    One worker of a host summarizes: the first to take ``lock`` keeps it until it dies. The thread runs at
    a lower CPU priority (Linux sets it per thread), so predictions on the machine's cores go first."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        leading = False
        while not stop.wait(interval):
            if not leading:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    leading = True
                except BlockingIOError:
                    continue
            for name, loaded in list(served().items()):
                try:
                    summarize_served(plog, loaded, limit=rows_per_tick)
                except Exception:  # a failed tick must not end the thread; the next one tries again
                    log.exception("summarizing %s failed", name)
    finally:
        os.close(fd)
