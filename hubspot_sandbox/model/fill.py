"""The fill draw of a whole page at once: which (record, property) pairs may hold a generated value.

Every generated property starts its (record, property) splitmix64 stream with one draw that
decides whether the record holds a value at all (`Generator._fill`). Most properties are
sparse, so most pairs stop there; drawing them one by one in Python is what a page of records
used to spend its time on. Here the same first draw is made for records x properties in one go
with numpy's wrapping uint64 arithmetic, bit for bit what `rng.combine` and `Rng.random` give,
and the generator only runs for the pairs it leaves standing.
"""

from __future__ import annotations

import numpy as np

from .generate import BIG_EVERY, BIG_PROPS
from .properties import PropSpec
from .records import TypeTable
from .rng import COMBINE_FACTOR, GOLDEN, MIX_1, MIX_2, UNIT

_U = np.uint64


def _mix64(z: np.ndarray) -> np.ndarray:
    """`rng.mix64` over a uint64 array (overflow wraps, as the Python version masks)."""
    z = z + _U(GOLDEN)
    z = (z ^ (z >> _U(30))) * _U(MIX_1)
    z = (z ^ (z >> _U(27))) * _U(MIX_2)
    return z ^ (z >> _U(31))


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`rng.combine` over broadcast uint64 arrays."""
    return _mix64((a * _U(COMBINE_FACTOR)) ^ b)


def _first_random(seeds: np.ndarray) -> np.ndarray:
    """`Rng(seed).random()`: the first draw of each stream as a float in [0, 1)."""
    return (_mix64(seeds) >> _U(11)).astype(np.float64) * UNIT


def candidates(table: TypeTable, idxs: list[int], specs: list[PropSpec]) -> list[list[bool]]:
    """[record][property]: False where the record certainly holds no generated value of the property.

    Mirrors `Generator._fill`: a property younger than the record's base update is unset, the big
    value is always set, otherwise the first draw is compared with the fill rate. Values written
    by `advance()` (the overlay) are not looked at: they are the caller's to add.
    """
    if not idxs or not specs:
        return [[True] * len(specs) for _ in idxs]
    at = np.asarray(idxs, dtype=np.int64)
    base_updated = table.updated[at].copy()
    for r, idx in enumerate(idxs):
        ov = table.overlay.get(idx)
        if ov is not None:
            base_updated[r] = ov.base_updated
    # The key as a one-element array: numpy warns about wrapping on scalars, not on arrays.
    records = _combine(np.array([table.key], dtype=np.uint64), table.ids[at].astype(np.uint64))
    keys = np.fromiter((s.key for s in specs), dtype=np.uint64, count=len(specs))
    fill = np.fromiter((s.fill for s in specs), dtype=np.float64, count=len(specs))
    prop_created = np.fromiter((s.created_ms for s in specs), dtype=np.int64, count=len(specs))
    drawn = np.fromiter((s.drawn for s in specs), dtype=bool, count=len(specs))
    too_young = np.maximum(table.created[at][:, None], prop_created[None, :]) > base_updated[:, None]
    big_name = BIG_PROPS.get(table.type_id)
    big = (at % BIG_EVERY == 7)[:, None] & np.array([s.name == big_name for s in specs])[None, :]
    unfilled = _first_random(_combine(records[:, None], keys[None, :])) >= fill[None, :]
    return (~(drawn[None, :] & (too_young | (~big & unfilled)))).tolist()
