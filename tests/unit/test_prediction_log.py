from skuflow.monitoring.prediction_log import PredictionLog, decode_features
from skuflow.tasks.outputs import ClassificationOutput, RegressionOutput


def test_records_are_written_in_batches_and_read_back(tmp_path):
    plog = PredictionLog(f"sqlite:///{tmp_path / 'p.db'}", batch_size=50, flush_interval=0.05)
    for i in range(120):
        plog.record(f"r{i}", "category", 1 + (i >= 100), {"title": f"t{i}", "price": i}, "books", 0.5, 1.0)
    assert plog.flush()
    assert plog.count("category") == 120 and plog.written == 120 and plog.dropped == 0
    win = plog.window("category", last=30)
    assert win["request_id"].tolist() == [f"r{i}" for i in range(90, 120)]  # oldest first
    assert decode_features(win)[0] == {"title": "t90", "price": 90}
    assert len(plog.window("category", last=1000, model_version=2)) == 20
    assert plog.window("other").empty
    plog.close()


def test_feedback_and_live_accuracy(tmp_path):
    plog = PredictionLog(f"sqlite:///{tmp_path / 'p.db'}")
    plog.record("a", "category", 1, {}, "books", 0.9, 1.0)
    plog.record("b", "category", 1, {}, "grocery", 0.8, 1.0)
    plog.flush()
    assert plog.add_feedback("category", "a", "books")
    assert plog.add_feedback("category", "b", "fashion")
    assert not plog.add_feedback("category", "nope", "books")
    classes = ClassificationOutput()
    assert plog.live_score("category", classes) == {"n": 2, "metric": "accuracy", "value": 0.5}
    assert plog.live_score("other", classes) == {"n": 0, "metric": "accuracy", "value": None}
    plog.record("c", "stars", 1, {}, "4.5", None, 1.0)
    plog.record("d", "stars", 1, {}, "2.0", None, 1.0)
    plog.flush()
    assert plog.add_feedback("stars", "c", "5") and plog.add_feedback("stars", "d", "1")
    live = plog.live_score("stars", RegressionOutput())
    assert live["metric"] == "rmse" and live["n"] == 2 and abs(live["value"] - (0.5 ** 2 / 2 + 1 / 2) ** 0.5) < 1e-12
    plog.close()


def test_record_does_not_wait_for_the_database(tmp_path):
    # the request path only enqueues; the writer thread inserts when its batch window closes
    plog = PredictionLog(f"sqlite:///{tmp_path / 'p.db'}", batch_size=10_000, flush_interval=2.0)
    for i in range(50):
        plog.record(str(i), "category", 1, {"title": "x"}, "books", 0.5, 1.0)
    assert plog.count("category") == 0
    plog.close()  # drains the queue
    assert plog.count("category") == 50


def test_a_log_written_before_experiments_gains_their_columns_and_keeps_its_rows(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the table as releases before experiments created it
        conn.execute("CREATE TABLE predictions (id INTEGER PRIMARY KEY, request_id VARCHAR(64) NOT NULL, "
                     "task VARCHAR(64) NOT NULL, model_version INTEGER NOT NULL, features TEXT, prediction "
                     "VARCHAR(256), confidence FLOAT, latency_ms FLOAT, source VARCHAR(16) NOT NULL, "
                     "ts FLOAT NOT NULL)")
        conn.execute("INSERT INTO predictions (request_id, task, model_version, prediction, source, ts) "
                     "VALUES ('old-1', 'category', 1, 'books', 'online', 1.0)")
    log = PredictionLog(f"sqlite:///{path}")
    try:
        log.record("new-1", "category", 2, {"title": "x"}, "toys", 0.8, 1.0, experiment="e1", variant="challenger")
        log.flush()
        frame = log.window("category", last=10)
    finally:
        log.close()
    assert frame["request_id"].tolist() == ["old-1", "new-1"]
    assert frame["variant"].tolist()[1] == "challenger" and frame["experiment"].tolist()[1] == "e1"
    with sqlite3.connect(path) as conn:
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(predictions)")}
    assert "ix_predictions_experiment" in indexes
