"""Drift summaries: each served row is summarized once, a window read back is the same drift as one computed
from the raw rows, and what is kept stays bounded however long the log grows."""

import pandas as pd
import pytest

from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.monitoring import summaries
from skuflow.monitoring.drift import detect_drift
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.profile import build_profile, monitored_frame
from skuflow.tasks.base import get_task

FIELDS = ["title", "description", "brand", "seller_id", "price"]


@pytest.fixture()
def logged(tmp_path):
    task = get_task("category")
    rows = generate_catalogue(600, seed=2)
    reference = rows.iloc[:300]
    profile = build_profile("category", task.monitored_features(reference), list(task.monitor_numeric),
                            list(task.monitor_categorical), reference["category"].tolist(), [0.9] * 300)
    plog = PredictionLog(f"sqlite:///{tmp_path / 'p.db'}")
    served = rows.iloc[300:]
    for i, (rec, label) in enumerate(zip(listing_records(served[FIELDS]), served["category"], strict=True)):
        plog.record(f"r{i}", "category", 1, rec, label, 0.5 + (i % 5) / 10, 1.0)
        plog.record(f"r{i}", "category", 1, rec, "books", 0.5, 1.0, variant="shadow")  # never answered
    plog.record("old", "category", 0, listing_records(served[FIELDS])[0], "books", 0.5, 1.0)  # another version
    assert plog.flush()
    yield task, plog, profile, served
    plog.close()


def test_each_served_row_is_summarized_once_and_reads_as_the_raw_rows_drift(logged):
    task, plog, profile, served = logged
    assert summaries.summarize(task, plog, 1, profile, limit=120) == 120
    assert summaries.summarize(task, plog, 1, profile) == 180
    assert summaries.summarize(task, plog, 1, profile) == 0
    window = summaries.read(task, plog, 1, 200)
    assert len(window) == 200 and window.novelty is None
    assert window.predictions == served["category"].tolist()[-200:]
    raw = served.iloc[-200:]
    expected = detect_drift(profile, monitored_frame(task, listing_records(raw[FIELDS])), raw["category"].tolist(),
                            window.confidences)
    got = detect_drift(profile, window.features, window.predictions, window.confidences)
    assert [(c.column, round(c.effect, 9)) for c in got.columns] == \
        [(c.column, round(c.effect, 9)) for c in expected.columns]
    assert len(summaries.read(task, plog, 0, 200)) == 0  # the other version was not summarized


def test_a_backlog_starts_at_its_newest_rows_and_old_summaries_are_pruned(logged, monkeypatch):
    task, plog, profile, served = logged
    assert summaries.summarize(task, plog, 1, profile, newest=50) == 50
    assert summaries.read(task, plog, 1, 1000).predictions == served["category"].tolist()[-50:]
    monkeypatch.setattr(summaries, "KEEP", 40)
    for i in range(30):
        plog.record(f"n{i}", "category", 1, {"title": f"new thing {i}"}, "toys", 0.9, 1.0)
    plog.flush()
    assert summaries.summarize(task, plog, 1, profile) == 30
    kept = summaries.read(task, plog, 1, 1000)
    assert len(kept) == 40 and kept.predictions[-30:] == ["toys"] * 30
    assert pd.isna(kept.features["price"].iloc[-1])  # a missing price stays missing
