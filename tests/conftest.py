"""Shared fixtures: real MLflow stores in temp folders and real models trained on small data."""

from __future__ import annotations

import os

# set before anything imports mlflow: no telemetry, no hub downloads, no Prefect analytics
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# Prefect keeps its ephemeral server's database here, not in the user's ~/.prefect
os.environ.setdefault("PREFECT_HOME", __import__("tempfile").mkdtemp(prefix="skuflow-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from skuflow.data.generate import generate_catalogue  # noqa: E402
from skuflow.settings import Settings  # noqa: E402
from skuflow.training.config import ModelConfig, TrainConfig  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FAST_LGBM = ModelConfig(kind="lightgbm", params={"n_estimators": 40, "num_leaves": 15})


FEEDBACK_KEY = "test-feedback-key"  # labels need a key (SKUFLOW_FEEDBACK_API_KEY); tests send tests.helpers.FEEDBACK


def make_settings(home: Path, **overrides) -> Settings:
    return Settings(home=home, **{"feedback_api_key": FEEDBACK_KEY, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh embedded store (SQLite + local artifacts) per test."""
    return make_settings(tmp_path / "home")


@pytest.fixture(scope="session")
def catalogue() -> pd.DataFrame:
    return generate_catalogue(2000, seed=7)


@pytest.fixture(scope="session")
def fast_config() -> TrainConfig:
    return TrainConfig(model=FAST_LGBM)


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, catalogue: pd.DataFrame, fast_config: TrainConfig):
    """One registry with a champion category model, shared by read-only tests (API, CLI reads)."""
    from skuflow.training.train import train

    home = tmp_path_factory.mktemp("trained") / "home"
    s = make_settings(home)
    result = train("category", catalogue, fast_config, s)
    assert result.promoted
    return s, result


@pytest.fixture(scope="module")
def client(trained_home):
    """The API over the shared champion: one app per test module, through Starlette's TestClient."""
    from fastapi.testclient import TestClient

    from skuflow.serving.app import create_app
    from tests.helpers import wait_ready

    s, _ = trained_home
    with TestClient(create_app(s)) as c:
        wait_ready(c)
        yield c


def pytest_collection_modifyitems(config, items):
    if not SHARED_DATA.exists():
        skip = pytest.mark.skip(reason=f"shared datasets not found at {SHARED_DATA}")
        for item in items:
            if "shared_data" in item.keywords:
                item.add_marker(skip)
    # started at collection, the Prefect server comes up while the tests before the first flow run
    if any("prefect_api" in item.fixturenames for item in items):
        _start_prefect()


@pytest.fixture(scope="session")
def s3():
    """An S3-compatible server (moto_server) on 127.0.0.1, one per session, and a boto3 client for it."""
    import subprocess
    import sys

    from tests.helpers import free_port, wait_http

    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_http(url, proc=proc)
    import boto3

    client = boto3.client("s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket="mlflow")
    yield url, client
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def s3_env(s3, monkeypatch):
    """Point fsspec/s3fs and boto3 at the test S3 server, as a user would point them at AWS or MinIO."""
    url, client = s3
    for key, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    # fsspec caches filesystem instances; one built before these variables were set would talk elsewhere
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    yield url, client
    s3fs.S3FileSystem.clear_instance_cache()


_PREFECT: dict = {}


def _start_prefect() -> None:
    """Start the session's Prefect API server without waiting for it (it takes ~10 s to come up)."""
    import subprocess
    import sys
    import tempfile

    from tests.helpers import free_port

    port = free_port()
    log = open(Path(tempfile.mkdtemp(prefix="skuflow-prefect-log-")) / "server.log", "w")
    _PREFECT.update(url=f"http://127.0.0.1:{port}/api", log=log, proc=subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1", "--port",
         str(port), "--no-services", "--no-ui", "--analytics-off"], stdout=log, stderr=subprocess.STDOUT))


@pytest.fixture(scope="session")
def prefect_api():
    """One Prefect API server for the session, for tests whose flows run in a child process (retraining):
    alone, each child starts a temporary server of its own, ~10 s apiece. Yields the PREFECT_API_URL."""
    from tests.helpers import wait_http

    if not _PREFECT:
        _start_prefect()
    proc = _PREFECT["proc"]
    try:
        wait_http(_PREFECT["url"] + "/health", timeout=120, proc=proc)
        yield _PREFECT["url"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        _PREFECT["log"].close()
        _PREFECT.clear()
