"""Bodies a hostile but fair caller sends: each gets a 4xx naming the problem, quickly, never a 500; an
unexpected failure still answers JSON with the request id and is counted."""

from __future__ import annotations

import time

import pytest

SPLIT_BODIES = [  # each answered 500 with a traceback before (schemathesis found them)
    ({"dataframe_split": {"columns": ["title"], "data": [1]}}, "dataframe_split.data[0]"),
    ({"dataframe_split": {"columns": None, "data": [["a"]]}}, "dataframe_split.columns"),
    ({"dataframe_split": {"columns": ["title"], "data": None}}, "dataframe_split.data"),
    ({"dataframe_split": {"columns": [["title"]], "data": [["a"]]}}, "dataframe_split.columns"),
    ({"dataframe_split": {"columns": ["title", "title"], "data": [["a", "b"]]}}, "'title' appears twice"),
    ({"dataframe_split": {"columns": ["title", "price"], "data": [["a"]]}}, "2 values"),
]


@pytest.mark.parametrize(("body", "named"), SPLIT_BODIES)
def test_malformed_dataframe_split_is_a_422_naming_the_part(client, body, named):
    r = client.post("/invocations", json=body)
    assert r.status_code == 422, r.text
    assert named in r.json()["message"]


def _timed(client, *args, **kwargs):
    started = time.perf_counter()
    r = client.post(*args, **kwargs)
    return r, time.perf_counter() - started


def test_wide_bodies_are_refused_before_the_work(client):
    # 100,000 CSV columns in ~600 KB: pandas took seconds on these; the header check refuses at once
    wide = (",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("x" * 100_000) + "\n").encode()
    r, seconds = _timed(client, "/invocations", content=wide, headers={"content-type": "text/csv"})
    assert r.status_code == 413 and "100000 CSV columns" in r.json()["message"] and seconds < 0.5
    repeated = ("title," * 2000).rstrip(",").encode() + b"\n" + b"a," * 1999 + b"a\n"
    r = client.post("/invocations", content=repeated, headers={"content-type": "text/csv"})
    assert r.status_code == 413  # 2,000 columns: over the 1,000 limit before the repeats are even read
    r = client.post("/invocations", content=b"title,title\na,b\n", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and "'title' appears twice" in r.json()["message"]

    record = {f"f{i}": i for i in range(100_000)} | {"title": "kettle"}
    r, seconds = _timed(client, "/invocations", json={"dataframe_records": [{"title": "pan"}, record]})
    assert r.status_code == 413 and "dataframe_records[1]: a record of more than 1000 fields" in r.json()["message"]
    assert seconds < 1.0

    deep = b'{"title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    for route in ("/invocations", "/v1/category/predict"):
        r, seconds = _timed(client, route, content=deep, headers={"content-type": "application/json"})
        assert r.status_code == 422 and seconds < 0.5, (route, r.text)


def test_an_unexpected_failure_answers_json_with_the_request_id(trained_home, monkeypatch):
    """The one mock here: a scorer that raises, standing in for a bug (no real input can reach one now)."""
    from fastapi.testclient import TestClient

    from skuflow.serving.app import create_app
    from tests.helpers import PRODUCT, wait_ready

    s, _ = trained_home
    app = create_app(s)
    with TestClient(app, raise_server_exceptions=False) as c:
        wait_ready(c)

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(app.state.router, "answer", broken)
        r = c.post("/v1/category/predict", json=PRODUCT, headers={"x-request-id": "req-42"})
        assert r.status_code == 500 and r.headers["content-type"] == "application/json"
        assert r.json()["error_code"] == "internal_error" and r.json()["request_id"] == "req-42"
        assert r.headers["x-request-id"] == "req-42"
        counted = [line for line in c.get("/metrics").text.splitlines()
                   if line.startswith("skuflow_requests_total") and 'route="/v1/category/predict"' in line]
        assert any('status="500"' in line and line.endswith(" 1.0") for line in counted), counted


def test_an_undeclared_method_is_a_405_naming_the_allowed_ones(client):
    for method, path, allowed in (("GET", "/v1/category/predict", "POST"), ("PUT", "/v1/category/predict", "POST"),
                                  ("DELETE", "/v1/category/info", "GET"), ("GET", "/invocations", "POST")):
        r = client.request(method, path)
        assert r.status_code == 405 and r.headers["allow"] == allowed, (method, path, r.status_code)
    assert client.get("/v1/category/nothing-here").status_code == 404


def test_feedback_needs_a_key_and_refusals_are_counted(client):
    """Labels steer live accuracy and retraining: a stranger's labels are refused (this failed before)."""
    from tests.helpers import FEEDBACK, PRODUCT

    rid = client.post("/v1/category/predict", json=PRODUCT).headers["X-Request-ID"]
    client.app.state.scorer.plog.flush()
    body = {"request_id": rid, "label": "books"}
    assert client.post("/v1/category/feedback", json=body).status_code == 401
    assert client.post("/v1/category/feedback", json=body, headers={"X-Feedback-Key": "guess"}).status_code == 401
    assert client.post("/v1/category/feedback", json=body, headers=FEEDBACK).status_code == 200
    refused = [line for line in client.get("/metrics").text.splitlines()
               if line.startswith("skuflow_auth_failures_total") and "/feedback" in line]
    assert any('reason="missing"' in line for line in refused) and any('reason="wrong"' in line for line in refused)


def test_feedback_is_refused_while_no_key_is_configured(trained_home):
    from fastapi.testclient import TestClient

    from skuflow.serving.app import create_app
    from tests.helpers import wait_ready

    s, _ = trained_home
    with TestClient(create_app(s.model_copy(update={"feedback_api_key": None}))) as c:
        wait_ready(c)
        r = c.post("/v1/category/feedback", json={"request_id": "x", "label": "books"})
        assert r.status_code == 403 and "SKUFLOW_FEEDBACK_API_KEY" in r.json()["message"]


def test_record_bounds_hold_on_every_record_route_before_parsing(client):
    # spaced out ("f1" : 1) so a byte count of '":' alone would miss them: the bound must still hold
    wide = ("{" + ", ".join(f'"f{i}" : {i}' for i in range(1_500)) + ', "title" : "kettle"}').encode()
    json_body = {"content-type": "application/json"}
    for route, body in (("/v1/category/predict", wide), ("/v1/category/explain", wide),
                        ("/v1/category/predict/batch", b'{"records": [{"title": "pan"}, ' + wide + b"]}"),
                        ("/invocations", b'{"instances": ' + wide + b"}")):
        r = client.post(route, content=body, headers=json_body)
        assert r.status_code == 413 and "more than 1000 fields" in r.json()["message"], (route, r.text)
    long = {"title": "kettle", "description": "steel " * 200_000}  # 1.2 MB of text in one record
    r = client.post("/v1/category/predict/batch", json={"records": [long]})
    assert r.status_code == 413 and "records[0]: a record of 1,200," in r.json()["message"], r.text
    # text full of colons is not mistaken for fields: members are counted as a quote then a colon, so only a
    # quoted word followed by a colon in text counts too (an upper bound), and 200 of them are far from 1,000
    colons = {"title": "kettle", "description": "size: XL; fit: slim " * 600 + 'cut "A": yes ' * 200}
    r = client.post("/v1/category/predict/batch", json={"records": [colons] * 3})
    assert r.status_code == 200, r.text


def test_a_wide_csv_is_refused_while_it_is_still_uploading(trained_home):
    """Over a real socket: the header of an 8 MiB CSV of 100,000 columns is sent, the rest never is; the 413
    must come back anyway (before, the server waited for the whole declared body)."""
    import socket

    from skuflow.serving.app import create_app
    from tests.helpers import running_server

    header = (",".join(f"c{i}" for i in range(100_000)) + "\n").encode()
    declared = 8 * 1024 * 1024 - 1
    s, _ = trained_home
    with running_server(create_app(s)) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"POST /invocations HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/csv\r\n"
                         f"Content-Length: {declared}\r\n\r\n".encode() + header)
            started = time.perf_counter()
            answer = sock.recv(65536).decode(errors="replace")  # times out (10 s) if the server waits on
            seconds = time.perf_counter() - started
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "CSV columns exceed the limit of 1000" in answer and seconds < 2.0
