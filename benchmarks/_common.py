"""Shared bits for benchmarks: paths, environment, table printing."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PRICERUNNER = SHARED / "pricerunner" / "pricerunner.csv"

for key, value in {"MLFLOW_DISABLE_TELEMETRY": "true", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}.items():
    os.environ.setdefault(key, value)


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*header, title=title)
    for row in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)
