"""Category paths (labels, levels, the pooled classifier, reading trees from data) and declared inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from skuflow.errors import ConfigError, MissingColumnError
from skuflow.features.declared import DeclaredInputs
from skuflow.label_paths import is_path_labels, leaves, level_labels, level_predictions, tree_of
from skuflow.tasks.category import CategoryTask, ProductRecord
from skuflow.training.config import DataConfig

PATHS = ["A > x > 1", "A > x > 2", "A > y > 1", "B > z > 3"]


def test_levels_carry_the_mass_of_every_path_beneath_them():
    proba = np.array([[0.30, 0.25, 0.05, 0.40]])
    [levels] = level_predictions(proba, tree_of(PATHS), proba.argmax(axis=1))
    # the best path is B > z > 3 (0.40), though A holds 0.60: each level's confidence is its node's mass
    assert levels == [("B", pytest.approx(0.40)), ("z", pytest.approx(0.40)), ("3", pytest.approx(0.40))]
    [levels] = level_predictions(proba, tree_of(PATHS), np.array([0]))
    assert levels == [("A", pytest.approx(0.60)), ("x", pytest.approx(0.55)), ("1", pytest.approx(0.30))]
    assert level_labels(PATHS, 2) == ["A > x", "A > x", "A > y", "B > z"]
    assert leaves(PATHS) == ["1", "2", "1", "3"]
    assert is_path_labels(PATHS) and not is_path_labels(["A", "A > x"])


def test_a_tree_is_read_from_level_columns_or_one_separated_column():
    task = CategoryTask()
    frame = pd.DataFrame({"title": ["a", "b", "c"], "top": ["A", "A", " "], "leaf": ["x", None, "z"]})
    valid, report = task.validate(frame, config=DataConfig(path=["top", "leaf"]))
    assert valid["category"].tolist() == ["A > x"]
    assert report.reasons == {"path: top missing": 1, "path: leaf missing": 1} and report.rows_rejected == 2
    glued = pd.DataFrame({"title": ["a", "b"], "category": ["Home >> Kitchen>>Pans", "Garden"]})
    valid, _ = task.validate(glued, config=DataConfig(path_separator=">>"))
    assert valid["category"].tolist() == ["Home > Kitchen > Pans", "Garden"]
    with pytest.raises(MissingColumnError, match="leaf"):
        task.validate(frame.drop(columns="leaf"), config=DataConfig(path=["top", "leaf"]))
    with pytest.raises(ConfigError, match="either"):
        task.validate(frame, config=DataConfig(path=["top", "leaf"], path_separator=">"))


def test_declared_inputs_are_checked_by_type_and_extend_the_request_model():
    task = CategoryTask()
    frame = pd.DataFrame({"title": ["a", "b", "c"], "category": ["x", "y", "x"], "views": ["3", "lots", None],
                          "season": [2012, "Summer", None]})
    features = {"numeric": ["views"], "categorical": ["season"]}
    valid, report = task.validate(frame, features=features)
    assert report.reasons == {"views: not a number": 1}
    assert valid["views"].tolist()[0] == 3.0 and valid["season"].tolist()[0] == "2012"
    with pytest.raises(MissingColumnError, match="colour"):
        task.validate(frame, features={"categorical": ["colour"]})
    with pytest.raises(ConfigError, match="price"):
        task.validate(frame, features={"numeric": ["price"]})  # already the task's own input

    Record = DeclaredInputs.of(features).record_model(ProductRecord)
    assert list(Record.model_fields)[-2:] == ["season", "views"]
    assert Record.model_validate({"title": "t", "season": 2012}).season == "2012"
    with pytest.raises(ValidationError, match="views"):
        Record.model_validate({"title": "t", "views": "many"})
    assert DeclaredInputs.of({}).record_model(ProductRecord) is ProductRecord


def test_the_featurizer_reads_declared_attributes_and_names_them():
    from skuflow.features.product import ProductFeaturizer

    rows = pd.DataFrame({"title": ["red shirt", "blue shoe", "green hat"], "gender": ["Men", "Women", None],
                         "views": [1.0, None, 1000.0]})
    f = ProductFeaturizer(categorical=("gender",), numeric=("views",)).fit(rows)
    men = f.transform([{"title": "shirt", "gender": "Men"}])
    women = f.transform([{"title": "shirt", "gender": "Women"}])
    assert (men != women).nnz > 0  # the attribute changes the features
    X = f.transform(rows).toarray()
    assert 0.95 < X[2, -2] < 1.05 and X[1, -1] == 1.0  # scaled by the 99th percentile; the missing flag
    names = {f.feature_name(j, {"title": "x", "gender": "Men", "views": 5.0}) for j in
             f.transform([{"title": "x", "gender": "Men", "views": 5.0}]).indices}
    assert ("attributes", "gender=men") in names and ("numbers", "views (log) = 5") in names
