"""``skuflow train``, ``tune`` and ``retrain``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_settings, emit, err_console, fail, out_console, steps
from skuflow.errors import SkuflowError


def train(
    task: Annotated[str, typer.Argument(help="Task name, e.g. category")],
    data: Annotated[str, typer.Option(help="CSV/Parquet/JSONL path or URL (s3://...), or synthetic:N[:SEED]")]
    = "synthetic:10000",
    config: Annotated[Path | None, typer.Option(help="YAML training config")] = None,
    cv: Annotated[int, typer.Option("--cv", help="also cross-validate on K folds of the training rows")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train a model, register it and promote it if it beats the champion."""
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import train as run_training

    try:
        cfg = load_config(config)
        chosen = get_task(cfg.task or task)
        primary, shown = chosen.primary_metric, chosen.output.headline(chosen.primary_metric)
        with steps(f"train {task}") as on_step:
            result = run_training(task, data, cfg, cli_settings(), on_step=on_step, cv_folds=cv)
    except SkuflowError as exc:
        fail(exc, as_json)
    out = result.to_dict()
    public = {k: out[k] for k in ("run_id", "model_name", "version", "metrics", "promoted", "champion_version")}
    public.update({k: out[k] for k in ("decision", "dataset_digest", "validation", "rows", "seconds")})

    def human(r: dict) -> None:
        m = r["metrics"]
        figures = "  ".join(f"{k}={m[k]:.4f}" for k in shown if k in m)
        out_console.print(f"[bold]{r['model_name']}[/bold] v{r['version']}  {figures}  rows={r['rows']}  "
                          f"({r['seconds']}s)")
        if f"cv.{primary}.mean" in m:
            out_console.print(f"{primary}: test {m[primary]:.4f}, {int(m['cv.folds'])}-fold CV on the training rows "
                              f"{m[f'cv.{primary}.mean']:.4f} ± {m[f'cv.{primary}.sd']:.4f}")
        verdict = "[green]promoted to champion[/green]" if r["promoted"] else "[yellow]not promoted[/yellow]"
        out_console.print(f"{verdict}: {r['decision']['reason']}  champion=v{r['champion_version']}")

    emit(public, as_json, human)


def tune(
    task: Annotated[str, typer.Argument(help="Task name, e.g. category")],
    data: Annotated[str, typer.Option(help="CSV/Parquet/JSONL path or URL, or synthetic:N[:SEED]")] = "synthetic:10000",
    config: Annotated[Path | None, typer.Option(help="YAML training config (its tune: section narrows the space)")]
    = None,
    trials: Annotated[int, typer.Option(min=1, help="trials the study should hold (a rerun runs only the rest)")] = 20,
    timeout: Annotated[float | None, typer.Option(help="seconds after which no new trial starts")] = None,
    folds: Annotated[int, typer.Option(min=2, help="cross-validation folds on the training rows")] = 5,
    scheduler: Annotated[str | None, typer.Option(help="dask.distributed scheduler address")] = None,
    workers: Annotated[int | None, typer.Option(help="local cluster workers (default: one per core)")] = None,
    storage: Annotated[str | None, typer.Option(help="study storage URL (default SQLite in SKUFLOW_HOME)")] = None,
    study: Annotated[str | None, typer.Option(help="study name (default: derived from the arguments)")] = None,
    prune: Annotated[bool, typer.Option("--prune/--no-prune", help="stop trials whose first folds trail")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Search the model family's space by cross-validation on the training rows, then refit the best
    recipe, test it once, register it and let the champion gate decide."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from skuflow.training.config import load_config
    from skuflow.tuning.study import tune as run_tune

    try:
        cfg = load_config(config)
        with Progress("[bold]tune " + task, BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                      TimeElapsedColumn(), console=err_console) as progress:
            bar = progress.add_task("", total=trials)

            def on_progress(done: int, total: int, best: float | None) -> None:
                progress.update(bar, completed=done, total=total,
                                description=f"best {best:.4f}" if best is not None else "")

            def on_step(name: str) -> None:
                progress.update(bar, description=name)

            result = run_tune(task, data, cfg, cli_settings(), trials=trials, folds=folds, timeout=timeout,
                              scheduler=scheduler, n_workers=workers, storage=storage, name=study, prune=prune,
                              on_progress=on_progress, on_step=on_step)
    except SkuflowError as exc:
        fail(exc, as_json)
    out = result.to_dict()
    out.pop("history")

    def human(r: dict) -> None:
        m = r["metric"]
        out_console.print(f"[bold]study {r['study']}[/bold]: {r['trials']} in {r['search_seconds']:.0f}s "
                          f"on {r['workers']} worker threads")
        out_console.print(f"best trial #{r['best_trial']}: CV {m} {r['cv_mean']:.4f} ± {r['cv_sd']:.4f}; "
                          f"test {r['test_metrics'].get(m, float('nan')):.4f}  params {r['best_params']}")
        verdict = "[green]promoted to champion[/green]" if r["promoted"] else "[yellow]not promoted[/yellow]"
        out_console.print(f"{r['model_name']} v{r['version']} {verdict}: {r['decision'].get('reason')}")
        out_console.print(f"best config: {r['best_config']}")

    emit(out, as_json, human)


def retrain(
    task: str,
    config: Annotated[Path | None, typer.Option(help="YAML training config")] = None,
    data: Annotated[str | None, typer.Option(help="data to ingest (default SKUFLOW_TRAIN_DATA)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain now on the configured fresh data; the champion gate decides as always."""
    from skuflow.flows.pipelines import train_flow

    cfg = str(config) if config else cli_settings().train_config
    try:
        summary = train_flow(task_name=task, data=data, config_path=cfg)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(summary, as_json)
