"""Batch scoring on a real Dask LocalCluster against a real registry."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from skuflow.batch.score import run_batch
from skuflow.data.generate import generate_catalogue
from skuflow.data.ingest import write_table
from skuflow.data.partitions import plan_partitions, read_partition
from skuflow.errors import ConfigError, MissingColumnError
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import get_task


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_partitions_cover_every_row_exactly_once(tmp_path, suffix):
    frame = generate_catalogue(3000, seed=4).drop(columns=["created_at", "image"])
    url = str(tmp_path / f"in.{suffix}")
    if suffix == "parquet":
        frame.to_parquet(url, index=False, row_group_size=400)
    else:
        write_table(frame, url)
    parts = plan_partitions(url, partition_rows=1000, block_bytes=50_000)
    assert len(parts) > 2
    ids = pd.concat([read_partition(p) for p in parts])["id"].astype(str).tolist()
    assert sorted(ids) == sorted(frame["id"].tolist()) and len(ids) == len(set(ids))


def test_oversized_row_group_is_split_by_rows(tmp_path):
    frame = generate_catalogue(2500, seed=4).drop(columns=["created_at"])
    url = str(tmp_path / "one_group.parquet")
    frame.to_parquet(url, index=False, row_group_size=10_000)
    parts = plan_partitions(url, partition_rows=1000)
    assert len(parts) == 3
    assert pd.concat([read_partition(p) for p in parts])["id"].tolist() == frame["id"].tolist()


def test_batch_matches_online_predictions_and_logs_to_mlflow(trained_home, tmp_path):
    s, result = trained_home
    frame = generate_catalogue(1500, seed=21)
    frame.loc[3, "title"] = None  # kept with a reason, never dropped
    src = tmp_path / "catalogue.parquet"
    frame.to_parquet(src, index=False, row_group_size=500)
    out = tmp_path / "scored"
    seen = []
    res = run_batch("category", str(src), str(out), s, n_workers=2, partition_rows=500,
                    on_progress=lambda d, t: seen.append((d, t)))
    assert res.rows == 1500 and res.partitions == 3 and res.partitions_skipped == 0
    assert res.model_version == result.version and res.invalid_rows == 1
    assert seen[-1] == (3, 3)
    scored = pd.read_parquet(out).sort_values("id").reset_index(drop=True)
    assert scored["id"].is_unique and len(scored) == 1500
    assert set(scored.columns) >= {"id", "prediction", "confidence", "model_name", "model_version", "scored_at"}
    bad = scored.set_index("id").loc[frame.loc[3, "id"]]
    assert pd.isna(bad["prediction"]) and bad["error"] == "title: missing value"
    # the online path (task.predict on dict records) gives the same labels for the same version
    model = RegistryStore(s).load_model("category", result.version)
    sample = frame.drop(index=3).sample(200, random_state=0)
    online = get_task("category").predict(model, sample.to_dict(orient="records"))
    batch = scored.set_index("id").loc[sample["id"]]
    assert batch["prediction"].tolist() == online.labels
    assert batch["confidence"].round(12).tolist() == [round(c, 12) for c in online.confidences]
    run = RegistryStore(s).client.get_run(res.run_id)
    assert run.data.metrics["rows"] == 1500 and run.data.tags["skuflow.kind"] == "batch"
    # a rerun finds every part written and scores nothing
    again = run_batch("category", str(src), str(out), s, n_workers=1, partition_rows=500)
    assert again.partitions_skipped == 3 and again.rows == 0


def test_batch_errors_name_the_problem(trained_home, tmp_path):
    s, _ = trained_home
    src = tmp_path / "nokey.csv"
    generate_catalogue(50, seed=1).drop(columns=["id"]).to_csv(src, index=False)
    with pytest.raises(MissingColumnError, match="'id'"):
        run_batch("category", str(src), str(tmp_path / "o"), s)
    good = tmp_path / "good.csv"
    generate_catalogue(50, seed=1).to_csv(good, index=False)
    other = tmp_path / "other.csv"
    generate_catalogue(60, seed=2).to_csv(other, index=False)
    run_batch("category", str(good), str(tmp_path / "o2"), s, n_workers=1, log_to_mlflow=False)
    with pytest.raises(ConfigError, match="different batch job"):
        run_batch("category", str(other), str(tmp_path / "o2"), s, n_workers=1)


@pytest.mark.slow
def test_killed_batch_resumes_without_duplicates(trained_home, tmp_path):
    s, _ = trained_home
    frame = generate_catalogue(40_000, seed=8)
    src = tmp_path / "big.parquet"
    frame.to_parquet(src, index=False, row_group_size=1000)
    out = tmp_path / "scored"
    env = {**os.environ, "SKUFLOW_HOME": str(s.home)}
    cmd = [sys.executable, "-m", "skuflow", "batch", "category", "--input", str(src), "--output", str(out),
           "--partition-rows", "1000", "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(Path(out).glob("part-*.parquet"))) < 5:
        assert proc.poll() is None, "batch finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # the client dies mid-job; its workers are orphaned
    proc.wait()
    written = len(list(Path(out).glob("part-*.parquet")))
    assert 0 < written < 40
    rerun = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    scored = pd.read_parquet(out)
    assert len(scored) == 40_000 and scored["id"].is_unique
    assert set(scored["id"]) == set(frame["id"])


def _allocator_environment() -> dict:
    from skuflow.allocator import ENVIRONMENT

    return {key: os.environ.get(key) for key in ENVIRONMENT}


def test_local_workers_start_with_the_allocator_setting():
    """glibc reads these at start-up only: the workers must be born with them (Dask's own default, a
    128 kB trim threshold, halved image scoring speed)."""
    from skuflow.allocator import ENVIRONMENT
    from skuflow.cluster import start_client

    client, cluster = start_client(None, 1)
    try:
        seen = client.run(_allocator_environment)
    finally:
        client.close()
        cluster.close()
    assert list(seen.values()) == [ENVIRONMENT]
