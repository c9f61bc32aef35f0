"""Load with faults, counting what was lost: `skuflow serve --workers 2` with its prediction log on Postgres
and its registry on an MLflow server (both started here on 127.0.0.1), driven by wrk (single-row predicts,
16 connections) while one fault is injected at a time:

- quiet            no fault: the reference p99
- worker SIGKILL   one of the two workers killed mid-run (uvicorn starts another)
- MLflow down      the tracking server killed (SIGKILL, every process of it) for 30 s, then started again
- Postgres restart `pg_ctl restart -m fast` mid-run
- home disk full   the journal's folder on a 4 MiB tmpfs, filled to the last byte mid-run
- slow clients     64 extra connections that send their headers one byte a second
- drift hammered   4 connections reading GET /v1/category/drift?window=10000 flat out, the log holding
                   1,000,000 rows

Every request carries its own X-Request-ID, and wrk writes the ids it got a 200 for. After each run the
log is read back: answered / failed / logged / missing (answered, not logged) / duplicated rows and wrk's p99.

    .venv/bin/python benchmarks/faults.py [--duration 30] [--only quiet,worker-kill,...] [--json]

Needs wrk and Debian's postgresql (`make bench-faults` installs both where apt exists) and root for the tmpfs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from registry_outage import skuflow, start_mlflow  # noqa: E402
from serving import VENV_BIN, free_port, need_wrk, parse_wrk, wait_http  # noqa: E402

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/usr/lib/postgresql/15/bin"))
PRODUCT = {"title": "Kovari wireless headphones - noise cancelling", "brand": "Kovari", "price": 129.0}
# each connection numbers its requests; the ids answered 200 go to one file per wrk thread
LUA = """
local counter, thread_id, out = 0, 0, nil
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  thread_id = tid
  out = io.open(PREFIX_DIR .. "/answered-" .. thread_id, "w")
  out:setvbuf("line")
end
function request()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json", ["X-Request-ID"] = RUN .. "-" .. thread_id .. "-" .. counter}
  return wrk.format("POST", nil, headers, BODY)
end
function response(status, headers, body)
  if status == 200 then out:write((headers["x-request-id"] or headers["X-Request-ID"] or "?") .. "\\n") end
end
"""


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    def __init__(self, root: Path) -> None:
        self.data, self.port = root / "pg", free_port()
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        subprocess.run(as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)
        self.ctl("start")
        self.psql("CREATE DATABASE skuflow")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/skuflow"

    def ctl(self, *action: str) -> None:
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", f"{self.data}/log", "-w",
                                    "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1",
                                    *action]), check=True, capture_output=True)

    def psql(self, sql: str, db: str = "postgres") -> str:
        done = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-d", db, "-At", "-c", sql], check=True, capture_output=True, text=True)
        return done.stdout.strip()


def run_wrk(url: str, run: str, folder: Path, duration: int, connections: int = 16) -> dict:
    folder.mkdir(parents=True)
    script = folder / "load.lua"
    body = json.dumps(PRODUCT).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(f"PREFIX_DIR = '{folder}'\nRUN = '{run}'\nBODY = '{body}'\n" + LUA)
    proc = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
                          capture_output=True, text=True, timeout=duration + 120)
    return parse_wrk(proc.stdout) | {"answered": answered_ids(folder)}


def answered_ids(folder: Path) -> set[str]:
    ids: set[str] = set()
    for path in folder.glob("answered-*"):
        ids.update(line for line in path.read_text().splitlines() if line)
    return ids


def logged_rows(pg: Postgres, run: str) -> tuple[set[str], int]:
    rows = pg.psql(f"SELECT request_id FROM predictions WHERE request_id LIKE '{run}-%'", db="skuflow")
    found = rows.splitlines() if rows else []
    return set(found), len(found)


def settle(pg: Postgres, run: str, answered: set[str], timeout: float = 90.0) -> tuple[set[str], int]:
    """Wait until every answered id is logged or the count stops moving (the journal replay of a killed
    worker happens when its successor starts, and the writer retries a database that was away)."""
    deadline, last, still = time.monotonic() + timeout, -1, 0.0
    while True:
        ids, total = logged_rows(pg, run)
        if answered <= ids or time.monotonic() > deadline:
            return ids, total
        if total == last and time.monotonic() - still > 35:  # past the writer's 30 s replay look
            return ids, total
        if total != last:
            last, still = total, time.monotonic()
        time.sleep(1)


def worker_pids(serve: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(serve.pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="ignore")]


def slow_clients(port: int, stop: threading.Event, n: int = 64) -> None:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    request = b"POST /v1/category/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    i = 0
    while not stop.wait(1.0) and i < len(request):
        for s in socks:
            with contextlib.suppress(OSError):
                s.send(request[i:i + 1])
        i += 1
    for s in socks:
        s.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--only", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    need_wrk()
    root = Path(tempfile.mkdtemp(prefix="skuflow-faults-"))
    if os.geteuid() == 0:
        os.chmod(root, 0o755)
    pg = Postgres(root)
    mlflow_store, mlflow_port = root / "mlflow", free_port()
    mlflow_store.mkdir()
    mlflow = [start_mlflow(mlflow_store, mlflow_port)]
    home = root / "home"
    env = {**os.environ, "SKUFLOW_HOME": str(home), "SKUFLOW_MLFLOW_URI": f"http://127.0.0.1:{mlflow_port}",
           "SKUFLOW_PREDICTION_LOG_URL": pg.url, "SKUFLOW_RELOAD_INTERVAL": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
           "SKUFLOW_WARMUP": "true"}
    skuflow(env, "train", "category", "--data", "synthetic:3000")
    from skuflow.monitoring import summaries  # noqa: F401  (adds its table to the log's)
    from skuflow.monitoring.prediction_log import PredictionLog

    PredictionLog(pg.url).close()  # the tables exist before two workers start at once
    journal = home / "journal"  # what a serving process writes to its home: the journal
    journal.mkdir(parents=True, exist_ok=True)
    tmpfs_ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(journal)],
                              capture_output=True).returncode == 0
    port = free_port()
    serve = subprocess.Popen([str(VENV_BIN / "skuflow"), "serve", "--workers", "2", "--port", str(port)], env=env,
                             stdout=open(root / "serve.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        wait_http(base + "/ready", timeout=180)
        fill_log(pg, base)
        scenarios = build_scenarios(pg, mlflow, mlflow_store, mlflow_port, serve, port, journal, tmpfs_ok)
        chosen = [s for s in scenarios if not args.only or s[0] in args.only.split(",")]
        for name, duration, inject in chosen:
            results.append(run_scenario(name, duration or args.duration, inject, pg, base, root))
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            serve.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(mlflow[0].pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.ctl("-m", "fast", "stop")
        if tmpfs_ok:
            subprocess.run(["umount", "-l", str(journal)], capture_output=True)
    print_table("faults under load: skuflow serve --workers 2, prediction log on Postgres, registry on MLflow",
                ["fault", "answered", "failed", "logged", "missing", "duplicated", "p99 ms"],
                [[r["fault"], f"{r['answered']:,}", f"{r['failed']:,}", f"{r['logged']:,}", r["missing"],
                  r["duplicated"], f"{r['p99_ms']:.1f}" if r["p99_ms"] else "-"] for r in results])
    print(json.dumps({"results": results}))


def fill_log(pg: Postgres, base: str) -> None:
    """A million served rows in the log before the first run, and the newest 10,000 summarized for drift."""
    import httpx

    pg.psql("INSERT INTO predictions (request_id, task, model_version, features, prediction, confidence, "
            "latency_ms, source, ts) SELECT 'fill-' || g, 'category', 1, '{\"title\": \"filler ' || (g % 997) "
            "|| ' cotton socks\", \"price\": ' || (g % 50) || '}', 'fashion', 0.8, 1.0, 'online', "
            "extract(epoch from now()) FROM generate_series(1, 1000000) g", db="skuflow")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        answer = httpx.get(base + "/v1/category/drift?window=10000", timeout=30)
        if answer.status_code == 200 and answer.json()["n_rows"] >= 10_000:
            return
        time.sleep(2)


def build_scenarios(pg, mlflow, mlflow_store, mlflow_port, serve, port, disk, tmpfs_ok) -> list[tuple]:
    def kill_worker() -> dict:
        time.sleep(8)
        pids = worker_pids(serve)
        if pids:
            os.kill(pids[0], signal.SIGKILL)
        return {"killed": pids[:1]}

    def mlflow_down() -> None:
        time.sleep(5)
        os.killpg(mlflow[0].pid, signal.SIGKILL)
        time.sleep(30)
        mlflow[0] = start_mlflow(mlflow_store, mlflow_port)

    def postgres_restart() -> None:
        time.sleep(8)
        pg.ctl("-m", "fast", "restart")

    def fill_disk() -> None:
        time.sleep(8)
        with contextlib.suppress(OSError), open(disk / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()

    def free_disk() -> None:
        (disk / "filler").unlink(missing_ok=True)

    def slow() -> None:
        stop = threading.Event()
        t = threading.Thread(target=slow_clients, args=(port, stop), daemon=True)
        t.start()
        time.sleep(25)
        stop.set()

    def hammer_drift() -> dict:
        time.sleep(3)
        reads = subprocess.run(["wrk", "-t1", "-c4", "-d20s", "--latency",
                                f"http://127.0.0.1:{port}/v1/category/drift?window=10000"],
                               capture_output=True, text=True, timeout=90)
        return {"drift_reads": parse_wrk(reads.stdout)}

    scenarios: list[tuple[str, int, Callable[[], None] | None]] = [
        ("quiet", 0, None), ("worker-kill", 0, kill_worker), ("mlflow-down", 45, mlflow_down),
        ("postgres-restart", 0, postgres_restart), ("slow-clients", 0, slow), ("drift-hammered", 30, hammer_drift)]
    if tmpfs_ok:
        scenarios.insert(4, ("disk-full", 0, fill_disk))
        scenarios.insert(5, ("disk-freed", 0, free_disk))
    return scenarios


def run_scenario(name: str, duration: int, inject, pg: Postgres, base: str, root: Path) -> dict:
    run = f"{name}-{int(time.time())}"
    told: dict = {}
    fault = threading.Thread(target=lambda: told.update(inject() or {}), daemon=True) if inject else None
    if fault:
        fault.start()
    load = run_wrk(base + "/v1/category/predict", run, root / run, duration)
    if fault:
        fault.join(timeout=120)
    wait_http(base + "/ready", timeout=120)
    answered = load["answered"]
    logged, rows = settle(pg, run, answered)
    return {"fault": name, "answered": len(answered), "failed": load["errors"],
            "logged": len(logged), "missing": len(answered - logged), "duplicated": rows - len(logged),
            "p99_ms": load["p99_ms"], **told}


if __name__ == "__main__":
    main()
