"""Helpers for tests that need a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(app, wait_ready: bool = True, timeout: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields the base URL and stops the server after."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    path = "/ready" if wait_ready else "/health"
    try:
        while True:
            try:
                if httpx.get(base + path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server at {base} not ready after {timeout}s")
            time.sleep(0.1)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_ready(client, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/ready").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError("app not ready")
        time.sleep(0.05)


def wait_http(url: str, timeout: float = 90, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


# one product every API test sends (the demo catalogue's shape)
PRODUCT = {"title": "Kovari wireless headphones - noise cancelling", "description": "Long battery life.",
           "brand": "Kovari", "seller_id": "S10042", "price": 129.0}

# what a labelling client sends with POST /v1/{task}/feedback (tests.conftest.make_settings sets the key)
FEEDBACK = {"X-Feedback-Key": "test-feedback-key"}


def register_copy(store, name: str, version: int) -> int:
    """Another registered version of the same logged model: for tests that need versions, not training."""
    source = store.client.get_model_version(name, str(version))
    return int(store.client.create_model_version(name, source.source, source.run_id).version)


@contextlib.contextmanager
def server_process(cmd: list[str], health_url: str, log_path, env: dict | None = None,
                   timeout: float = 120) -> Iterator[subprocess.Popen]:
    """A server the test starts itself (MLflow, Prefect), its output in ``log_path``, stopped after."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(health_url, timeout=timeout, proc=proc)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def logged(client, task: str = "category") -> None:
    """Store the predictions a TestClient's app has answered and summarize them for drift, as the server's
    writer and summarizer threads would within a second or two."""
    from skuflow.monitoring.summaries import summarize_served

    plog = client.app.state.scorer.plog
    assert plog.flush()
    summarize_served(plog, client.app.state.holder.get(task))
