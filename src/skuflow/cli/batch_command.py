"""``skuflow batch``: score a catalogue or an image folder on Dask."""

from __future__ import annotations

from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_settings, emit, err_console, fail, out_console
from skuflow.errors import SkuflowError


def batch(
    task: Annotated[str, typer.Argument(help="Task name, e.g. category")],
    input: Annotated[str, typer.Option("--input", help="Parquet/CSV/JSONL file or folder, local or URL")],
    output: Annotated[str, typer.Option("--output", help="Output Parquet dataset folder, local or URL")],
    scheduler: Annotated[str | None, typer.Option(help="dask.distributed scheduler address")] = None,
    workers: Annotated[int | None, typer.Option(help="local cluster workers (default: one per core)")] = None,
    key: Annotated[str, typer.Option(help="input column that identifies a row")] = "id",
    partition_rows: Annotated[int, typer.Option(min=1)] = 100_000,
    overwrite: Annotated[bool, typer.Option(help="discard an existing output")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score a catalogue with the champion; a rerun resumes where a crashed one stopped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from skuflow.batch.score import run_batch

    try:
        with Progress("[bold]batch " + task, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console) as progress:
            bar = progress.add_task("partitions", total=None)
            result = run_batch(task, input, output, cli_settings(), scheduler=scheduler, n_workers=workers, key=key,
                               partition_rows=partition_rows, overwrite=overwrite,
                               on_progress=lambda done, total: progress.update(bar, completed=done, total=total))
    except SkuflowError as exc:
        fail(exc, as_json)

    def human(r: dict) -> None:
        out_console.print(f"{r['rows']:,} rows scored by {r['model_name']} v{r['model_version']} in "
                          f"{r['seconds']:.1f}s ({r['rows_per_s']:,.0f} rows/s); {r['partitions_skipped']} of "
                          f"{r['partitions']} partitions were already done -> {r['output']}")
        if r["note"]:
            out_console.print(r["note"])

    emit(result.to_dict(), as_json, human)
