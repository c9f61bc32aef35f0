"""``skuflow serve``, ``dashboard`` and ``up`` (the main job)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skuflow.cli.output import cli_settings, err_console, fail, out_console, steps
from skuflow.errors import SkuflowError


def serve(host: str | None = None, port: int | None = None,
          workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1) -> None:
    """Serve every task's champion over HTTP."""
    from skuflow.serving.server import run_server

    s = cli_settings()
    run_server(s, host or s.host, port or s.port, workers=workers)


def dashboard(host: str = "127.0.0.1", port: int = 8501) -> None:
    """The Streamlit dashboard: predict, models and promotions, monitoring and retraining, batch jobs."""
    import os

    command = _dashboard_command(host, port)
    # become Streamlit rather than wait on it as a child: a stop signal (a test's terminate, Kubernetes, a
    # supervisor) then reaches the server itself instead of orphaning it, one leaked process per stop
    os.execv(command[0], command)


def _dashboard_command(host: str, port: int) -> list[str]:
    import sys

    from skuflow.dashboard import __file__ as package_file

    script = str(Path(package_file).with_name("app.py"))
    # headless, no usage statistics: the dashboard never phones home
    return [sys.executable, "-m", "streamlit", "run", script, "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal"]


def up(
    task: Annotated[str | None, typer.Option(help="Task to serve (default SKUFLOW_DEFAULT_TASK)")] = None,
    data: Annotated[str | None, typer.Option(help="Data for the first model (default SKUFLOW_TRAIN_DATA, "
                                             "synthetic:10000)")] = None,
    host: str | None = None,
    port: int | None = None,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    with_dashboard: Annotated[bool, typer.Option("--dashboard/--no-dashboard", help="start the dashboard too")] = True,
    dashboard_port: int = 8501,
) -> None:
    """The main job: make sure the default task has a champion (train one if not), then serve."""
    from skuflow.registry.store import RegistryStore
    from skuflow.serving.server import curl_example, run_server
    from skuflow.tasks.base import get_task
    from skuflow.training.config import TrainConfig
    from skuflow.training.train import train as run_training

    s = cli_settings()
    try:
        chosen = get_task(task or s.default_task)
    except SkuflowError as exc:
        fail(exc, False)
    name, source = chosen.name, data or s.train_data
    store = RegistryStore(s)
    champ = store.champion(name)
    if champ is None:
        err_console.print(f"No champion yet: training the {name} model on {source}.")
        try:
            with steps(f"train {name}") as on_step:
                result = run_training(name, source, TrainConfig(), s, on_step=on_step)
        except SkuflowError as exc:
            fail(exc, False)
        metric = chosen.primary_metric
        err_console.print(f"{result.model_name} v{result.version} is champion ({metric}={result.metrics[metric]:.4f}).")
    else:
        err_console.print(f"Reusing champion {champ.name} v{champ.version}.")
    h, p = host or s.host, port or s.port
    out_console.print("Try it:\n" + curl_example(chosen, h, p), highlight=False, soft_wrap=True)
    if serve_api:
        board = None
        if with_dashboard:
            import subprocess

            board = subprocess.Popen(_dashboard_command(h, dashboard_port), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            err_console.print(f"Dashboard: http://{h}:{dashboard_port}")
        try:
            run_server(s, h, p)
        finally:
            if board is not None:
                board.terminate()
