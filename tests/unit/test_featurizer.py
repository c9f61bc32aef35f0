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


def test_fast_blocks_match_sklearn_vectorizers(frame):
    # the one-pass CSR code must compute what sklearn's transform computes from the same fitted state
    from sklearn.feature_extraction import FeatureHasher

    f = ProductFeaturizer(cross_char_ngrams=(1, 4)).fit(frame)
    texts = f._texts(frame)
    ours = [b for b in f._text_blocks(texts)]
    for vec, block in zip(f._vectorizers(), ours, strict=True):
        from skuflow.features.sparse import hstack_blocks

        mine = hstack_blocks([block], len(texts)).toarray()
        assert np.allclose(mine, vec.transform(texts).toarray(), atol=1e-6)
    prices = frame["price"].tolist()
    tokens = f._id_tokens(frame, prices) + [["brand=ünïcode"]]
    from skuflow.features.sparse import hashed_block, hstack_blocks

    mine = hstack_blocks([hashed_block(tokens, 2**12)], len(tokens)).toarray()
    ref = FeatureHasher(2**12, input_type="string", alternate_sign=False).transform(tokens).toarray()
    assert np.array_equal(mine, ref)
    one = f.transform(frame.iloc[:1]).toarray()
    assert np.allclose(one, f.transform(frame).toarray()[:1])


def test_fast_classifiers_agree_with_their_sklearn_bases(frame):
    from sklearn.svm import LinearSVC

    from skuflow.estimators.boosted import BoosterClassifier
    from skuflow.estimators.calibrated_svc import TemperatureScaledSVC

    f = ProductFeaturizer().fit(frame)
    X, y = f.transform(frame), frame["category"].astype(str).to_numpy()
    lgbm = BoosterClassifier(n_estimators=20, verbose=-1).fit(X, y)
    from lightgbm import LGBMClassifier

    assert np.allclose(lgbm.predict_proba(X[:3]), LGBMClassifier.predict_proba(lgbm, X[:3]))
    svc = TemperatureScaledSVC(C=1.0).fit(X, y)
    ref = LinearSVC(C=1.0, max_iter=5000).fit(X, y)
    assert (svc.predict(X) == ref.predict(X)).all()
    proba = svc.predict_proba(X[:5])
    assert np.allclose(proba.sum(axis=1), 1.0) and svc.temperature_ > 0
    assert (svc.classes_[proba.argmax(axis=1)] == svc.predict(X[:5])).all()


def test_trials_share_fits_and_blocks_of_the_same_rows_and_a_pickled_copy_stands_alone(frame):
    import pickle

    from skuflow.features import shared

    shared.clear()
    private = ProductFeaturizer(cross_char_ngrams=(1, 4)).fit(frame)
    first = ProductFeaturizer(cross_char_ngrams=(1, 4), share_vectors=True).fit(frame)
    second = ProductFeaturizer(cross_char_ngrams=(1, 4), id_weight=0.5, share_vectors=True).fit(frame)
    assert first.char_vectorizer_ is second.char_vectorizer_  # one fit, two trials
    other = ProductFeaturizer(cross_char_ngrams=(1, 5), share_vectors=True).fit(frame)
    assert other.cross_char_vectorizer_ is not first.cross_char_vectorizer_  # other settings: its own fit
    probe = generate_catalogue(40, seed=12)
    expected = private.transform(probe).toarray()
    assert np.array_equal(first.transform(probe).toarray(), expected)
    assert np.array_equal(first.transform(probe).toarray(), expected)  # again, from the shared blocks
    assert any(k[0] == "block" for k in shared.keys())
    assert not np.array_equal(second.transform(probe).toarray(), expected)  # id weight still applies
    copy = pickle.loads(pickle.dumps(first))
    shared.clear()
    assert "shared_keys_" not in copy.__dict__
    assert np.array_equal(copy.transform(probe).toarray(), expected)


def test_an_svc_without_a_temperature_predicts_the_same_classes():
    from skuflow.estimators.calibrated_svc import TemperatureScaledSVC

    data = generate_catalogue(300, seed=5)
    features = ProductFeaturizer().fit(data)
    X, y = features.transform(data), data["category"].to_numpy()
    bare = TemperatureScaledSVC(cv=0).fit(X, y)
    assert bare.temperature_ == 1.0
    for cv in (1, 3):  # one held-out third (the default), or out-of-fold scores of every row
        calibrated = TemperatureScaledSVC(cv=cv).fit(X, y)
        assert calibrated.temperature_ != 1.0 and (bare.predict(X) == calibrated.predict(X)).all()


def test_a_class_with_one_row_still_trains_and_calibrates():
    from skuflow.estimators.calibrated_svc import TemperatureScaledSVC

    data = generate_catalogue(300, seed=5)
    y = data["category"].to_numpy().astype(object)
    y[0], y[1] = "rare_a", "rare_b"  # one row each: no split can put them on both sides
    X = ProductFeaturizer().fit(data).transform(data)
    for cv in (1, 3):
        model = TemperatureScaledSVC(cv=cv).fit(X, y)
        assert model.temperature_ != 1.0 and model.predict_proba(X).shape == (300, len(set(y)))


def test_a_single_row_matrix_is_what_scipys_checked_constructor_builds(frame):
    """The online path skips scipy's constructor checks (``trusted_csr``): the matrix must be the same object
    in every attribute, with a valid format, as the checked one; a scipy upgrade that sets more fails here."""
    import scipy.sparse as sp

    feat = ProductFeaturizer(min_df=1, id_hash_bits=10).fit(frame)
    for i in range(5):
        fast = feat.transform(frame.iloc[i:i + 1])
        checked = sp.csr_matrix((fast.data, fast.indices, fast.indptr), shape=fast.shape)
        assert vars(fast).keys() == vars(checked).keys()
        assert fast.indices.dtype == checked.indices.dtype and fast.indptr.dtype == checked.indptr.dtype
        assert fast.maxprint == checked.maxprint and fast.shape == checked.shape
        fast.check_format(full_check=True)  # sorted, in range, consistent
        assert fast.has_sorted_indices and (fast != checked).nnz == 0
        np.testing.assert_array_equal(fast.toarray(), feat.transform(frame.iloc[i:i + 2]).toarray()[:1])
