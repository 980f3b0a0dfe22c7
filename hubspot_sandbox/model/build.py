"""Construction of an account's day-0 state: types, record columns, edges."""

from __future__ import annotations

import numpy as np

from .associations import (
    PRIMARY,
    STANDARD_LABELS,
    STANDARD_PAIRS,
    UNLABELED,
    EdgeTable,
    LabelAllocator,
    PairDef,
    build_pair,
)  # fmt: skip
from .catalog import CustomTypeSpec, Prop, system_props
from .properties import PropertyRegistry, build_registry, custom_target
from .records import TypeTable
from .rng import np_rng, stable_hash
from .timefmt import DAY_MS, ms_to_datetime
from .types import ObjectType

HUB_CONTACTS = 1800  # contacts 0, 3, 6, ... below this all join company 0: > 500 associations at `small`


def record_columns(
    seed: int, type_id: str, n: int, id_base: int, first_ms: int, start_ms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, created, updated) of a type's day-0 records: ascending ids with gaps, creation skewed recent."""
    rng = np_rng("columns", seed, type_id)
    gaps = rng.integers(1, 4, size=n)
    ids = id_base + np.cumsum(gaps) - gaps[0]
    span = start_ms - first_ms - 3_600_000  # every record is at least an hour old at day 0
    created = first_ms + (span * np.sort(rng.random(n)) ** 0.7).astype(np.int64)
    touched = rng.random(n) < 0.7
    later = (rng.random(n) * (start_ms - 1 - created)).astype(np.int64)
    updated = created + np.where(touched, later, rng.integers(0, 5_000, size=n))
    return ids.astype(np.int64), created, np.minimum(updated, start_ms - 1)


def pre_archive(table: TypeTable, seed: int, start_ms: int) -> None:
    """Archive ~0.5% of records (at least one) before day 0, so tombstones exist from the start."""
    n = len(table)
    if n < 4:
        return
    rng = np_rng("pre-archive", seed, table.type_id)
    k = max(1, n // 200)
    idx = np.sort(rng.choice(np.arange(1, n), size=k, replace=False))
    when = table.updated[idx] + (rng.random(k) * (start_ms - 1 - table.updated[idx])).astype(np.int64)
    table.archived[idx] = when
    table.updated[idx] = when  # the archive is the record's last write


def custom_system_props() -> tuple[Prop, ...]:
    """The properties every custom type has."""
    return system_props(owner_fill=0.6)


def custom_object_type(spec: CustomTypeSpec, type_id: str, portal_id: int, created_ms: int) -> ObjectType:
    """ObjectType of a custom object."""
    stamp = ms_to_datetime(created_ms)
    return ObjectType(
        type_id=type_id,
        name=spec.name,
        singular=spec.singular,
        label_singular=spec.label_singular,
        label_plural=spec.label_plural,
        fully_qualified_name=f"p{portal_id}_{spec.name}",
        custom=True,
        primary_display_property=spec.primary,
        created_at=stamp,
        updated_at=stamp,
    )


def custom_registry(
    type_id: str, spec: CustomTypeSpec, seed: int, created_ms: int, archived_props: bool = True
) -> PropertyRegistry:
    """Registry of a custom type: system properties, its own, filler (all dated at the type's creation).

    `archived_props=False` (types created by `advance()`) leaves out the archived definitions.
    """
    catalog = (*custom_system_props(), *spec.props)
    n_archived = 3 if archived_props else 0
    return build_registry(type_id, catalog, custom_target(), seed, created_ms, created_ms, created_ms + DAY_MS,
                          n_archived)  # fmt: skip


def custom_type_id(portal_id: int, k: int) -> str:
    """`2-<n>` id of the k-th custom type of the account."""
    return f"2-{3_500_000 + portal_id % 400_000 + 17 * k}"


def _skewed(rng: np.random.Generator, n_to: int, size: int, power: float = 1.6) -> np.ndarray:
    """Target positions skewed toward older records (a few popular ones, a long tail)."""
    return np.minimum((n_to * rng.random(size) ** power).astype(np.int64), n_to - 1)


def _pick_one(rng: np.random.Generator, n_from: int, n_to: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Each `from` record links, with probability p, to one `to` record."""
    src = np.flatnonzero(rng.random(n_from) < p)
    return src, _skewed(rng, n_to, len(src))


# For pair (a, b): which side picks, and with what probability it links to one record of the other.
_ENGAGEMENT_P = {"0-1": 0.9, "0-2": 0.4, "0-3": 0.25, "0-5": 0.15}
_PICKS: dict[tuple[str, str], tuple[str, float]] = {
    ("0-1", "0-5"): ("b", 0.95),
    ("0-2", "0-3"): ("b", 0.9),
    ("0-2", "0-5"): ("b", 0.5),
    ("0-3", "0-5"): ("b", 0.1),
    ("0-3", "0-8"): ("b", 1.0),
}


def base_edges(
    pair: PairDef, n_a: int, n_b: int, seed: int, pick: tuple[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day-0 edges of a pair as (a_idx, b_idx, bits); labels on ~5% of edges."""
    rng = np_rng("edges", seed, pair.a, pair.b)
    empty = np.zeros(0, dtype=np.int64)
    if n_a == 0 or n_b == 0:
        return empty, empty, empty.astype(np.uint8)
    key = (pair.a, pair.b)
    primary_bits = UNLABELED | (PRIMARY if pair.forward[1] is not None else 0)
    if key == ("0-1", "0-2"):
        c1, co1 = _pick_one(rng, n_a, n_b, 0.85)
        c2, co2 = _pick_one(rng, n_a, n_b, 0.15)
        hub = np.arange(0, min(n_a, HUB_CONTACTS), 3)
        a = np.concatenate([c1, c2, hub])
        b = np.concatenate([co1, co2, np.zeros(len(hub), dtype=np.int64)])
        bits = np.concatenate([np.full(len(c1), primary_bits), np.full(len(c2) + len(hub), UNLABELED)])
    elif key == ("0-1", "0-3"):
        deals = np.repeat(np.arange(n_b), 1 + (rng.random(n_b) < 0.4) + (rng.random(n_b) < 0.15))
        a, b = _skewed(rng, n_a, len(deals)), deals
        bits = np.full(len(a), UNLABELED)
    elif pair.same_type:
        src, dst = _pick_one(rng, n_a, n_a, 0.03)
        keep = src != dst
        a, b = src[keep], dst[keep]
        special = rng.random(len(a)) < 0.6
        bits = np.where(special, primary_bits, UNLABELED)
    else:
        side, p = pick or _PICKS.get(key) or ("b", _ENGAGEMENT_P.get(pair.a, 0.5))
        if side == "b":
            b, a = _pick_one(rng, n_b, n_a, p)
        else:
            a, b = _pick_one(rng, n_a, n_b, p)
        bits = np.full(len(a), primary_bits)
    bits = bits.astype(np.uint8)
    label_bits = pair.label_bits()
    if label_bits:
        labelled = rng.random(len(bits)) < 0.05
        chosen = np.array(label_bits, dtype=np.uint8)[rng.integers(0, len(label_bits), size=len(bits))]
        bits = np.where(labelled, bits | chosen, bits).astype(np.uint8)
    return a, b, bits


def standard_pair_defs(alloc: LabelAllocator) -> list[PairDef]:
    """PairDefs of every standard pair, labels allocated in a fixed order."""
    return [
        build_pair(a, b, (fwd, inv), primary, STANDARD_LABELS.get((a, b), ()), alloc)
        for a, b, fwd, inv, primary in STANDARD_PAIRS
    ]


def custom_pair_def(a: str, b: str, alloc: LabelAllocator) -> PairDef:
    """Custom pairs: account-allocated USER_DEFINED unlabeled types and one label."""
    fwd, inv = alloc.take(), alloc.take()
    return build_pair(a, b, (fwd, inv), None, (("Main", "Main"),), alloc, unlabeled_category="USER_DEFINED")


def empty_edges(pair: PairDef) -> EdgeTable:
    """An edge table with no edges."""
    z = np.zeros(0, dtype=np.int64)
    return EdgeTable(pair, z, z, z.astype(np.uint8))


def type_key(seed: int, type_id: str) -> int:
    """Seed key of a type's records."""
    return stable_hash("type", seed, type_id)
