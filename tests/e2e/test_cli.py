"""The skuflow command, driven as a user drives it."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from skuflow.cli.main import app
from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.settings import get_settings

runner = CliRunner()
FAST = "model:\n  kind: lightgbm\n  params: {n_estimators: 30, num_leaves: 7}\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def _train(tmp_path, data: str, extra: list[str] | None = None):
    cfg = tmp_path / "fast.yaml"
    cfg.write_text(FAST)
    return runner.invoke(app, ["train", "category", "--data", data, "--config", str(cfg), "--json", *(extra or [])])


def test_train_json_contract_and_second_run(home):
    data = home / "cat.csv"
    generate_catalogue(800, seed=5).to_csv(data, index=False)
    r = _train(home, str(data))
    assert r.exit_code == 0, r.output
    out = last_json(r.stdout)
    assert {"run_id", "model_name", "version", "metrics", "promoted", "champion_version"} <= set(out)
    assert out["promoted"] and out["version"] == out["champion_version"] == 1
    assert out["metrics"]["macro_f1"] > 0.5
    r2 = _train(home, str(data))
    out2 = last_json(r2.stdout)
    assert out2["version"] == 2 and not out2["promoted"] and out2["champion_version"] == 1


def test_train_without_label_column_fails_in_one_line_and_keeps_champion(home):
    good = home / "good.parquet"
    generate_catalogue(500, seed=1).to_parquet(good)
    assert _train(home, str(good)).exit_code == 0
    bad = home / "nolabel.csv"
    generate_catalogue(300, seed=2).drop(columns=["category"]).to_csv(bad, index=False)
    r = _train(home, str(bad))
    assert r.exit_code != 0
    err_lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(err_lines) == 1 and "'category'" in err_lines[0]
    assert last_json(r.stdout)["error_code"] == "missing_column"
    hist = last_json(runner.invoke(app, ["models", "list", "category", "--json"]).stdout)
    assert [v["version"] for v in hist["versions"] if "champion" in v["aliases"]] == [1]


def test_models_history_promote_rollback(home):
    data = home / "c.jsonl"
    generate_catalogue(500, seed=3).to_json(data, orient="records", lines=True)
    assert _train(home, str(data)).exit_code == 0
    assert _train(home, str(data)).exit_code == 0
    r = runner.invoke(app, ["models", "promote", "category", "2", "--reason", "hotfix", "--json"])
    assert r.exit_code == 0 and last_json(r.stdout)["champion_version"] == 2
    r = runner.invoke(app, ["models", "rollback", "category", "--json"])
    assert r.exit_code == 0 and last_json(r.stdout)["champion_version"] == 1
    hist = last_json(runner.invoke(app, ["models", "history", "category", "--json"]).stdout)["history"]
    assert [(h["action"], h["to"]) for h in hist] == [("promote", 1), ("promote", 2), ("rollback", 1)]
    assert hist[1]["reason"] == "hotfix"
    r = runner.invoke(app, ["models", "promote", "category", "42", "--reason", "typo", "--json"])
    assert r.exit_code == 1 and "version 42 not found" in r.stderr
    r = runner.invoke(app, ["models", "promote", "category", "2", "--json"])  # a hand promotion says why
    assert r.exit_code == 2 and "--reason" in r.stderr


def test_data_generate(home):
    out = home / "gen.parquet"
    r = runner.invoke(app, ["data", "generate", "--rows", "120", "--out", str(out), "--json"])
    assert r.exit_code == 0
    assert last_json(r.stdout)["rows"] == 120 and len(pd.read_parquet(out)) == 120


def test_drift_report_writes_html_and_logs_to_mlflow(trained_home, tmp_path, monkeypatch):
    from skuflow.data.generate import DriftKnobs
    from skuflow.monitoring.prediction_log import PredictionLog

    s, result = trained_home
    monkeypatch.setenv("SKUFLOW_HOME", str(s.home))
    get_settings.cache_clear()
    plog = PredictionLog(str(s.prediction_log_url))
    shifted = generate_catalogue(400, seed=9, knobs=DriftKnobs(price_scale=2.0))
    for i, rec in enumerate(listing_records(shifted[["title", "description", "brand", "seller_id", "price"]])):
        plog.record(f"cli-{i}", "category", result.version, rec, "books", 0.6, 1.0)
    plog.close()
    out = tmp_path / "drift.html"
    r = runner.invoke(app, ["drift", "report", "category", "--window", "400", "--out", str(out), "--json"])
    get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    summary = last_json(r.stdout)
    assert summary["drifted"] and "price" in summary["drifted_columns"] and summary["rows"] == 400
    page = out.read_text()
    assert "Drift report: category" in page and page.count("data:image/png;base64,") >= 6
    from skuflow.registry.store import RegistryStore

    arts = {a.path for a in RegistryStore(s).client.list_artifacts(summary["run_id"])}
    assert {"drift.html", "drift_report.json"} <= arts


def test_drift_report_without_champion_fails_cleanly(home):
    r = runner.invoke(app, ["drift", "report", "category", "--json"])
    assert r.exit_code == 1 and "has no champion" in r.stderr


def test_experiment_start_status_stop_and_batch_uses_the_champion(home):
    data = home / "cat.csv"
    generate_catalogue(800, seed=5).to_csv(data, index=False)
    assert _train(home, str(data)).exit_code == 0
    generate_catalogue(800, seed=6).to_csv(data, index=False)
    second = last_json(_train(home, str(data)).stdout)  # 160 test rows < the gate's 500: registered, not promoted
    assert second["version"] == 2 and not second["promoted"]
    bad = runner.invoke(app, ["experiment", "start", "category", "--challenger", "2", "--guardrail", "speed=1",
                              "--json"])
    assert bad.exit_code == 1 and "Unknown guardrail 'speed'" in bad.output
    r = runner.invoke(app, ["experiment", "start", "category", "--challenger", "2", "--mode", "ab", "--traffic",
                            "0.2", "--key", "seller_id", "--guardrail", "error_rate=0.01,p99_ms=50", "--json"])
    assert r.exit_code == 0, r.output
    started = last_json(r.stdout)
    assert started["state"] == "running" and started["guardrails"] == {"error_rate": 0.01, "p99_ms": 50.0}
    assert started["started_by"].startswith("cli:")
    status = last_json(runner.invoke(app, ["experiment", "status", "category", "--json"]).stdout)
    assert status["id"] == started["id"] and status["test"]["decision"] == "continue"
    assert set(status["variants"]) == {"champion", "challenger"}
    table = home / "score.csv"
    generate_catalogue(200, seed=8).to_csv(table, index=False)
    b = runner.invoke(app, ["batch", "category", "--input", str(table), "--output", str(home / "out"),
                            "--workers", "1", "--json"])
    assert b.exit_code == 0, b.output
    scored = last_json(b.stdout)
    champion = started["champion"]
    assert scored["model_version"] == champion and f"used the champion v{champion}" in scored["note"]
    stopped = last_json(runner.invoke(app, ["experiment", "stop", "category", "--json"]).stdout)
    assert stopped["state"] == "stopped"
    assert runner.invoke(app, ["experiment", "stop", "category", "--json"]).exit_code == 1  # nothing running
