"""scikit-learn's own estimator checks over skuflow's estimators that take numeric matrices. The ones that read
records, text or images (ProductFeaturizer, ListingText, TfidfFeatures, ScoreRidge, the MiniLM models, the
blends, ImageClassifier) cannot be fed the checks' random arrays; their contracts are tested with real rows in
test_featurizer.py, test_blend.py, test_encoder.py and test_images.py.

Every check an estimator is expected to fail is listed with the reason; a change that breaks any other check
fails the suite, and one that makes a listed check pass shows as XPASS."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skuflow.estimators.calibrated_svc import TemperatureScaledSVC
from skuflow.estimators.embedding_bag import EmbeddingBagClassifier
from skuflow.tasks.regression import ConformalRegressor
from skuflow.text.linear import NBLogisticRegression

TRUSTED_INPUT = ("prediction (and fit) trust the featurizer's output, sparse float rows of the width it was "
                 "fitted on: validating a served row would cost more than scoring it (skuflow.estimators.inputs)")
SPARSE_KINDS = "fed CSR matrices by the featurizer; other sparse containers are not converted"
TEXT_LABELS = ("labels become text, as every skuflow classifier's classes are category names: predictions never "
               "equal the check's integer labels")
ANY_LABEL = "any label value is a class name; a number or inf is taken as text, not refused"
COLUMN_Y = "a column vector y is taken with a DataConversionWarning, but the check's warning count differs"
NO_ITERATIONS = "no iteration count to report (a closed-form or wrapped fit)"
BINARY_MESSAGE = "refuses a third class in its own words (NB-LR is a binary classifier)"
UNDIAGNOSED = "fails on the check's synthetic data; not yet diagnosed"

EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    'EmbeddingBagClassifier': {
        'check_classifier_data_not_an_array': TRUSTED_INPUT,
        'check_classifiers_classes': TEXT_LABELS,
        'check_classifiers_one_label': TEXT_LABELS,
        'check_classifiers_regression_target': ANY_LABEL,
        'check_classifiers_train': TEXT_LABELS,
        'check_complex_data': TRUSTED_INPUT,
        'check_decision_proba_consistency': TEXT_LABELS,
        'check_estimators_empty_data_messages': TRUSTED_INPUT,
        'check_estimators_nan_inf': TRUSTED_INPUT,
        'check_estimators_pickle': TEXT_LABELS,
        'check_fit2d_predict1d': TRUSTED_INPUT,
        'check_fit_idempotent': TEXT_LABELS,
        'check_fit_score_takes_y': TEXT_LABELS,
        'check_methods_sample_order_invariance': TEXT_LABELS,
        'check_methods_subset_invariance': TEXT_LABELS,
        'check_n_features_in_after_fitting': TRUSTED_INPUT,
        'check_pipeline_consistency': TEXT_LABELS,
        'check_supervised_y_2d': COLUMN_Y,
        'check_supervised_y_no_nan': ANY_LABEL,
    },
    'NBLogisticRegression': {
        'check_classifier_data_not_an_array': TRUSTED_INPUT,
        'check_classifier_not_supporting_multiclass': BINARY_MESSAGE,
        'check_classifiers_regression_target': ANY_LABEL,
        'check_dtype_object': TRUSTED_INPUT,
        'check_fit1d': TRUSTED_INPUT,
        'check_fit2d_1sample': TRUSTED_INPUT,
        'check_fit2d_predict1d': TRUSTED_INPUT,
        'check_n_features_in': TRUSTED_INPUT,
        'check_n_features_in_after_fitting': TRUSTED_INPUT,
        'check_non_transformer_estimators_n_iter': NO_ITERATIONS,
        'check_positive_only_tag_during_fit': TRUSTED_INPUT,
        'check_supervised_y_2d': COLUMN_Y,
    },
    'TemperatureScaledSVC': {
        'check_classifier_data_not_an_array': TRUSTED_INPUT,
        'check_classifiers_classes': UNDIAGNOSED,
        'check_classifiers_regression_target': ANY_LABEL,
        'check_classifiers_train': UNDIAGNOSED,
        'check_estimator_sparse_array': SPARSE_KINDS,
        'check_estimator_sparse_matrix': SPARSE_KINDS,
        'check_estimators_nan_inf': TRUSTED_INPUT,
        'check_fit2d_predict1d': TRUSTED_INPUT,
        'check_n_features_in': TRUSTED_INPUT,
        'check_n_features_in_after_fitting': TRUSTED_INPUT,
        'check_non_transformer_estimators_n_iter': NO_ITERATIONS,
        'check_supervised_y_2d': COLUMN_Y,
    },
    'ConformalRegressor': {
        'check_estimator_sparse_array': SPARSE_KINDS,
        'check_estimator_sparse_matrix': SPARSE_KINDS,
        'check_estimators_empty_data_messages': TRUSTED_INPUT,
        'check_fit1d': TRUSTED_INPUT,
        'check_n_features_in': TRUSTED_INPUT,
        'check_n_features_in_after_fitting': TRUSTED_INPUT,
        'check_regressor_data_not_an_array': TRUSTED_INPUT,
        'check_supervised_y_2d': COLUMN_Y,
    },
}


@parametrize_with_checks([
    EmbeddingBagClassifier(dim=8, epochs=3, batch_size=16),
    NBLogisticRegression(),
    TemperatureScaledSVC(),
    ConformalRegressor(Ridge(), folds=3),
], expected_failed_checks=lambda estimator: EXPECTED_FAILURES.get(type(estimator).__name__, {}))
def test_sklearn_estimator_contract(estimator, check):
    np.random.seed(0)  # checks that draw from the global generator draw the same each run
    check(estimator)
