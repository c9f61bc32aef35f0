"""The Open Inference Protocol (V2) against `create_app` on 127.0.0.1: Triton's own client from PyPI, unchanged,
reads the metadata and gets the same predictions as `/v1`; KServe's REST JSON examples work as written; bad
tensors get the protocol's error body with the usual 4xx; the requests reach the prediction log and metrics."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from skuflow.serving.app import create_app
from tests.helpers import FEEDBACK, running_server

tc = pytest.importorskip("tritonclient.http", reason="tritonclient is a test dependency")

ROWS = [{"title": "Kovari wireless headphones - noise cancelling", "brand": "Kovari", "price": 129.0},
        {"title": "Organic green tea, 100 bags", "brand": "Leafy", "price": 4.5},
        {"title": "Hardcover novel: the long winter", "brand": "Northpress", "price": 18.0}]


@pytest.fixture(scope="module")
def base(trained_home):
    s, _ = trained_home
    with running_server(create_app(s)) as url:
        yield url


@pytest.fixture(scope="module")
def triton(base):
    return tc.InferenceServerClient(base.removeprefix("http://"))


def _inputs(binary: bool) -> list:
    out = []
    for name, datatype, values in (("title", "BYTES", np.array([r["title"].encode() for r in ROWS], dtype=object)),
                                   ("brand", "BYTES", np.array([r["brand"].encode() for r in ROWS], dtype=object)),
                                   ("price", "FP32", np.array([r["price"] for r in ROWS], dtype=np.float32))):
        given = tc.InferInput(name, [len(ROWS)], datatype)
        given.set_data_from_numpy(values, binary_data=binary)
        out.append(given)
    return out


def test_triton_client_reads_metadata_and_predicts_what_v1_predicts(triton, base):
    assert triton.is_server_live() and triton.is_server_ready() and triton.is_model_ready("category")
    assert "binary_tensor_data" in triton.get_server_metadata()["extensions"]
    meta = triton.get_model_metadata("category")
    inputs = {t["name"]: t["datatype"] for t in meta["inputs"]}
    assert inputs["title"] == "BYTES" and inputs["price"] == "FP32"
    outputs = {t["name"]: t for t in meta["outputs"]}
    classes = json.loads(outputs["probabilities"]["parameters"]["classes"])
    assert outputs["label"]["datatype"] == "BYTES" and outputs["probabilities"]["shape"] == [-1, len(classes)]

    v1 = httpx.post(base + "/v1/category/predict/batch", json={"records": ROWS}).json()["predictions"]
    for binary in (True, False):  # the binary tensor extension (Triton's default) and plain JSON
        result = triton.infer("category", _inputs(binary))
        labels = [x.decode() if isinstance(x, bytes) else x for x in result.as_numpy("label")]
        assert labels == [p["prediction"] for p in v1]
        assert np.allclose(result.as_numpy("probability"), [p["confidence"] for p in v1], atol=1e-6)
        matrix = result.as_numpy("probabilities")
        assert matrix.shape == (len(ROWS), len(classes)) and np.allclose(matrix.sum(axis=1), 1.0, atol=1e-4)
        assert [classes[i] for i in matrix.argmax(axis=1)] == labels
        assert result.get_response()["model_version"] == str(v1[0]["version"])
    only = triton.infer("category", _inputs(True), outputs=[tc.InferRequestedOutput("label")])
    assert [o["name"] for o in only.get_response()["outputs"]] == ["label"]


def test_kserve_rest_json_examples_work_as_written(base):
    body = {"id": "42", "inputs": [{"name": "title", "shape": [2, 1], "datatype": "BYTES",
                                    "data": [["Organic green tea, 100 bags"], ["Hardcover novel"]]}],
            "outputs": [{"name": "label"}, {"name": "probability"}]}
    r = httpx.post(base + "/v2/models/category/infer", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "42" and out["model_name"] == "category" and [o["name"] for o in out["outputs"]] == [
        "label", "probability"]
    assert out["outputs"][0]["shape"] == [2] and out["outputs"][1]["datatype"] == "FP32"
    records = {"inputs": [{"name": "records", "shape": [1], "datatype": "BYTES", "data": [json.dumps(ROWS[0])]}]}
    r = httpx.post(base + "/v2/models/category/versions/" + out["model_version"] + "/infer", json=records)
    assert r.status_code == 200, r.text
    assert httpx.get(base + "/v2/models/category/versions/999").status_code == 404


@pytest.mark.parametrize(("body", "status", "named"), [
    ({"inputs": [{"name": "title", "shape": [2], "datatype": "BYTES", "data": ["one"]}]}, 422, "1 values for shape"),
    ({"inputs": [{"name": "title", "shape": [1], "datatype": "FP99", "data": ["one"]}]}, 422, "datatype"),
    ({"inputs": [{"name": "colour", "shape": [1], "datatype": "BYTES", "data": ["red"]}]}, 422, "unknown input"),
    ({"inputs": [{"name": "price", "shape": [1], "datatype": "FP32", "data": ["cheap"]}]}, 422, "not all FP32"),
    ({"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": [""]}]}, 422, "0.title"),
    ({"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["tea"]}],
      "outputs": [{"name": "logits"}]}, 422, "no output 'logits'"),
    ({"inputs": []}, 422, "inputs"),
])
def test_bad_tensors_get_the_protocols_error_body(base, body, status, named):
    r = httpx.post(base + "/v2/models/category/infer", json=body)
    assert r.status_code == status and named in r.json()["error"], r.text


def test_binary_parts_that_do_not_add_up_are_refused(base):
    header = json.dumps({"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": 50}}]}).encode()
    r = httpx.post(base + "/v2/models/category/infer", content=header + b"\x05\x00\x00\x00tea",
                   headers={"Inference-Header-Content-Length": str(len(header))})
    assert r.status_code == 422 and "binary_data_size" in r.json()["error"]
    r = httpx.post(base + "/v2/models/category/infer", content=header, headers={"Inference-Header-Content-Length": "x"})
    assert r.status_code == 422 and "Inference-Header-Content-Length" in r.json()["error"]
    assert httpx.post(base + "/v2/models/nope/infer", json={"inputs": []}).status_code == 404


def test_v2_requests_are_logged_and_counted_like_any_other(base, trained_home):
    r = httpx.post(base + "/v2/models/category/infer", headers={"X-Request-ID": "v2-logged"},
                   json={"inputs": [{"name": "title", "shape": [2], "datatype": "BYTES", "data": ["tea", "pen"]}]})
    assert r.status_code == 200 and r.headers["x-request-id"] == "v2-logged"
    assert r.json()["id"] == "v2-logged"  # no id in the request: the request id stands for it
    metrics = httpx.get(base + "/metrics").text
    assert 'route="/v2/models/{model_name}/infer"' in metrics
    fed = httpx.post(base + "/v1/category/feedback", headers=FEEDBACK,
                     json={"request_id": "v2-logged-1", "label": "stationery"})
    assert fed.status_code == 200, fed.text  # the second row was logged under its row id
