"""``skuflow flow``: run a pipeline now, or keep them on schedules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_settings, emit, fail, out_console
from skuflow.errors import ConfigError, SkuflowError

app = typer.Typer(help="Pipelines: run one now, or keep them on schedules.", no_args_is_help=True)


@app.command("run")
def flow_run(
    pipeline: Annotated[str, typer.Argument(help="train or batch")],
    task: Annotated[str | None, typer.Option(help="Task name (default SKUFLOW_DEFAULT_TASK)")] = None,
    data: Annotated[str | None, typer.Option(help="train: data to ingest (default SKUFLOW_TRAIN_DATA)")] = None,
    config: Annotated[Path | None, typer.Option(help="train: YAML training config")] = None,
    input: Annotated[str | None, typer.Option("--input", help="batch: table to score")] = None,
    output: Annotated[str | None, typer.Option("--output", help="batch: output dataset")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline once, in-process (Prefect's ephemeral mode: no server to start)."""
    from skuflow.flows.pipelines import batch_flow, train_flow

    task = task or cli_settings().default_task
    try:
        if pipeline == "train":
            summary = train_flow(task_name=task, data=data, config_path=str(config) if config else None)
        elif pipeline == "batch":
            summary = batch_flow(task_name=task, input_url=input, output_url=output)
        else:
            raise ConfigError(f"Unknown pipeline '{pipeline}' (choose train or batch)")
    except SkuflowError as exc:
        fail(exc, as_json)

    def human(r: dict) -> None:
        if pipeline == "train":
            verdict = "[green]promoted[/green]" if r["promoted"] else "[yellow]champion kept[/yellow]"
            out_console.print(f"{task}: dataset {r['dataset']['digest']} ({r['dataset']['rows']:,} rows), "
                              f"candidate v{r['candidate']['version']} {verdict}: champion "
                              f"v{r['champion_before']} -> v{r['champion_after']}. {r['reason']}")
        else:
            out_console.print_json(json.dumps(r, default=str))

    emit(summary, as_json, human)


@app.command("serve")
def flow_serve(
    tasks: Annotated[list[str] | None, typer.Option("--task", help="Tasks to schedule (repeatable)")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML training config for the daily runs")] = None,
) -> None:
    """Keep the pipelines on schedules: SKUFLOW_TRAIN_CRON (default 0 0 * * *) and SKUFLOW_BATCH_CRON
    (default 0 2 * * *)."""
    from skuflow.flows.schedule import serve_forever

    s = cli_settings()
    serve_forever(s, tasks or [s.default_task], str(config) if config else None)
