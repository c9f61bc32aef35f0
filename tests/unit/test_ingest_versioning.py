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


def test_json_lines_under_a_json_name_are_read_as_lines(tmp_path):
    import gzip
    import json

    rows = [{"reviewText": "fits well", "overall": 5}, {"reviewText": "too small", "overall": 2}]
    dump = tmp_path / "Clothing_5.json.gz"  # how public review dumps are named
    with gzip.open(dump, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    assert read_table(str(dump)).to_dict("records") == rows
    array = tmp_path / "array.json"
    array.write_text(json.dumps(rows))  # a real JSON document still reads as one
    assert read_table(str(array)).to_dict("records") == rows
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1}\n{"a": ')
    with pytest.raises(DataError, match="broken.json"):
        read_table(str(broken))


def test_duplicates_that_straddle_the_split_are_counted_and_the_fix_named(settings):
    from skuflow.training.config import TrainConfig
    from skuflow.training.train import train
    from tests.conftest import FAST_LGBM

    catalogue = generate_catalogue(400, seed=3)
    repeated = pd.concat([catalogue, catalogue.head(200)], ignore_index=True)  # a dump that repeats rows
    cfg = TrainConfig(model=FAST_LGBM)
    dup = train("category", repeated, cfg, settings).validation["duplicates"]
    assert dup["exact_rows"] == 200 and dup["test_rows_seen_in_training"] > 0
    assert "data.dedupe" in dup["hint"]
    clean = train("category", repeated, cfg.model_copy(update={"data": cfg.data.model_copy(
        update={"dedupe": ["title", "description"]})}), settings).validation["duplicates"]
    assert clean["exact_rows"] == 0 and clean["test_rows_seen_in_training"] == 0 and "hint" not in clean
