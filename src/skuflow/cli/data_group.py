"""``skuflow data``: generate and ingest data."""

from __future__ import annotations

from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, emit, err_console, fail, out_console
from skuflow.errors import SkuflowError

app = typer.Typer(help="Generate and ingest data.", no_args_is_help=True)


@app.command("generate")
def data_generate(
    rows: Annotated[int, typer.Option(min=1)] = 1000,
    out: Annotated[str, typer.Option(help="Output file (.csv, .parquet, .jsonl) or URL")] = "catalogue.parquet",
    seed: int = 0,
    price_scale: Annotated[float, typer.Option(help="Drift knob: multiply prices")] = 1.0,
    leaves: Annotated[int | None, typer.Option(min=2, help="file products under a ragged tree of this many leaf "
                                                           "categories (category holds the path)")] = None,
    depth: Annotated[int, typer.Option(min=2, help="the tree's deepest level (with --leaves)")] = 5,
    parts: Annotated[int, typer.Option(min=1, help="with --leaves: write a Parquet folder of this many files, "
                                                   "one part in memory at a time")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic product catalogue: the demo's eight categories, or with --leaves a deep category tree."""
    import hashlib

    from skuflow.data.generate import DriftKnobs, generate_catalogue
    from skuflow.data.ingest import write_table
    from skuflow.data.tree_catalogue import generate_tree_catalogue
    from skuflow.data.versioning import dataset_digest

    if parts > 1 and not leaves:
        from skuflow.errors import ConfigError

        fail(ConfigError("--parts writes a category tree's catalogue in pieces: give --leaves too"), as_json)
    try:
        if parts == 1:
            frame = generate_tree_catalogue(rows, leaves, depth, seed) if leaves else \
                generate_catalogue(rows, seed=seed, knobs=DriftKnobs(price_scale=price_scale))
            write_table(frame, out)
            emit({"rows": len(frame), "out": out, "dataset_digest": dataset_digest(frame)}, as_json)
            return
        digests = hashlib.blake2b(digest_size=8)
        assert leaves  # --parts without --leaves was refused above
        for part in range(parts):
            frame = generate_tree_catalogue(rows // parts + (part < rows % parts), leaves, depth, seed, part=part)
            write_table(frame, f"{out.rstrip('/')}/part-{part:05d}.parquet")
            digests.update(dataset_digest(frame).encode())
    except SkuflowError as exc:
        fail(exc, as_json)
    emit({"rows": rows, "out": out, "parts": parts, "dataset_digest": digests.hexdigest()}, as_json)


@app.command("ingest")
def data_ingest(
    source: Annotated[str, typer.Argument(help="Folder to copy: local path or URL (s3://bucket/prefix)")],
    dest: Annotated[str, typer.Argument(help="Destination folder: local path or URL")],
    as_json: JsonOpt = False,
) -> None:
    """Copy an image folder to or from a bucket; every file is checksummed and verified after copying."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from skuflow.data.transfer import copy_tree

    try:
        with Progress("[bold]ingest", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console) as progress:
            bar = progress.add_task("files", total=None)
            report = copy_tree(source, dest, on_file=lambda n, total: progress.update(bar, completed=n, total=total))
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(report.to_dict(), as_json, _print_copied)


def _print_copied(r: dict) -> None:
    out_console.print(f"{r['files']:,} files ({r['bytes'] / 1e6:,.1f} MB) in {r['seconds']:.1f}s: "
                      f"{r['copied']:,} copied and verified, {r['skipped']:,} already there -> {r['destination']}")
