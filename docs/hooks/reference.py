"""MkDocs hook: the reference pages' tables are read from the code when the site is built, so they cannot
drift from it. A page holds a marker (``<!-- skuflow:cli -->``) where its generated part goes."""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

from pydantic import BaseModel

MARKER = re.compile(r"<!-- skuflow:(\w+) -->")


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _cli() -> str:
    import typer

    from skuflow.cli.main import app

    root = typer.main.get_command(app)
    out: list[str] = []

    # typer ships its own copy of click: read its commands by their attributes, not by click's classes
    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], [*path, name])
            return
        ctx = cmd.context_class(cmd, info_name=" ".join(path))
        out.append(f"## `{' '.join(path)}`\n")
        out.append(f"```text\n{cmd.get_usage(ctx)}\n```\n")
        if cmd.help:
            out.append(cmd.help.strip() + "\n")
        rows = []
        for p in cmd.params:
            kind = "argument" if p.param_type_name == "argument" else _cell(p.display_type(ctx))
            names = ", ".join(f"`{n}`" for n in [*p.opts, *p.secondary_opts])
            default = "" if p.default is None or callable(p.default) or p.required else f"`{p.default}`"
            rows.append(f"| {names} | {kind} | {default} | {_cell(getattr(p, 'help', '') or '')} |")
        if rows:
            out.append("| option | type | default | help |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")

    walk(root, ["skuflow"])
    return "\n".join(out)


def _default(field: Any) -> Any:
    return field.default if field.default_factory is None else field.default_factory()


def _settings() -> str:
    from skuflow.settings import Settings

    rows = []
    for name, field in Settings.model_fields.items():
        rows.append(f"| `SKUFLOW_{name.upper()}` | `{_default(field)!s}` | {_cell(field.description or '')} |")
    return "| variable | default | what |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def _model_rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows += _model_rows(ann, f"{prefix}{name}.")
            continue
        doc = field.description or ""
        rows.append(f"| `{prefix}{name}` | `{_cell(getattr(ann, '__name__', ann))}` | `{_default(field)!s}` | "
                    f"{_cell(doc)} |")
    return rows


def _recipe() -> str:
    from skuflow.training.config import TrainConfig

    return "| key | type | default | what |\n|---|---|---|---|\n" + "\n".join(_model_rows(TrainConfig, "")) + "\n"


def _openapi() -> str:
    from skuflow.serving.app import create_app
    from skuflow.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        spec = create_app(Settings(home=home, admin_api_key="docs")).openapi()
    out = []
    for path, ops in sorted(spec["paths"].items()):
        for method, op in ops.items():
            codes = ", ".join(sorted(op.get("responses", {})))
            out.append(f"| `{method.upper()}` | `{path}` | {_cell(op.get('summary', ''))} | {codes} |")
    return "| method | path | what | answers |\n|---|---|---|---|\n" + "\n".join(out) + "\n"


GENERATORS = {"cli": _cli, "settings": _settings, "recipe": _recipe, "openapi": _openapi}


def on_page_markdown(markdown: str, **_: Any) -> str:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)
