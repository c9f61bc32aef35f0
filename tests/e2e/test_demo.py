"""The first five minutes: `skuflow up` (what `make run` runs) trains the demo champion, and that champion
files everyday product titles, sent with nothing but the title, under the right demo category.

The titles in everyday_titles.tsv were written by hand, as shops write them; none of them is generated.
They guided the demo vocabulary's breadth, so they are a regression check, not the acceptance figure.
"""

import json
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from skuflow.cli.main import app
from skuflow.serving.app import create_app
from skuflow.settings import get_settings

TITLES = Path(__file__).with_name("everyday_titles.tsv")
README = Path(__file__).resolve().parents[2] / "README.md"


def _ready(client: TestClient) -> None:
    deadline = time.monotonic() + 60
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "the champion never loaded"
        time.sleep(0.2)


def test_up_trains_the_demo_once_and_it_reads_titles(tmp_path, monkeypatch):
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()
    r = runner.invoke(app, ["up", "--no-serve"])  # the default data, as make run
    assert r.exit_code == 0, r.output
    assert "is champion" in r.stderr
    curl = re.search(r"curl -s -X POST http://127.0.0.1:8000(\S+) .* -d '(.*)'", r.stdout)
    assert curl, r.stdout

    with TestClient(create_app(get_settings())) as client:
        _ready(client)
        answer = client.post(curl.group(1), json=json.loads(curl.group(2)))  # the README's first request
        assert answer.status_code == 200 and answer.json()["prediction"] == "electronics", answer.text
        # the README's title-only examples answer as it says
        claims = re.findall(r"`(\{\"title\": [^`]+\})` answers `(\w+)`", README.read_text())
        assert len(claims) >= 2
        for body, category in claims:
            assert client.post("/v1/category/predict", json=json.loads(body)).json()["prediction"] == category
        rows = [line.split("\t") for line in TITLES.read_text().splitlines() if line.strip()]
        right = 0
        for category, title in rows:
            got = client.post("/v1/category/predict", json={"title": title})
            assert got.status_code == 200, got.text
            right += got.json()["prediction"] == category
    assert right / len(rows) >= 0.9, f"{right}/{len(rows)} everyday titles filed right"

    r = runner.invoke(app, ["up", "--no-serve"])
    assert r.exit_code == 0 and "Reusing champion category v1" in r.stderr
    get_settings.cache_clear()
