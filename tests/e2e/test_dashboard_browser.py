"""The dashboard in a real browser: `skuflow dashboard` on 127.0.0.1, Debian's headless Chromium driven
by Playwright, a photo uploaded on the Predict page, the prediction read back, a screenshot saved, and the
Models page's evaluation figures rendered."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skuflow.images.sources import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, read_images
from skuflow.training.config import TrainConfig
from skuflow.training.train import train
from tests.conftest import make_settings
from tests.helpers import free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing (make test installs it)"),
    pytest.mark.skipif(not os.path.exists(FASHION_MNIST_DIR), reason="dataset-fashion-mnist is not installed"),
]


def test_upload_a_photo_and_read_the_prediction(tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    settings = make_settings(tmp_path / "home")
    cfg = TrainConfig.model_validate({"model": {"kind": "cnn", "params": {"epochs": 2, "width": 16,
                                                                          "batch_size": 32}}})
    train("returns", "fashion-mnist:300", cfg, settings)
    photo = tmp_path / "returned-item.png"
    photo.write_bytes(read_images("fashion-mnist:1")["image"].iloc[-1])

    port = free_port()
    env = {**os.environ, "SKUFLOW_HOME": str(settings.home)}
    board = subprocess.Popen([str(Path(sys.executable).parent / "skuflow"), "dashboard", "--port", str(port)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/_stcore/health", timeout=90, proc=board)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.get_by_text("returns v1 (champion)").wait_for(timeout=90_000)
            page.locator("input[type=file]").set_input_files(str(photo))
            metric = page.locator('[data-testid="stMetricValue"]').first
            metric.wait_for(timeout=90_000)
            predicted = metric.inner_text().strip()
            page.locator(".vega-embed").first.wait_for(timeout=30_000)  # the top-k chart, for the picture
            page.wait_for_timeout(500)
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            # the Models page: the version's evaluation figures (confusion matrix, curves, reliability,
            # saliency) rendered as images the browser decoded
            page.locator('[data-testid="stSidebar"]').get_by_text("Models", exact=True).click()
            page.get_by_text("Evaluation (test split)").wait_for(timeout=60_000)
            images = page.locator('[data-testid="stImage"] img, [data-testid="stFullScreenFrame"] img')
            page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 4",
                                   timeout=60_000)
            page.wait_for_timeout(500)
            decoded = images.evaluate_all("els => els.map(e => e.complete && e.naturalWidth > 0)")
            captions = page.locator('[data-testid="stImage"]').all_inner_texts()
            browser.close()
    finally:
        board.terminate()
        board.wait(timeout=30)
    assert predicted in FASHION_MNIST_CLASSES
    assert len(decoded) >= 4 and all(decoded), decoded
    assert any("ROC and precision-recall" in c for c in captions) and any("where the model looks" in c
                                                                         for c in captions), captions
    assert shot.stat().st_size > 10_000
    if os.environ.get("SKUFLOW_SCREENSHOT_TO"):  # how the README's picture was made
        shutil.copy(shot, os.environ["SKUFLOW_SCREENSHOT_TO"])
