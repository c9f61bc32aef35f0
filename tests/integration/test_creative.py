"""The creative task: a listing-quality model trained on real reviews, served; marketing copy that is
valid, within ad limits and ranked by that model."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from skuflow.serving.app import create_app
from skuflow.tasks.creative import CreativeTask
from skuflow.text.copywriter import BODY_MAX, HEADLINE_MAX, draft_variants
from skuflow.training.config import load_config
from skuflow.training.train import train
from tests.conftest import SHARED_DATA, make_settings

REVIEWS = SHARED_DATA / "womens-reviews" / "womens_clothing_reviews.csv"
PRODUCT = {"title": "Belmar linen summer dress", "brand": "Belmar", "category": "fashion", "price": 59.0,
           "description": "Light, breathable linen with a flattering cut and deep pockets. Soft and comfortable."}


@pytest.fixture(scope="module")
def creative_home(tmp_path_factory):
    if not REVIEWS.exists():
        pytest.skip(f"{REVIEWS} not found")
    settings = make_settings(tmp_path_factory.mktemp("creative") / "home", reload_interval=0.0)
    sample = pd.read_csv(REVIEWS).sample(6000, random_state=0)
    config = load_config("configs/womens-reviews.yaml")  # its mapping and split; a fast model for the tests
    config.model.kind, config.model.params = "tfidf_lr", {"C": 2.0}
    result = train("creative", sample, config, settings)
    return settings, result


def test_hashtags_captions_and_ads_are_valid_and_deterministic():
    drafts = draft_variants(PRODUCT, n=5, seed=3)
    assert [d.to_dict() for d in drafts] == [d.to_dict() for d in draft_variants(PRODUCT, n=5, seed=3)]
    assert [d.to_dict() for d in drafts] != [d.to_dict() for d in draft_variants(PRODUCT, n=5, seed=4)]
    for d in drafts:
        assert "Belmar linen summer dress" in d.social_media_caption
        assert 5 <= len(d.hashtags) <= 10
        assert all(re.fullmatch(r"#[A-Za-z][A-Za-z0-9]*", h) for h in d.hashtags)
        assert len({h.lower() for h in d.hashtags}) == len(d.hashtags)
        assert "#Fashion" in d.hashtags and "#Belmar" in d.hashtags
        assert 0 < len(d.ad_copy["headline"]) <= HEADLINE_MAX and 0 < len(d.ad_copy["body"]) <= BODY_MAX
    sparse = draft_variants({"title": "X1"}, n=2)  # almost nothing to work with: still valid copy
    assert all(5 <= len(d.hashtags) <= 10 for d in sparse)


def test_label_comes_from_the_rating_threshold():
    frame = pd.DataFrame({"title": ["a", "b", "c", None], "description": ["x", "y", None, None],
                          "rating": [5, 3, 4, 5]})
    clean, report = CreativeTask().validate(frame)
    assert clean["quality"].tolist() == ["good", "poor", "good"]
    assert report.reasons == {"text: title and description both missing": 1}
    strict, _ = CreativeTask().validate(frame, config=type("C", (), {"label_threshold": 4.5})())
    assert strict["quality"].tolist() == ["good", "poor", "poor"]


@pytest.mark.shared_data
def test_quality_model_metrics_and_artifacts(creative_home):
    settings, result = creative_home
    assert result.promoted and result.rows["train"] + result.rows["test"] == result.validation["rows_valid"]
    m = result.metrics
    assert m["roc_auc"] > 0.85 and 0 < m["brier"] < 0.2 and "f1.poor" in m
    from skuflow.registry.store import RegistryStore

    artifacts = {a.path for a in RegistryStore(settings).client.list_artifacts(result.run_id)}
    assert {"reliability.png", "reliability.json", "roc_pr_curves.png", "confusion_matrix.png"} <= artifacts


@pytest.mark.shared_data
def test_poor_listing_scores_lower_than_a_rich_one(creative_home):
    settings, result = creative_home
    from skuflow.registry.store import RegistryStore

    model = RegistryStore(settings).load_model("creative", result.version)
    task = CreativeTask()
    poor, rich = task.good_probability(model, [
        {"title": "DRESS SALE"},
        {"title": "Belmar linen summer dress",
         "description": "Beautiful, soft and flattering. The fit is perfect and the fabric feels lovely; I get "
                        "compliments every time I wear it."}])
    assert poor < rich


@pytest.mark.shared_data
def test_api_predicts_quality_and_generates_ranked_copy(creative_home):
    settings, _ = creative_home
    with TestClient(create_app(settings)) as client:
        while client.get("/ready").status_code != 200:
            __import__("time").sleep(0.1)
        q = client.post("/v1/creative/predict", json=PRODUCT)
        assert q.status_code == 200 and q.json()["prediction"] in ("good", "poor")
        r = client.post("/v1/creative/generate", json={**PRODUCT, "variants": 5, "seed": 1})
        assert r.status_code == 200, r.text
        body = r.json()
        scores = [v["confidence_score"] for v in body["variants"]]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        assert body["social_media_caption"] == body["variants"][0]["social_media_caption"]
        assert "Belmar linen summer dress" in body["social_media_caption"]
        again = client.post("/v1/creative/generate", json={**PRODUCT, "variants": 5, "seed": 1}).json()
        assert again["variants"] == body["variants"]
        many = client.post("/v1/creative/generate/batch", json={"products": [PRODUCT, {"title": "Zenlu frying pan"}],
                                                                "variants": 2})
        assert many.status_code == 200 and len(many.json()["results"]) == 2
        bad = client.post("/v1/creative/generate", json={"description": "no title"})
        assert bad.status_code == 422 and "title" in bad.json()["message"]
        bad = client.post("/v1/creative/generate", json={**PRODUCT, "variants": 50})
        assert bad.status_code == 422 and "variants" in bad.json()["message"]


@pytest.mark.shared_data
@pytest.mark.quality
def test_cross_fitted_blend_trains_registers_and_serves_from_the_registry(tmp_path):
    if not REVIEWS.exists():
        pytest.skip(f"{REVIEWS} not found")
    from skuflow.registry.store import RegistryStore

    settings = make_settings(tmp_path / "home")
    sample = pd.read_csv(REVIEWS).sample(4000, random_state=1)
    config = load_config("configs/womens-reviews.yaml")  # the shipped recipe without its encoder
    config.model.params = {**config.model.params, "rounds": 2,
                           "members": {k: v for k, v in config.model.params["members"].items() if k != "minilm_ft"}}
    result = train("creative", sample, config, settings)
    m = result.metrics
    assert {"member_roc_auc.nblr", "member_roc_auc.score_ridge"} <= set(m) and m["roc_auc"] > 0.85
    model = RegistryStore(settings).load_model("creative", result.version)
    assert len(model.stacker_.coef_.ravel()) == 2 and dict(model.fitted_)["score_ridge"][0].uses_score_
    assert result.rows["train"] + result.rows["test"] == result.validation["rows_valid"]
    with TestClient(create_app(settings)) as client:
        while client.get("/ready").status_code != 200:
            __import__("time").sleep(0.1)
        q = client.post("/v1/creative/predict", json=PRODUCT)
        assert q.status_code == 200 and q.json()["prediction"] in ("good", "poor")
        assert q.headers["X-Model-Version"] == str(result.version)
        # the blend is explained through its strongest member, phrase by phrase
        poor = {"title": "Cheap and flimsy", "description": "The fabric is thin and scratchy, the seams came apart "
                "after one wash. Returned it."}
        why = client.post("/v1/creative/explain?top=4", json=poor)
        assert why.status_code == 200, why.text
        body = why.json()
        strongest = max(model.weights_, key=lambda n: abs(model.weights_[n]))
        assert body["prediction"] == "poor" and strongest in body["method"]
        assert len(body["contributions"]) == 4 and all(c["family"] in ("title", "description")
                                                       for c in body["contributions"])
        # the phrase that argues most for "poor" is one a reader would point at
        top = max(body["contributions"], key=lambda c: c["contribution"])["feature"].lower()
        assert any(w in top for w in ("cheap", "flimsy", "thin", "scratchy", "apart", "returned")), top
