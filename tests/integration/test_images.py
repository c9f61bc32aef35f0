"""Image tasks through the platform: train on real images, register, serve over HTTP (multipart and
base64), score a folder in batch on a Dask local cluster, read from an S3-compatible server."""

from __future__ import annotations

import base64
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from skuflow.images.sources import FASHION_MNIST_DIR, read_images
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.training.config import TrainConfig
from skuflow.training.train import train
from tests.conftest import SHARED_DATA, make_settings
from tests.helpers import wait_ready
from tests.unit.test_image_decode import bomb_png

pytest.importorskip("torch", reason="image tasks need the [image] extra")
needs_fmnist = pytest.mark.skipif(not os.path.exists(FASHION_MNIST_DIR),
                                  reason="Debian's dataset-fashion-mnist is not installed (make test installs it)")
FAST_CNN = TrainConfig.model_validate(
    {"model": {"kind": "cnn", "params": {"epochs": 3, "width": 16, "batch_size": 32}}})


@pytest.fixture(scope="module")
def fmnist() -> pd.DataFrame:
    if not os.path.exists(FASHION_MNIST_DIR):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    return read_images("fashion-mnist:400")


@pytest.fixture(scope="module")
def returns_home(tmp_path_factory, fmnist):
    settings = make_settings(tmp_path_factory.mktemp("returns") / "home", reload_interval=0.0)
    result = train("returns", "fashion-mnist:400", FAST_CNN, settings)
    return settings, result


def _write_folder(frame: pd.DataFrame, root: Path) -> list[Path]:
    paths = []
    for i, (img, label) in enumerate(zip(frame["image"], frame["label"], strict=True)):
        p = root / label / f"{i:04d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(img)
        paths.append(p)
    return paths


@needs_fmnist
def test_training_logs_curves_confusion_and_mistakes(returns_home):
    settings, result = returns_home
    assert result.promoted and result.version == 1
    assert result.rows == {"train": 400, "test": 400}  # Fashion-MNIST's own split, not a random one
    assert result.metrics["accuracy"] > 0.4  # ten classes: chance is 0.1
    store = RegistryStore(settings)
    artifacts = {a.path for a in store.client.list_artifacts(result.run_id)}
    assert {"learning_curves.png", "misclassified.png", "confusion_matrix.png", "saliency.png",
            "roc_pr_curves.json", "reliability.png"} <= artifacts
    curve = store.client.get_metric_history(result.run_id, "epoch.train_loss")
    assert [m.step for m in curve] == [1, 2, 3]


@needs_fmnist
def test_api_predicts_uploads_and_base64_and_refuses_bad_images(returns_home, fmnist):
    settings, _ = returns_home
    settings = settings.model_copy(update={"max_image_bytes": 50_000})
    img = fmnist["image"].iloc[-1]
    with TestClient(create_app(settings)) as client:
        for _ in range(100):
            if client.get("/ready").status_code == 200:
                break
            __import__("time").sleep(0.1)
        up = client.post("/v1/returns/predict", files={"file": ("item.png", img, "image/png")})
        assert up.status_code == 200, up.text
        body = up.json()
        assert body["version"] == 1 and len(body["top_k"]) == 3 and up.headers["x-model-version"] == "1"
        b64 = client.post("/v1/returns/predict", json={"image_base64": base64.b64encode(img).decode()}).json()
        assert (b64["prediction"], b64["confidence"]) == (body["prediction"], body["confidence"])

        many = client.post("/v1/returns/predict/batch",
                           files=[("files", (f"{i}.png", fmnist["image"].iloc[i], "image/png")) for i in range(3)])
        assert many.status_code == 200 and len(many.json()["predictions"]) == 3

        def err(resp):
            return resp.status_code, resp.json()["error_code"], resp.json()["message"]

        status, code, msg = err(client.post("/v1/returns/predict", files={"file": ("x.txt", b"hello", "text/plain")}))
        assert (status, code) == (415, "unsupported_media_type") and "not a supported image" in msg
        status, code, msg = err(client.post("/v1/returns/predict", files={"file": ("x.png", img[:50], "image/png")}))
        assert status == 422 and "corrupt or truncated" in msg
        status, code, msg = err(client.post("/v1/returns/predict", files={"file": ("b.png", bomb_png(), "image/png")}))
        assert status == 413 and "decompression-bomb" in msg
        noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
        buf = io.BytesIO()
        noise.save(buf, format="PNG")
        big = {"file": ("n.png", buf.getvalue(), "image/png")}
        status, code, msg = err(client.post("/v1/returns/predict", files=big))
        assert status == 413 and "image cap" in msg
        status, code, msg = err(client.post("/v1/returns/predict", files={"photo": ("x.png", img, "image/png")}))
        assert status == 422 and "file" in msg
        status, code, msg = err(client.post("/v1/returns/predict", json={"image": "x"}))
        assert status == 422 and "image_base64" in msg
        status, _, msg = err(client.post("/v1/returns/predict", content=img, headers={"content-type": "image/png"}))
        assert status == 415 and "multipart/form-data" in msg
        status, _, msg = err(client.post("/v1/returns/predict/batch", files=[
            ("files", ("a.png", img, "image/png")), ("files", ("b.png", b"GIF89a-broken", "image/gif"))]))
        assert status == 415 and msg.startswith("images[1]:")
        # the prediction log keeps image statistics and a hash, never the pixels
        from skuflow.monitoring.prediction_log import decode_features

        client.app.state.scorer.plog.flush()
        logged = decode_features(client.app.state.scorer.plog.window("returns", 10))
        assert len(logged) >= 5 and {"sha256", "brightness", "width"} <= set(logged[0])
        assert "image" not in logged[0]


@needs_fmnist
def test_the_gate_tells_photos_apart(fmnist):
    """Seen rows are digests of the photo bytes: test photos are unseen, a training photo is seen (before,
    every row digested to the same empty value and the gate never had a row to compare)."""
    from skuflow.tasks.base import get_task
    from skuflow.training.seen_rows import SeenRows

    task = get_task("returns")
    train_rows, test_rows = fmnist[fmnist["split"] != "test"], fmnist[fmnist["split"] == "test"]
    seen = SeenRows.of(train_rows, task.input_columns())
    assert seen.unseen(test_rows, task.input_columns()).sum() == len(test_rows)
    assert not seen.unseen(train_rows.head(5), task.input_columns()).any()


@needs_fmnist
def test_explain_shows_where_the_model_looked(returns_home, fmnist):
    settings, _ = returns_home
    settings = settings.model_copy(update={"max_image_bytes": 50_000})
    img = fmnist["image"].iloc[-1]
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        r = client.post("/v1/returns/explain", files={"file": ("item.png", img, "image/png")})
        assert r.status_code == 200, r.text
        body = r.json()
        predicted = client.post("/v1/returns/predict", files={"file": ("item.png", img, "image/png")}).json()
        assert (body["prediction"], body["confidence"]) == (predicted["prediction"], predicted["confidence"])
        grid = np.asarray(body["grid"])
        assert grid.shape == (7, 7) and np.abs(grid).max() > 0  # covering some part of the photo matters
        assert base64.b64decode(body["heatmap_png_base64"])[:4] == b"\x89PNG"
        noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
        buf = io.BytesIO()
        noise.save(buf, format="PNG")
        too_big = client.post("/v1/returns/explain", files={"file": ("n.png", buf.getvalue(), "image/png")})
        assert too_big.status_code == 413 and "image cap" in too_big.json()["message"]
        assert client.post("/v1/nope/explain", files={"file": ("item.png", img, "image/png")}).status_code == 404


@needs_fmnist
def test_batch_matches_online_and_resumes(returns_home, fmnist, tmp_path):
    from skuflow.batch.score import run_batch

    settings, result = returns_home
    folder = tmp_path / "returned"
    paths = _write_folder(fmnist[fmnist["split"] == "test"].head(40), folder)
    (folder / "unknown").mkdir()
    (folder / "unknown" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    out = str(tmp_path / "scored.parquet")
    res = run_batch("returns", str(folder), out, settings, n_workers=2)
    assert res.rows == 41 and res.invalid_rows == 1 and res.model_version == result.version and res.run_id
    scored = pd.read_parquet(out).set_index("path")
    assert scored.loc[str(folder / "unknown" / "broken.jpg"), "error"].startswith("image: not a supported image")

    with TestClient(create_app(settings)) as client:
        while client.get("/ready").status_code != 200:
            __import__("time").sleep(0.1)
        for p in paths[:8]:
            online = client.post("/v1/returns/predict", files={"file": (p.name, p.read_bytes(), "image/png")}).json()
            row = scored.loc[str(p)]
            assert online["prediction"] == row["prediction"]
            assert online["confidence"] == pytest.approx(row["confidence"], abs=1e-3)

    again = run_batch("returns", str(folder), out, settings, n_workers=1)
    assert again.rows == 0  # nothing new: nothing scored twice
    shutil.copy(paths[0], folder / "unknown" / "new-1.png")
    shutil.copy(paths[1], folder / "unknown" / "new-2.png")
    third = run_batch("returns", str(folder), out, settings, n_workers=1)
    assert third.rows == 2
    final = pd.read_parquet(out)
    assert len(final) == 43 and final["path"].is_unique


@needs_fmnist
def test_ingest_to_s3_then_train_and_score_from_the_bucket(s3_env, fmnist, tmp_path):
    from typer.testing import CliRunner

    from skuflow.batch.score import run_batch
    from skuflow.cli.main import app

    _, client = s3_env
    client.create_bucket(Bucket="returns")
    local = tmp_path / "photos"
    for split in ("train", "test"):
        _write_folder(fmnist[fmnist["split"] == split].head(40), local / split)  # each file is an S3 call
    run = CliRunner().invoke(app, ["data", "ingest", str(local), "s3://returns/photos", "--json"])
    assert run.exit_code == 0, run.output
    report = __import__("json").loads(run.output.strip().splitlines()[-1])
    assert report["files"] == 80 and report["copied"] == 80 and not report["mismatches"]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="returns", Prefix="photos/").get("Contents", [])]
    assert "photos/_skuflow_checksums.json" in keys and len(keys) == 81
    again = CliRunner().invoke(app, ["data", "ingest", str(local), "s3://returns/photos", "--json"])
    assert __import__("json").loads(again.output.strip().splitlines()[-1])["skipped"] == 80

    settings = make_settings(tmp_path / "home")
    result = train("returns", "s3://returns/photos", FAST_CNN, settings)
    assert result.rows == {"train": 40, "test": 40} and result.promoted
    res = run_batch("returns", "s3://returns/photos/test", "s3://returns/scored.parquet", settings, n_workers=1,
                    log_to_mlflow=False)
    assert res.rows == 40 and res.invalid_rows == 0


ENGAGEMENT_CLASSES = {"high_engagement": ("dress", "shoes"), "low_engagement": ("pants", "shorts")}


@pytest.mark.shared_data
@pytest.mark.slow
def test_engagement_trains_from_folder_layout_and_serves(tmp_path):
    # No public engagement-labelled image set exists: the layout is built from real clothing photos,
    # two classes standing in for "high" and two for "low".
    root = tmp_path / "engagement"
    src = SHARED_DATA / "clothing-photos"
    for split, n in (("train", 12), ("test", 6)):
        for label, classes in ENGAGEMENT_CLASSES.items():
            (root / split / label).mkdir(parents=True)
            for cls in classes:
                for p in sorted((src / split / cls).glob("*.jpg"))[:n]:
                    shutil.copy(p, root / split / label / f"{cls}-{p.name}")
    settings = make_settings(tmp_path / "home", reload_interval=0.0)
    cfg = TrainConfig.model_validate({"model": {"params": {"epochs": 3, "finetune_blocks": 1, "views": 2}}})
    result = train("engagement", str(root), cfg, settings)
    assert result.promoted and result.rows == {"train": 48, "test": 24}
    assert result.metrics["accuracy"] >= 0.75  # pretrained features separate dresses/shoes from trousers
    photo = next((root / "test" / "high_engagement").glob("*.jpg")).read_bytes()
    with TestClient(create_app(settings)) as client:
        while client.get("/ready").status_code != 200:
            __import__("time").sleep(0.1)
        r = client.post("/v1/engagement/predict", files={"file": ("p.jpg", photo, "image/jpeg")})
        assert r.status_code == 200, r.text
        assert r.json()["prediction"] in ENGAGEMENT_CLASSES and len(r.json()["top_k"]) == 2


@needs_fmnist
def test_an_image_task_runs_an_ab_experiment_like_a_record_task(returns_home, fmnist):
    from skuflow.experiments import record

    settings, first = returns_home
    settings = settings.model_copy(update={"admin_api_key": "img-key"})
    second = train("returns", "fashion-mnist:400", FAST_CNN, settings.model_copy(update={"promotion_min_rows": 10**9}))
    assert not second.promoted
    img = fmnist["image"].iloc[0]
    try:
        with TestClient(create_app(settings)) as client:
            wait_ready(client)
            r = client.post("/v1/returns/experiment", headers={"X-API-Key": "img-key"},
                            json={"challenger": second.version, "mode": "ab", "traffic": 0.5})
            assert r.status_code == 201
            seen = {}
            for caller in ("a", "b", "c", "d", "e", "f", "g", "h"):
                for _ in range(2):  # the header names the caller: the same arm both times
                    resp = client.post("/v1/returns/predict", files={"file": ("item.png", img, "image/png")},
                                       headers={"X-Experiment-Key": caller})
                    assert resp.status_code == 200
                    seen.setdefault(caller, set()).add((resp.headers["X-Experiment-Variant"],
                                                        resp.headers["X-Model-Version"]))
            assert all(len(v) == 1 for v in seen.values())
            arms = {next(iter(v)) for v in seen.values()}
            assert arms <= {("champion", str(first.version)), ("challenger", str(second.version))}
            status = client.get("/v1/returns/experiment").json()
            assert sum(v["attempts"] for v in status["variants"].values()) == 16
    finally:
        record.end(RegistryStore(settings), "returns", "stopped", "test teardown")


@needs_fmnist
def test_open_inference_v2_takes_encoded_images_binary_or_base64(returns_home, fmnist):
    tc = pytest.importorskip("tritonclient.http", reason="tritonclient is a test dependency")
    from tests.helpers import running_server

    settings, _ = returns_home
    photos = list(fmnist["image"].iloc[:4])
    with running_server(create_app(settings)) as base:
        v1 = [__import__("httpx").post(base + "/v1/returns/predict", files={"file": ("p.png", p, "image/png")})
              .json()["prediction"] for p in photos]
        triton = tc.InferenceServerClient(base.removeprefix("http://"))
        meta = triton.get_model_metadata("returns")
        assert meta["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1]}]
        given = tc.InferInput("image", [len(photos)], "BYTES")
        given.set_data_from_numpy(np.array(photos, dtype=object))  # raw PNG bytes, the binary extension
        labels = [str(x) for x in triton.infer("returns", [given]).as_numpy("label")]  # JSON outputs: text
        assert labels == v1
        b64 = {"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                           "data": [base64.b64encode(photos[0]).decode()]}]}
        r = __import__("httpx").post(base + "/v2/models/returns/infer", json=b64)
        assert r.status_code == 200 and r.json()["outputs"][0]["data"] == [v1[0]]
        broken = {"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["bm90IGFuIGltYWdl"]}]}
        r = __import__("httpx").post(base + "/v2/models/returns/infer", json=broken)
        assert r.status_code in (415, 422) and "error" in r.json()


@needs_fmnist
def test_concurrent_photos_are_batched_and_a_broken_one_fails_alone(returns_home, fmnist):
    """Image tasks batch by default: concurrent callers share forward passes, each gets its own answer, and
    a corrupt photo among them is that caller's 4xx only."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.helpers import running_server

    settings, _ = returns_home
    photos = list(fmnist["image"].iloc[:24])
    with running_server(create_app(settings.model_copy(update={"max_batch_wait_ms": 50.0}))) as base:
        alone = [httpx.post(base + "/v1/returns/predict", files={"file": ("p.png", p, "image/png")}).json()
                 for p in photos[:4]]

        def send(i: int) -> httpx.Response:
            data = photos[i] if i != 5 else photos[i][:60]  # a truncated PNG
            return httpx.post(base + "/v1/returns/predict", files={"file": ("p.png", data, "image/png")}, timeout=30)

        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(send, range(len(photos))))
        assert answers[5].status_code == 422 and "corrupt or truncated" in answers[5].json()["message"]
        assert all(r.status_code == 200 for i, r in enumerate(answers) if i != 5)
        for i in range(4):  # batched or not, the same photo gets the same answer
            assert answers[i].json()["prediction"] == alone[i]["prediction"]
            assert abs(answers[i].json()["confidence"] - alone[i]["confidence"]) < 1e-5
        metrics = httpx.get(base + "/metrics").text
    count = float(next(line.split()[-1] for line in metrics.splitlines()
                       if line.startswith('skuflow_batch_rows_count{task="returns"}')))
    assert count < len(photos) + 4, "every request was scored alone: nothing was batched"


@needs_fmnist
@pytest.mark.shared_data
def test_a_config_without_a_model_gets_the_family_that_fits_the_images(fmnist):
    from skuflow.tasks.base import get_task
    from skuflow.tasks.images import PHOTO_RECIPE

    task = get_task("returns")
    kind, params, why = task.default_model(fmnist)
    assert (kind, params) == ("cnn", {}) and "grey" in why and "28px" in why
    jpgs = sorted((SHARED_DATA / "clothing-photos" / "test").rglob("*.jpg"))[:12]
    photos = pd.DataFrame({"image": [p.read_bytes() for p in jpgs], "label": [p.parent.name for p in jpgs]})
    kind, params, why = task.default_model(photos)
    assert kind == "efficientnet_lite0" and params == PHOTO_RECIPE and "colour" in why
