"""How commands talk: rich for people, one JSON object as the last stdout line for automation."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from skuflow.errors import SkuflowError
from skuflow.settings import Settings, get_settings

if TYPE_CHECKING:
    from skuflow.registry.store import RegistryStore

# progress and chatter go to stderr so that stdout stays clean for --json
err_console = Console(stderr=True)
out_console = Console()


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], None] | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        sys.stdout.flush()
    elif human is not None:
        human(result)
    else:
        out_console.print_json(json.dumps(result, default=str))


def fail(exc: SkuflowError, as_json: bool) -> NoReturn:
    """One line on stderr naming the problem; with --json also the error object on stdout."""
    err_console.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
    if as_json:
        sys.stdout.write(json.dumps({"error_code": exc.error_code, "message": exc.message}) + "\n")
    raise typer.Exit(code=1)


@contextmanager
def steps(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner with elapsed time; call the yielded function to name the current step. A step that ends in
    ``i/N`` ("fit: epoch 2/5, partition 7/50") fills a bar to i of N."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as progress:
        task_id = progress.add_task(title, total=None)

        def on_step(name: str) -> None:
            if name.startswith(_KEPT_STEPS):  # what the user must read stays on screen above the spinner
                progress.console.print(f"[yellow]{name}[/yellow]" if name.startswith("warning") else name,
                                       highlight=False, soft_wrap=True)
            counted = _COUNTED.search(name)
            progress.update(task_id, description=f"{title}: {name}",
                            completed=int(counted.group(1)) if counted else 0,
                            total=int(counted.group(2)) if counted else None)

        # long fits (networks, epoch by epoch) report through logging; show their latest line
        handler = _StepHandler(on_step)
        for name in _PROGRESS_LOGGERS:
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.INFO)
        try:
            yield on_step
        finally:
            for name in _PROGRESS_LOGGERS:
                logging.getLogger(name).removeHandler(handler)
        progress.update(task_id, description=f"{title}: done")


_PROGRESS_LOGGERS = ("skuflow.images", "skuflow.text", "skuflow.estimators")
_KEPT_STEPS = ("warning:", "model:", "path:")
_COUNTED = re.compile(r"(\d+)/(\d+)\s*$")


class _StepHandler(logging.Handler):
    def __init__(self, on_step: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.on_step = on_step

    def emit(self, record: logging.LogRecord) -> None:
        self.on_step(record.getMessage()[:100])


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]


def cli_settings() -> Settings:
    """The settings every command reads (from the environment, once per process)."""
    return get_settings()


def cli_store() -> RegistryStore:
    """The registry the settings name."""
    from skuflow.registry.store import RegistryStore

    return RegistryStore(cli_settings())
