"""``skuflow models``: registered models, the champion alias and its history."""

from __future__ import annotations

from typing import Annotated

import typer

from skuflow.cli.output import JsonOpt, cli_store, emit, fail, out_console
from skuflow.errors import SkuflowError

app = typer.Typer(help="Registered models, the champion alias and its history.", no_args_is_help=True)


@app.command("list")
def models_list(task: str, as_json: JsonOpt = False) -> None:
    """Registered versions with their metrics; the champion is marked."""
    from skuflow.tasks.base import get_task

    store = cli_store()
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


@app.command("history")
def models_history(task: str, as_json: JsonOpt = False) -> None:
    """Every move of the champion alias: from, to, metrics, reason, time."""
    entries = cli_store().audit(task)

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


@app.command("promote")
def models_promote(task: str, version: int,
                   reason: Annotated[str, typer.Option(help="why, for the audit log (required)")],
                   as_json: JsonOpt = False) -> None:
    """Make VERSION the champion by hand (recorded in the history with your reason)."""
    from skuflow.registry.aliases import promote

    try:
        entry = promote(cli_store(), task, version, reason)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit({"model_name": task, "champion_version": entry["to"], **entry}, as_json)


@app.command("rollback")
def models_rollback(task: str, reason: str = "rollback", as_json: JsonOpt = False) -> None:
    """Give the champion alias back to the previous champion."""
    from skuflow.registry.aliases import rollback

    try:
        entry = rollback(cli_store(), task, reason)
    except SkuflowError as exc:
        fail(exc, as_json)
    emit({"model_name": task, "champion_version": entry["to"], **entry}, as_json)
