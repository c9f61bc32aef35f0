import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skuflow.data.generate import generate_catalogue
from skuflow.features.product import ProductFeaturizer, price_bucket


@pytest.fixture(scope="module")
def frame():
    return generate_catalogue(200, seed=11)


def test_frame_and_records_give_identical_features(frame):
    # serving passes dicts, batch passes frames: they must be the same numbers (no skew)
    f = ProductFeaturizer().fit(frame)
    cols = ["title", "description", "brand", "seller_id", "price"]
    a = f.transform(frame[cols]).toarray()
    b = f.transform(frame[cols].to_dict(orient="records")).toarray()
    assert np.array_equal(a, b)
    assert a.shape[1] == f.n_features_out_


def test_missing_optional_fields_are_tolerated(frame):
    f = ProductFeaturizer().fit(frame)
    x = f.transform([{"title": "blue kettle"}, {"title": "tent", "price": None, "brand": None}])
    assert x.shape == (2, f.n_features_out_)
    assert np.isfinite(x.toarray()).all()


def test_unfitted_transform_raises(frame):
    with pytest.raises(NotFittedError):
        ProductFeaturizer().transform(frame)


def test_sklearn_contract_params_only_in_init(frame):
    f = ProductFeaturizer(char_ngrams=None, id_weight=0.5)
    g = clone(f)
    assert g.get_params() == f.get_params()
    assert not hasattr(g, "word_vectorizer_")
    assert f.fit(frame) is f


def test_price_buckets():
    assert price_bucket(float("nan")) == 0
    assert price_bucket(5.0) == 1
    assert price_bucket(10.0) == 2
    assert price_bucket(499.0) == 6
