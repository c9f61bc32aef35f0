"""The ``skuflow`` command: one module per command group, each command a thin call of one library function."""

from __future__ import annotations

import os

import typer

from skuflow import allocator
from skuflow.cli import (
    batch_command,
    data_group,
    drift_group,
    experiment_group,
    flow_group,
    models_group,
    serve_commands,
    train_commands,
)

app = typer.Typer(help="skuflow: train, ship and watch e-commerce product models.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
for command in (train_commands.train, train_commands.tune, batch_command.batch, train_commands.retrain,
                serve_commands.serve, serve_commands.dashboard, serve_commands.up):
    app.command()(command)
app.add_typer(data_group.app, name="data")
app.add_typer(drift_group.app, name="drift")
app.add_typer(experiment_group.app, name="experiment")
app.add_typer(models_group.app, name="models")
app.add_typer(flow_group.app, name="flow")


@app.callback()
def _main() -> None:
    # entry point: this is where the process is told not to phone home (never on import)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    allocator.keep_large_allocations()  # before any thread starts, so that every thread shares the tuned arena
    for key, value in allocator.ENVIRONMENT.items():  # and child processes (dashboard, retraining) start with it
        os.environ.setdefault(key, value)
