"""Faults while serving: the registry goes away under the hot-reload poll and comes back."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from skuflow.data.generate import generate_catalogue
from skuflow.registry.aliases import promote
from skuflow.registry.store import RegistryStore
from skuflow.serving.app import create_app
from skuflow.training.config import TrainConfig
from skuflow.training.train import train
from tests.conftest import FAST_LGBM, make_settings
from tests.helpers import PRODUCT, register_copy, wait_ready


def test_a_registry_outage_is_ridden_out_on_the_loaded_champion_and_the_next_champion_loads_after(tmp_path):
    """The one mock: the registry's answers fail for the outage (a real MLflow server cannot be unplugged here
    without stopping the SQLite store the test also trains into). Every request meanwhile is answered by the
    loaded champion; once the registry answers again the poll loads the version promoted during the outage."""
    s = make_settings(tmp_path / "home", reload_interval=0.1)
    train("category", generate_catalogue(600, seed=4), TrainConfig(model=FAST_LGBM), s)
    app = create_app(s)
    with TestClient(app) as client:
        wait_ready(client)
        poller = app.state.context.store()
        healthy = poller.champion

        def unreachable(*args, **kwargs):
            raise ConnectionError("registry unreachable")

        poller.champion = unreachable  # every poll now fails
        store = RegistryStore(s)
        promote(store, "category", register_copy(store, "category", 1),
                "promoted while the server could not see the registry")
        answered = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            r = client.post("/v1/category/predict", json=PRODUCT)
            answered.append((r.status_code, r.headers.get("x-model-version")))
        assert answered and set(answered) == {(200, "1")}, set(answered)
        assert client.get("/ready").status_code == 200

        poller.champion = healthy  # the registry is back
        deadline = time.monotonic() + 10.0
        while client.post("/v1/category/predict", json=PRODUCT).headers["x-model-version"] != "2":
            assert time.monotonic() < deadline, "the promoted version never loaded"
            time.sleep(0.05)
