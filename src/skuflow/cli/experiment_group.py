"""``skuflow experiment``: shadow or A/B of a version against the champion."""

from __future__ import annotations

from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_settings, cli_store, emit, fail, out_console
from skuflow.errors import NotFoundError, SkuflowError

app = typer.Typer(help="Online experiments: shadow or A/B of a version against the champion.", no_args_is_help=True)


def _who() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@app.command("start")
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
        exp = record.start(cli_store(), task, challenger, mode, traffic, key, metric, max_requests,
                           record.parse_guardrails(guardrail), alpha, min_rows, _who())
    except SkuflowError as exc:
        fail(exc, as_json)

    def human(r: dict) -> None:
        out_console.print(f"experiment {r['id']}: {r['mode']} v{r['challenger']} against the champion "
                          f"v{r['champion']} at {r['traffic']:.0%}")

    emit(exp.to_dict(), as_json, human)


@app.command("status")
def experiment_status(task: str, as_json: JsonOpt = False) -> None:
    """Per-variant counts, the metric, the effect with its always-valid interval, the p-value."""
    from skuflow.experiments import judge, record
    from skuflow.monitoring.prediction_log import PredictionLog

    settings = cli_settings()
    exp = record.load(cli_store(), task)
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


@app.command("stop")
def experiment_stop(task: str, as_json: JsonOpt = False) -> None:
    """Stop the running experiment; the champion keeps serving."""
    from skuflow.experiments import record

    try:
        exp = record.end(cli_store(), task, "stopped", f"stopped by {_who()}")
    except SkuflowError as exc:
        fail(exc, as_json)
    emit(exp.to_dict(), as_json)
