"""Training-row records: stable digests, groups, and a compact round trip."""

import numpy as np
import pandas as pd

from skuflow.training.seen_rows import SeenRows, row_digests

COLS = ["title", "price", "image"]


def test_digests_ignore_how_a_number_parsed_and_see_every_field():
    a = pd.DataFrame({"title": ["pan", "pan"], "price": [12, 12.5]})
    b = pd.DataFrame({"title": ["pan", "pan"], "price": [12.0, 12.5]})
    assert (row_digests(a, COLS) == row_digests(b, COLS)).all()
    c = pd.DataFrame({"title": ["pan", "pan"], "price": [12.0, 13.5], "image": [b"\x00", None]})
    assert row_digests(c, COLS)[1] != row_digests(b, COLS)[1]
    assert row_digests(c, COLS)[0] != row_digests(b, COLS)[0]  # image bytes count


def test_unseen_drops_trained_rows_and_their_groups_and_survives_bytes():
    train = pd.DataFrame({"title": ["a", "b", "c"], "price": [1, 2, 3], "cluster": [1, 1, 2]})
    seen = SeenRows.of(train, COLS, group_key="cluster")
    other = pd.DataFrame({"title": ["a", "x", "y", "z"], "price": [1, 9, 9, 9], "cluster": [7, 1, 3, 2]})
    assert seen.unseen(other, COLS).tolist() == [False, False, True, False]
    back = SeenRows.from_bytes(seen.to_bytes())
    assert back.group_key == "cluster" and back.unseen(other, COLS).tolist() == [False, False, True, False]
    plain = SeenRows.from_bytes(SeenRows.of(train, COLS).to_bytes())
    assert plain.groups is None and plain.unseen(other, COLS).tolist() == [False, True, True, True]


def test_record_is_eight_bytes_a_row():
    frame = pd.DataFrame({"title": [f"product {i}" for i in range(20_000)], "price": np.arange(20_000)})
    assert len(SeenRows.of(frame, COLS).to_bytes()) < 20_000 * 8 * 1.1
