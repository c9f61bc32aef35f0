"""``skuflow drift``: drift of served models against their reference profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_settings, emit, fail
from skuflow.errors import SkuflowError

app = typer.Typer(help="Drift of served models against their reference profiles.", no_args_is_help=True)


@app.command("report")
def drift_report(
    task: str,
    window: Annotated[int, typer.Option(help="latest predictions to compare")] = 1000,
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("drift_report.html"),
    as_json: JsonOpt = False,
) -> None:
    """Write an HTML drift report for the champion's latest predictions and log it to MLflow."""
    from skuflow.monitoring.drift_report import write_drift_report
    from skuflow.tasks.base import get_task

    try:
        summary = write_drift_report(cli_settings(), get_task(task), window, out)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(summary, as_json)
