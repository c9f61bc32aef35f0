"""The creative blend: members learn on most rows, the stacker weighs them on the rest, cheap members are
refit on every row, and fine-tuned encoders (whatever their name in the config) are not fitted twice."""

from __future__ import annotations

import numpy as np

from skuflow.tasks.base import get_task
from skuflow.text.blend import BlendClassifier
from skuflow.text.linear import nb_lr, tfidf_lr


def _reviews(n: int, seed: int = 0) -> tuple[list[dict[str, str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    praise = ["lovely", "soft", "flattering", "perfect fit", "gorgeous colour"]
    blame = ["ripped", "cheap fabric", "runs small", "sent it back", "itchy"]
    rows, labels = [], []
    for i in range(n):
        good = bool(rng.random() < 0.6)
        words = rng.choice(praise if good else blame, size=2, replace=False).tolist()
        if rng.random() < 0.2:  # some noise so no member is perfect
            words.append(str(rng.choice(blame if good else praise)))
        rows.append({"title": f"Dress {i}", "description": ", ".join(words)})
        labels.append("good" if good else "poor")
    return rows, np.array(labels)


def test_blend_weighs_members_and_refits_the_cheap_ones_on_every_row():
    rows, y = _reviews(300)
    blend = BlendClassifier([("tfidf_lr", tfidf_lr(C=2.0, min_df=1)), ("nblr", nb_lr(C=4.0, min_df=1))],
                            refit=("nblr",), holdout=0.3, seed=0).fit(rows, y)
    assert set(blend.weights_) == {"tfidf_lr", "nblr"} and all(w > 0 for w in blend.weights_.values())
    fitted = dict(blend.fitted_)
    seen = {name: len(m.named_steps["tfidf"].transformer_list[0][1].vocabulary_) for name, m in fitted.items()}
    assert seen["nblr"] > seen["tfidf_lr"]  # refit on all 300 rows: it knows every "Dress i" title
    test_rows, test_y = _reviews(200, seed=1)
    accuracy = float((blend.predict(test_rows) == test_y).mean())
    assert accuracy > 0.85
    proba = blend.predict_proba(test_rows)
    assert np.allclose(proba.sum(1), 1.0) and list(blend.classes_) == ["good", "poor"]


def test_fine_tuned_members_keep_their_first_fit_whatever_their_name():
    model = get_task("creative").build_model(
        {"kind": "blend", "params": {"members": {"tfidf_lr": {}, "nblr": {},
                                                 "minilm_ft": {"epochs": 1},
                                                 "minilm_ft_long": {"kind": "minilm_ft", "epochs": 3}}}}, {})
    assert set(model.refit) == {"tfidf_lr", "nblr"}
    assert dict(model.members)["minilm_ft_long"].epochs == 3
