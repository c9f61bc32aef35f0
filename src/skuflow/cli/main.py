"""The ``skuflow`` command. Each command parses its options, calls one library function and prints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from skuflow import allocator
from skuflow.cli.output import emit, err_console, fail, out_console, steps
from skuflow.errors import ConfigError, ModelNotFoundError, NotFoundError, SkuflowError
from skuflow.settings import Settings, get_settings

app = typer.Typer(help="skuflow: train, ship and watch e-commerce product models.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
data_app = typer.Typer(help="Generate and ingest data.", no_args_is_help=True)
models_app = typer.Typer(help="Registered models, the champion alias and its history.", no_args_is_help=True)
app.add_typer(data_app, name="data")
drift_app = typer.Typer(help="Drift of served models against their reference profiles.", no_args_is_help=True)
app.add_typer(drift_app, name="drift")
flow_app = typer.Typer(help="Pipelines: run one now, or keep them on schedules.", no_args_is_help=True)
experiment_app = typer.Typer(help="Online experiments: shadow or A/B of a version against the champion.",
                             no_args_is_help=True)
app.add_typer(experiment_app, name="experiment")
app.add_typer(models_app, name="models")
app.add_typer(flow_app, name="flow")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]


@app.callback()
def _main() -> None:
    # entry point: this is where the process is told not to phone home (never on import)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    allocator.keep_large_allocations()  # before any thread starts, so that every thread shares the tuned arena
    for key, value in allocator.ENVIRONMENT.items():  # and child processes (dashboard, retraining) start with it
        os.environ.setdefault(key, value)


def _settings() -> Settings:
    return get_settings()


@app.command()
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
            result = run_training(task, data, cfg, _settings(), on_step=on_step, cv_folds=cv)
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


@app.command()
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

            result = run_tune(task, data, cfg, _settings(), trials=trials, folds=folds, timeout=timeout,
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


@data_app.command("generate")
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


@data_app.command("ingest")
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

    def human(r: dict) -> None:
        out_console.print(f"{r['files']:,} files ({r['bytes'] / 1e6:,.1f} MB) in {r['seconds']:.1f}s: "
                          f"{r['copied']:,} copied and verified, {r['skipped']:,} already there -> {r['destination']}")

    emit(report.to_dict(), as_json, human)


def _store():
    from skuflow.registry.store import RegistryStore

    return RegistryStore(_settings())


@models_app.command("list")
def models_list(task: str, as_json: JsonOpt = False) -> None:
    """Registered versions with their metrics; the champion is marked."""
    from skuflow.tasks.base import get_task

    store = _store()
    versions = [v.to_dict() for v in store.versions(task)]
    try:
        chosen = get_task(task)
        shown = chosen.output.headline(chosen.primary_metric)
    except SkuflowError:  # a registered model that is no task's: show what its versions logged
        shown = sorted({k for v in versions for k in v["metrics"] if "." not in k})[:2]

    def human(r: dict) -> None:
        from rich.table import Table

        table = Table("version", "aliases", *shown, "dataset")
        for v in r["versions"]:
            table.add_row(str(v["version"]), ",".join(v["aliases"]),
                          *[f"{v['metrics'][k]:.4f}" if k in v["metrics"] else "" for k in shown],
                          str(v["dataset_digest"]))
        out_console.print(table)

    emit({"model_name": store.model_name(task), "versions": versions}, as_json, human)


@models_app.command("history")
def models_history(task: str, as_json: JsonOpt = False) -> None:
    """Every move of the champion alias: from, to, metrics, reason, time."""
    entries = _store().audit(task)

    def human(r: dict) -> None:
        from rich.table import Table

        from skuflow.registry.aliases import evidence_columns

        table = Table("time", "action", "from", "to", "gain", "interval", "rows", "reason")
        for e in r["history"]:
            ev = evidence_columns(e.get("metrics") or {})
            table.add_row(e["time"], e["action"], str(e["from"]), str(e["to"]), ev["gain"], ev["interval"],
                          str(ev["rows"]), e["reason"])
        out_console.print(table)

    emit({"model_name": task, "history": entries}, as_json, human)


@models_app.command("promote")
def models_promote(task: str, version: int,
                   reason: Annotated[str, typer.Option(help="why, for the audit log (required)")],
                   as_json: JsonOpt = False) -> None:
    """Make VERSION the champion by hand (recorded in the history with your reason)."""
    from skuflow.registry.aliases import promote

    try:
        entry = promote(_store(), task, version, reason)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit({"model_name": task, "champion_version": entry["to"], **entry}, as_json)


@models_app.command("rollback")
def models_rollback(task: str, reason: str = "rollback", as_json: JsonOpt = False) -> None:
    """Give the champion alias back to the previous champion."""
    from skuflow.registry.aliases import rollback

    try:
        entry = rollback(_store(), task, reason)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit({"model_name": task, "champion_version": entry["to"], **entry}, as_json)


def _who() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@experiment_app.command("start")
def experiment_start(
    task: Annotated[str, typer.Argument(help="Task name, e.g. category")],
    challenger: Annotated[int, typer.Option(help="registered version to try against the champion")],
    mode: Annotated[str, typer.Option(help="shadow (champion answers, challenger scores aside) or ab")] = "ab",
    traffic: Annotated[float, typer.Option(help="share of callers sent (ab) or mirrored (shadow)")] = 0.1,
    key: Annotated[str | None, typer.Option(help="record field naming a caller (else X-Experiment-Key, "
                                                 "else the request id)")] = None,
    metric: Annotated[str, typer.Option(help="feedback metric the test weighs")] = "accuracy",
    max_requests: Annotated[int | None, typer.Option(help="end as inconclusive after this many")] = None,
    guardrail: Annotated[str | None, typer.Option(help="e.g. error_rate=0.01,p99_ms=50")] = None,
    alpha: Annotated[float, typer.Option(help="false-win rate of the sequential test")] = 0.05,
    min_rows: Annotated[int, typer.Option(help="feedback rows per arm before a decision")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Start an experiment; every server picks it up with its next champion poll."""
    from skuflow.experiments import record

    try:
        exp = record.start(_store(), task, challenger, mode, traffic, key, metric, max_requests,
                           record.parse_guardrails(guardrail), alpha, min_rows, _who())
    except SkuflowError as exc:
        fail(exc, as_json)

    def human(r: dict) -> None:
        out_console.print(f"experiment {r['id']}: {r['mode']} v{r['challenger']} against the champion "
                          f"v{r['champion']} at {r['traffic']:.0%}")

    emit(exp.to_dict(), as_json, human)


@experiment_app.command("status")
def experiment_status(task: str, as_json: JsonOpt = False) -> None:
    """Per-variant counts, the metric, the effect with its always-valid interval, the p-value."""
    from skuflow.experiments import judge, record
    from skuflow.monitoring.prediction_log import PredictionLog

    settings = _settings()
    exp = record.load(_store(), task)
    if exp is None:
        fail(NotFoundError(f"No experiment has run on {task}"), as_json)
    plog = PredictionLog(str(settings.prediction_log_url))
    try:
        status = judge.analyse(plog, exp)
    finally:
        plog.close()

    def human(r: dict) -> None:
        from rich.table import Table

        t = r["test"]
        out_console.print(f"[bold]{r['id']}[/bold] {r['mode']} v{r['challenger']} vs v{r['champion']}: "
                          f"{r['state']} {r['outcome']}")
        table = Table("variant", "attempts", "errors", "feedback", r["metric"], "confidence", "p99 ms")
        for name, v in r["variants"].items():
            table.add_row(name, str(v["attempts"]), str(v["errors"]), str(v["feedback"]),
                          f"{v[r['metric']]:.4f}", f"{v['mean_confidence'] or 0:.3f}", f"{v['p99_ms'] or 0:.1f}")
        out_console.print(table)
        out_console.print(f"effect {t['effect']:+.4f} [{t['interval'][0]:+.4f}, {t['interval'][1]:+.4f}], "
                          f"always-valid p {t['p_value']:.4f}: {t['decision']}")

    emit(status, as_json, human)


@experiment_app.command("stop")
def experiment_stop(task: str, as_json: JsonOpt = False) -> None:
    """Stop the running experiment; the champion keeps serving."""
    from skuflow.experiments import record

    try:
        exp = record.end(_store(), task, "stopped", f"stopped by {_who()}")
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(exp.to_dict(), as_json)


@app.command()
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
            result = run_batch(task, input, output, _settings(), scheduler=scheduler, n_workers=workers, key=key,
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


@flow_app.command("run")
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

    task = task or _settings().default_task
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


@flow_app.command("serve")
def flow_serve(
    tasks: Annotated[list[str] | None, typer.Option("--task", help="Tasks to schedule (repeatable)")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML training config for the daily runs")] = None,
) -> None:
    """Keep the pipelines on schedules: SKUFLOW_TRAIN_CRON (default 0 0 * * *) and SKUFLOW_BATCH_CRON
    (default 0 2 * * *)."""
    from skuflow.flows.schedule import serve_forever

    s = _settings()
    serve_forever(s, tasks or [s.default_task], str(config) if config else None)


@drift_app.command("report")
def drift_report(
    task: str,
    window: Annotated[int, typer.Option(help="latest predictions to compare")] = 1000,
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("drift_report.html"),
    as_json: JsonOpt = False,
) -> None:
    """Write an HTML drift report for the champion's latest predictions and log it to MLflow."""
    from skuflow.flows.retrain import latest_window, window_drift
    from skuflow.monitoring.drift import DriftPolicy, window_figures
    from skuflow.monitoring.prediction_log import PredictionLog
    from skuflow.monitoring.report import render_html
    from skuflow.serving.runtime import load_version
    from skuflow.tasks.base import get_task

    try:
        s = _settings()
        store = _store()
        t = get_task(task)
        champ = store.champion(t.name)
        if champ is None:
            raise ModelNotFoundError(f"Task '{task}' has no champion")
        served = load_version(store, t, champ, warmup=False)
        profile = served.profile
        if profile is None:
            raise ModelNotFoundError(f"{champ.name} v{champ.version} has no reference profile")
        plog = PredictionLog(str(s.prediction_log_url))
        latest = latest_window(t, plog, champ.version, window)
        plog.close()
        report = window_drift(t, plog, profile, champ.version, window, DriftPolicy.from_settings(s), latest=latest,
                              model=served.model, novelty=served.novelty)
        page = render_html(report, profile, latest.features, latest.predictions, latest.confidences)
        out.write_text(page)
        with store.run(t.name, run_name=f"drift-{champ.name}-v{champ.version}") as run:
            run.set_tags({"skuflow.kind": "drift", "model_version": champ.version})
            run.log_metrics({"drifted": float(report.drifted), "share_drifted": report.share_drifted,
                             "rows": report.n_rows, "alarm": float(report.alarm),
                             **{f"effect.{c.column}": c.effect for c in report.columns},
                             **window_figures(report)})
            run.log_artifacts({"drift_report.json": report.to_dict()})
            run.log_file(str(out))
    except SkuflowError as exc:
        fail(exc, as_json)
    summary = {"task": t.name, "model_version": champ.version, "rows": report.n_rows, "drifted": report.drifted,
               "drifted_columns": [c.column for c in report.columns if c.drifted], "alerts": report.alerts,
               **window_figures(report), "report": str(out),
               "run_id": run.run_id}
    emit(summary, as_json)


@app.command()
def retrain(
    task: str,
    config: Annotated[Path | None, typer.Option(help="YAML training config")] = None,
    data: Annotated[str | None, typer.Option(help="data to ingest (default SKUFLOW_TRAIN_DATA)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain now on the configured fresh data; the champion gate decides as always."""
    from skuflow.flows.pipelines import train_flow

    cfg = str(config) if config else _settings().train_config
    try:
        summary = train_flow(task_name=task, data=data, config_path=cfg)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(summary, as_json)


@app.command()
def serve(host: str | None = None, port: int | None = None,
          workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1) -> None:
    """Serve every task's champion over HTTP."""
    from skuflow.serving.server import run_server

    s = _settings()
    run_server(s, host or s.host, port or s.port, workers=workers)


@app.command()
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


@app.command()
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

    s = _settings()
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

