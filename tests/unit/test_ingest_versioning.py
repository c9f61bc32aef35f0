import pandas as pd
import pytest

from skuflow.data.generate import generate_catalogue
from skuflow.data.ingest import apply_mapping, read_table, write_table
from skuflow.data.versioning import dataset_digest
from skuflow.errors import DataError


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl", "csv.gz"])
def test_round_trip_formats(tmp_path, suffix):
    frame = generate_catalogue(50, seed=1).drop(columns=["created_at", "image"])
    url = str(tmp_path / f"cat.{suffix}")
    write_table(frame, url)
    back = read_table(url)
    assert len(back) == 50
    assert back["title"].tolist() == frame["title"].tolist()


def test_fsspec_url(tmp_path):
    frame = pd.DataFrame({"title": ["a", "b"], "category": ["x", "y"]})
    write_table(frame, "memory://bucket/data.parquet")
    assert read_table("memory://bucket/data.parquet")["title"].tolist() == ["a", "b"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="Data not found"):
        read_table(str(tmp_path / "nope.csv"))


def test_corrupt_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="Could not read"):
        read_table(str(bad))


def test_synthetic_source():
    assert len(read_table("synthetic:30:5")) == 30


def test_mapping_renames_and_names_missing_source_column():
    frame = pd.DataFrame({"Product Title": ["a"], "Category Label": ["x"], "Cluster ID": [1]})
    mapped = apply_mapping(frame, {"Product Title": "title", "Category Label": "category"})
    assert list(mapped.columns) == ["title", "category", "Cluster ID"]
    with pytest.raises(DataError, match="Merchant ID"):
        apply_mapping(frame, {"Merchant ID": "seller_id"})


def test_digest_depends_on_content_only():
    a = generate_catalogue(100, seed=1)
    assert dataset_digest(a) == dataset_digest(a.copy())
    assert dataset_digest(a) == dataset_digest(a[list(reversed(a.columns))])
    b = a.copy()
    b.loc[3, "price"] = b.loc[3, "price"] + 1
    assert dataset_digest(a) != dataset_digest(b)
