"""skuflow against real servers instead of the embedded defaults: an MLflow tracking server on 127.0.0.1
with a Postgres backend store (Debian's postgresql, started here) and artifacts on an S3-compatible server
(moto_server, started here), the prediction log in Postgres too. Only configuration differs from the
embedded path: train, register, promote, serve, predict."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from skuflow.data.generate import generate_catalogue
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.settings import Settings
from skuflow.training.train import train
from tests.conftest import FAST_LGBM
from tests.helpers import free_port, running_server, server_process

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None) if Path("/usr/lib/postgresql").exists() \
    else None
BIN = Path(sys.executable).parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PG_BIN is None, reason="postgresql not installed (make test installs it where apt exists)"),
]


def _as_postgres(cmd: list[str]) -> list[str]:
    # the server refuses to run as root; the Debian package creates a postgres user for it
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    data = tempfile.mkdtemp(prefix="skuflow-pg-")
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", data, "-l", f"{data}/log", "-w", "-o",
                                 f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    for db in ("mlflow", "skuflow"):
        subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                        f"CREATE DATABASE {db}"], check=True, capture_output=True)
    yield f"postgresql://postgres@127.0.0.1:{port}"
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", data, "-m", "fast", "stop"]), capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def mlflow_server(postgres, s3, tmp_path_factory):
    s3_url, _ = s3
    port = free_port()
    env = {**os.environ, "MLFLOW_S3_ENDPOINT_URL": s3_url, "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "MLFLOW_DISABLE_TELEMETRY": "true"}
    url = f"http://127.0.0.1:{port}"
    with server_process([str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                         "--backend-store-uri", f"{postgres}/mlflow", "--artifacts-destination", "s3://mlflow/",
                         "--serve-artifacts", "--workers", "1"], url + "/health",
                        tmp_path_factory.mktemp("mlflow") / "server.log", env=env):
        yield url


def test_train_register_promote_serve_predict_on_real_servers(mlflow_server, postgres, s3, tmp_path):
    _, s3_client = s3
    settings = Settings(home=tmp_path / "home", mlflow_uri=mlflow_server,
                        prediction_log_url=f"{postgres}/skuflow", reload_interval=0.0)
    assert settings.artifact_root is None  # the tracking server decides where artifacts go
    from skuflow.training.config import TrainConfig

    result = train("category", generate_catalogue(800, seed=3), TrainConfig(model=FAST_LGBM), settings)
    assert result.promoted and result.champion_version == 1
    store = RegistryStore(settings)
    assert store.champion("category").version == 1
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket="mlflow").get("Contents", [])]
    assert any(k.endswith("model.pkl") for k in keys) and any(k.endswith("reference_profile.json") for k in keys)
    assert not (tmp_path / "home" / "artifacts").exists()  # nothing landed on the local disk

    with running_server(create_app(settings)) as base:
        r = httpx.post(base + "/v1/category/predict", json={"title": "organic green tea", "price": 8.5})
        assert r.status_code == 200 and r.headers["x-model-version"] == "1"
        info = httpx.get(base + "/info").json()["models"]["category"]
        assert info["run_id"] == result.run_id
        drift = httpx.get(base + "/v1/category/drift?window=10")
        assert drift.status_code == 200  # the reference profile came back from S3 through the server
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{postgres}/skuflow")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT task, model_version, prediction FROM predictions")).all()
    engine.dispose()
    assert rows and rows[0][0] == "category" and rows[0][1] == 1


def test_batch_reads_and_writes_s3(trained_home, s3_env, tmp_path):
    # the same fsspec code a user points at AWS or MinIO, here at an S3-compatible server on 127.0.0.1
    from skuflow.batch.score import run_batch
    from skuflow.data.ingest import read_table, write_table

    url, client = s3_env
    client.create_bucket(Bucket="catalogue")
    s, result = trained_home
    frame = generate_catalogue(1200, seed=31)
    write_table(frame, "s3://catalogue/in/catalogue.parquet")
    res = run_batch("category", "s3://catalogue/in/catalogue.parquet", "s3://catalogue/scored", s, n_workers=2,
                    partition_rows=500, log_to_mlflow=False)
    assert res.rows == 1200 and res.model_version == result.version
    scored = read_table("s3://catalogue/scored")
    assert len(scored) == 1200 and scored["id"].is_unique
