"""The real catalogue through the real command: column mapping, dedupe, grouped split, quality threshold."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from skuflow.cli.main import app
from skuflow.settings import get_settings
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
PRICERUNNER = SHARED_DATA / "pricerunner" / "pricerunner.csv"


@pytest.mark.slow
@pytest.mark.quality
@pytest.mark.shared_data
def test_pricerunner_grouped_split_reaches_quality_bar(tmp_path, monkeypatch):
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["train", "category", "--data", str(PRICERUNNER),
                                 "--config", str(ROOT / "configs" / "pricerunner.yaml"), "--json"])
    get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["promoted"] and out["champion_version"] == 1
    assert out["metrics"]["macro_f1"] >= 0.985
    # 35,311 offers, 4,318 repeated titles removed before the split; 10 categories
    assert out["validation"]["reasons"]["duplicate title"] > 4000
    validation = out["validation"]
    assert sum(out["rows"].values()) == validation["rows_valid"] - validation["reasons"]["duplicate title"]
    assert len([k for k in out["metrics"] if k.startswith("f1.")]) == 10
