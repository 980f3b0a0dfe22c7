"""The rules that refresh what HubSpot changes without bumping the modified date: which records a day
re-reads (every one once per K days) and which far ends an association comparison re-reads."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

from hubspot_pipeline.sync.association_refresh import far_ends_changed, lead_pairs, rotating_slice
from hubspot_pipeline.sync.change_search import MAX_ID
from hubspot_pipeline.sync.incremental import _slice_range


@pytest.mark.parametrize("n, every", [(1_000, 7), (5, 7), (0, 3), (12, 1), (30, 30)])
def test_calculated_ranges_cover_every_id_once_in_k_days(n: int, every: int) -> None:
    live = np.unique(np.random.default_rng(n).integers(1, 10**9, size=n)).astype(np.int64)
    ranges = [_slice_range(live, every, day) for day in range(700, 700 + every)]
    hits = np.zeros(len(live), dtype=np.int64)
    for lo, hi in ranges:
        hits += (live >= lo) & (live <= hi)
    assert (hits == 1).all()
    nonempty = sorted((lo, hi) for lo, hi in ranges if lo <= hi)
    # together the ranges cover the whole id space (new ids are scanned too), without overlap
    assert nonempty[0][0] == 0 and nonempty[-1][1] == MAX_ID
    assert all(a[1] + 1 == b[0] for a, b in pairwise(nonempty))
    if n >= every:  # about as many records each day
        sizes = [int(((live >= lo) & (live <= hi)).sum()) for lo, hi in ranges]
        assert max(sizes) - min(sizes) <= 1


def test_association_slices_cover_every_id_once_in_k_days() -> None:
    ids = np.arange(100, 1_100, dtype=np.int64)
    seen = np.concatenate([rotating_slice(ids, 7, day) for day in range(7)])
    assert sorted(seen.tolist()) == ids.tolist()
    assert rotating_slice(ids, 1, 3) is ids


def test_the_smaller_type_leads_each_pair_once() -> None:
    pairs = [("0-1", "0-2"), ("0-2", "0-1"), ("0-1", "0-3"), ("0-3", "0-1"), ("0-2", "0-2"), ("0-5", "0-1")]
    sizes = {"0-1": 100, "0-2": 30, "0-3": 500, "0-5": 9}
    assert list(lead_pairs(pairs, sizes.__getitem__)) == [
        (("0-2", "0-1"), ("0-1", "0-2")),
        (("0-1", "0-3"), ("0-3", "0-1")),
        (("0-2", "0-2"), None),
        (("0-5", "0-1"), None),  # only one direction defined
    ]


def _keys(rows: list[tuple[int, int, int]]) -> pa.Table:
    columns = zip(*rows, strict=True)
    return pa.table(
        {k: pa.array(v, pa.int64()) for k, v in zip(("from_id", "to_id", "type_id"), columns, strict=True)}
    )


def test_far_ends_are_those_of_added_removed_and_relabelled_edges() -> None:
    indexed = _keys([(1, 10, 1), (1, 11, 1), (2, 12, 1), (2, 12, 5), (3, 13, 1)])
    read = [
        _keys([(1, 10, 1), (1, 14, 1)]),  # 11 removed, 14 added
        _keys([(2, 12, 1), (2, 12, 7), (3, 13, 1)]),  # 12 relabelled (5 -> 7), 13 unchanged
    ]
    assert far_ends_changed(read, indexed).tolist() == [11, 12, 14]
    assert far_ends_changed([indexed], indexed).tolist() == []
