"""The sandbox's fast paths agree with the plain ones they stand in for.

Each shortcut taken for speed (page-wise fill draws, value-only generation, draw-count skipping,
the record cache, batched association and membership lookups) is checked here against a slower
oracle, record by record; `test_sandbox_golden.py` checks the bytes on the wire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pytest

from hubspot_sandbox.model import Account
from hubspot_sandbox.model.fill import candidates
from hubspot_sandbox.model.lru import LRU
from hubspot_sandbox.model.rng import Rng, combine

START = dt.date(2026, 1, 1)
TYPES = ("0-1", "0-2", "0-3", "0-5", "0-46")


@pytest.fixture(scope="module")
def advanced() -> Account:
    """A small account two days in: overlays, archives, merges and a schema change exist."""
    account = Account(4, "small", START)
    account.advance(3, bulk_update=30)
    return account


def sample_idxs(account: Account, type_id: str, count: int = 120) -> list[int]:
    """Evenly spread record positions, the records changed by advance() among them."""
    table = account.tables[type_id]
    spread = np.linspace(0, len(table) - 1, count).astype(int).tolist()
    return sorted({*spread, *list(table.overlay)[:40]})


def test_page_values_equal_the_newest_entry_of_each_full_history(advanced: Account) -> None:
    gen = advanced.generator
    checked = 0
    for type_id in TYPES:
        table = advanced.tables[type_id]
        names = list(table.registry.live)
        ids = [int(table.ids[i]) for i in sample_idxs(advanced, type_id)]
        for view in advanced.records(type_id, ids, names):
            assert view is not None
            ctx = gen.ctx(table, table.index_of(view.id))  # type: ignore[arg-type]
            for name in names:
                history = gen.history(gen.ctx(table, ctx.idx), table.registry.live[name])  # fresh: no memo
                assert view.properties[name] == (history[0][0] if history else None), (type_id, view.id, name)
                checked += 1
    assert checked > 50_000


def test_values_read_with_history_equal_values_read_alone(advanced: Account) -> None:
    for type_id in TYPES:
        table = advanced.tables[type_id]
        names = list(table.registry.live)
        ids = [int(table.ids[i]) for i in sample_idxs(advanced, type_id, 40)]
        fresh = Account(4, "small", START)
        fresh.advance(3, bulk_update=30)
        alone = fresh.records(type_id, ids, names)
        both = advanced.records(type_id, ids, names, names[::2])
        assert [v.properties for v in both] == [v.properties for v in alone]  # type: ignore[union-attr]
        assert all(len(v.entries) == len(names[::2]) for v in both)  # type: ignore[union-attr]


def test_page_fill_draw_matches_the_scalar_fill_draw(advanced: Account) -> None:
    gen = advanced.generator
    for type_id in TYPES:
        table = advanced.tables[type_id]
        specs = list(table.registry.live.values())
        idxs = sample_idxs(advanced, type_id)
        for idx, row in zip(idxs, candidates(table, idxs, specs), strict=True):
            ctx = gen.ctx(table, idx)
            for spec, may_hold in zip(specs, row, strict=True):
                if spec.drawn:
                    scalar = gen._fill(ctx, spec, Rng(combine(ctx.seed, spec.key)))
                    assert may_hold == (scalar is not None), (type_id, idx, spec.name)
                else:
                    assert may_hold, "kinds that draw nothing are always generated"


def test_each_declared_draw_count_is_what_the_draw_consumes(advanced: Account) -> None:
    gen = advanced.generator
    table = advanced.tables["0-1"]
    ctx = gen.ctx(table, 5)
    declared = {kind: count for kind, (_, count) in gen._scalars.items() if count is not None}
    assert {"email", "phone", "domain", "money", "owner", "datetime"} <= set(declared)
    for kind, count in declared.items():
        for seed in range(300):
            drawn = Rng(seed * 7919)
            gen._scalar(ctx, kind, drawn)
            skipped = Rng(seed * 7919)
            skipped.skip(count)
            assert drawn.next64() == skipped.next64(), kind


def test_record_cache_stays_within_its_budget_and_advance_clears_it() -> None:
    account = Account(5, "small", START)
    account.record_cache.budget = 20_000
    every = list(account.registry("0-1").live)
    ids = account.record_ids("0-1", archived=False, after=None, limit=300)
    first = account.records("0-1", ids[:100], every, every)
    for start in range(0, 300, 100):
        account.records("0-1", ids[start : start + 100], every, every)
        assert 0 < account.record_cache.weight <= 20_000
    assert 0 < len(account.record_cache) < 300, "full-history records weigh hundreds of items each"
    again = account.records("0-1", ids[:100], every, every)  # partly from the cache, partly drawn anew
    assert again == first
    account.advance(1)
    assert len(account.record_cache) == 0 and account.record_cache.weight == 0


def test_lru_evicts_least_recently_used_by_weight() -> None:
    lru: LRU[str, int] = LRU(10)
    for key in "abc":
        lru.get_or_make(key, lambda key=key: ord(key))
        lru.weigh(key, 3)
    assert lru.get_or_make("a", lambda: -1) == ord("a")  # a is now the most recent
    lru.get_or_make("d", lambda: 100)
    lru.weigh("d", 5)  # 3 + 3 + 3 + 5 > 10: b goes (least recent), still 11 > 10: c goes
    assert len(lru) == 2 and lru.weight == 8
    assert lru.get_or_make("a", lambda: -1) == ord("a")
    assert lru.get_or_make("b", lambda: -2) == -2, "b was evicted and is made anew"


def _associations_by_scan(account: Account, from_type: str, from_id: int, to_type: str) -> list[tuple]:
    """The oracle: every edge of the pair looked at one by one."""
    edges = account.edges.get((from_type, to_type))
    src, dst = account.tables[from_type], account.tables[to_type]
    idx = src.index_of(from_id)
    if edges is None or idx is None:
        return []
    from_b = edges.pair.a != from_type
    found = []
    for a, b, bits in zip(edges.a.tolist(), edges.b.tolist(), edges.bits.tolist(), strict=True):
        if (not from_b or edges.pair.same_type) and a == idx:
            found.append((int(dst.ids[b]), edges.pair.types_for(bits, False)))
        if (from_b or edges.pair.same_type) and b == idx:
            found.append((int(dst.ids[a]), edges.pair.types_for(bits, True)))
    return sorted(found, key=lambda pair: pair[0])


@pytest.mark.parametrize(
    ("from_type", "to_type"), [("0-1", "0-2"), ("0-2", "0-1"), ("0-1", "0-1"), ("0-2", "0-2"), ("0-3", "0-8")]
)
def test_batched_association_lookups_equal_a_scan_of_every_edge(
    advanced: Account, from_type: str, to_type: str
) -> None:
    table, edges = advanced.tables[from_type], advanced.edges[(from_type, to_type)]
    # records with edges (same-type pairs are sparse): from the side `from_type` is on
    linked = {*(edges.a if edges.pair.a == from_type else edges.b)[:30].tolist()}
    if edges.pair.same_type:
        linked |= {*edges.b[:30].tolist()}
    ids = [int(table.ids[i]) for i in sorted({*sample_idxs(advanced, from_type, 60), *linked})] + [1, 10**30]
    batched = advanced.associations_of(from_type, ids, to_type)
    assert batched == [_associations_by_scan(advanced, from_type, i, to_type) for i in ids]
    assert sum(map(len, batched)) > 20
    assert batched[-2:] == [[], []], "unknown and out-of-range ids have no associations"


def _pages(account: Account, list_id: int, limit: int, join_order: bool) -> Iterator[tuple[int, str]]:
    offset = 0
    while True:
        total, rows = account.list_members_page(list_id, offset, limit, join_order)
        yield from rows
        offset += limit
        if offset >= total:
            return


@pytest.mark.parametrize("limit", [1, 7, 250])
def test_membership_pages_walk_every_member_in_both_orders(advanced: Account, limit: int) -> None:
    for state in advanced.lists_:
        members = advanced.list_memberships(state.list_id)
        assert list(_pages(advanced, state.list_id, limit, join_order=False)) == members
        joined = sorted(members, key=lambda m: (m[1], m[0]))
        assert list(_pages(advanced, state.list_id, limit, join_order=True)) == joined
    assert max(len(s.members) for s in advanced.lists_) > 250


def test_ids_beyond_int64_and_unknown_ids_read_as_missing(advanced: Account) -> None:
    first = advanced.record_ids("0-1", archived=False, after=None, limit=1)[0]
    views = advanced.records("0-1", [10**30, 1, first, first], ["email"])
    assert views[0] is None and views[1] is None
    assert views[2] == views[3] and views[2] is not None and views[2].id == first
