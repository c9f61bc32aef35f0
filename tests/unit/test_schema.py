import pandas as pd
import pytest

from skuflow.data.schema import validate_records
from skuflow.errors import MissingColumnError


def _frame(**overrides):
    base = {"title": ["red dress", "blue kettle", "", None, "tent"],
            "price": [10.0, "abc", 5.0, -7.0, 3.0],
            "category": ["fashion", "home", "fashion", "fashion", None],
            "seller_id": [1, 2, 3, 4, 5]}
    base.update(overrides)
    return pd.DataFrame(base)


def test_missing_required_column_names_it():
    with pytest.raises(MissingColumnError) as exc:
        validate_records(pd.DataFrame({"title": ["a"]}), ("title",), label="category", where="file.csv")
    assert "'category'" in str(exc.value) and "file.csv" in str(exc.value)


def test_bad_rows_are_counted_with_reasons_not_silently_dropped():
    valid, report = validate_records(_frame(), ("title",), label="category")
    assert report.rows_in == 5
    assert report.rows_valid == 1 and len(valid) == 1
    assert valid.loc[0, "title"] == "red dress"
    assert report.rows_rejected == 4
    reasons = " | ".join(report.reasons)
    assert "price: not a number" in reasons
    assert "title" in reasons and "category" in reasons and "price" in reasons
    assert sum(report.reasons.values()) == 4
    assert {e["row"] for e in report.rejected_examples} == {1, 2, 3, 4}


def test_ids_are_coerced_to_text_and_valid_frame_passes_whole():
    frame = pd.DataFrame({"title": ["a", "b"], "category": ["x", "y"], "seller_id": [10, 11],
                          "price": ["1.5", 2]})
    valid, report = validate_records(frame, ("title",), label="category")
    assert report.rows_rejected == 0
    assert valid["seller_id"].tolist() == ["10", "11"]
    assert valid["price"].tolist() == [1.5, 2.0]
