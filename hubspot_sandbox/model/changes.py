"""One day of changes: creates, updates, archives, merges, association and list churn, events, schema drift.

The day's plan is drawn from (seed, day index) alone, then applied in timestamp order, all
within [00:00, 24:00) of the account's current date. Only changed records enter the overlay.

Invariants the changes keep (and tests check):
- an update, archive, merge or event bumps `updatedAt` and the last-modified property to its time;
- association adds/removals and calculated-property changes leave `updatedAt` alone
  (calculated ones still add a history entry, newer than `updatedAt`);
- a merge archives the merged record and appends its id to the survivor's `hs_merged_object_ids`;
- `bulk_update=N` gives N contacts one property change at one instant between 13:00 and 14:00;
  the N are contacts with no other write that day, so all N end the day sharing `lastmodifieddate`;
- list churn: a manual list gains and loses random members; an active (DYNAMIC) list changes only
  with its records, a record joining or leaving it a moment after one of its updates (drawn from a
  stream of the list's own); a snapshot list never changes (deleted records leave every list);
- schema drift on every third day (day index % 3 == 2): alternately a new property and a new
  custom object type with records;
- the object library's types and pairs are planned last, each from a stream of its own: the other
  types' changes are what they were before the library existed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import build
from .associations import PRIMARY, UNLABELED, EdgeTable
from .catalog import LATER_CUSTOM_TYPES, Prop
from .journal import Change
from .library import LIBRARY_PAIRS, create_links
from .lists import ListState
from .properties import make_spec
from .records import TypeTable
from .rng import Rng, combine, np_rng, stable_hash
from .timefmt import DAY_MS, iso_ms
from .types import LIBRARY_TYPE_IDS, LIBRARY_TYPES, SCALES, Entry, Source

if TYPE_CHECKING:
    from .account import Account

MAIN_TYPES = frozenset({"0-1", "0-2", "0-3", "0-5", "0-46"})  # at least one create/archive per day
MERGE_TYPES = ("0-1", "0-2")
# What a record created by advance() links to: (other type, probability), first one primary when the pair has one.
CREATE_LINKS: dict[str, tuple[tuple[str, float], ...]] = {
    "0-1": (("0-2", 0.85),),
    "0-3": (("0-1", 1.0), ("0-2", 0.9)),
    "0-5": (("0-1", 0.95), ("0-2", 0.5)),
    "0-8": (("0-3", 1.0),),
    "0-27": (("0-1", 0.9),), "0-46": (("0-1", 0.9),), "0-47": (("0-1", 0.9),),
    "0-48": (("0-1", 0.9),), "0-49": (("0-1", 0.9),),
}  # fmt: skip
NEW_PROP_KINDS = ("text", "enum", "int", "date")
BULK_PROPERTY = "hs_lead_status"


def _is_main(table: TypeTable) -> bool:
    """Whether a type sees at least one create (and, from 50 records, one archive) every day."""
    return table.type_id in MAIN_TYPES or table.otype.custom or table.type_id in LIBRARY_TYPE_IDS


@dataclass(slots=True)
class Op:
    """One change at a time; ops apply in (ts, seq) order."""

    ts: int
    seq: int
    kind: str
    type_id: str = ""
    idx: int = -1
    other: int = -1  # merge victim / list id
    extra: str = ""  # event type


class Day:
    """Plans and applies one day of changes to an account."""

    def __init__(self, acct: Account, bulk_update: int) -> None:
        self.acct = acct
        self.day = acct.days_advanced
        self.start = acct.now_ms
        self.end = self.start + DAY_MS
        self.key = stable_hash("day", acct.seed, self.day)
        self.rng = np_rng("day", acct.seed, self.day)
        self.bulk_update = bulk_update
        self.ops: list[Op] = []
        self.edge_logs: dict[tuple[str, str], list[tuple[int, int, int | None]]] = {}
        self.journal: list[Change] = []  # what the day did, for the account's journal
        self._written: dict[str, str] = {}  # the properties the op being applied wrote, and their values
        self.victims: dict[str, set[int]] = {}
        self.live: dict[str, np.ndarray] = {}

    # --- planning ----------------------------------------------------------------------------

    def _when(self, k: int) -> np.ndarray:
        """k times within the day."""
        return self.start + self.rng.integers(0, DAY_MS, size=k)

    def _add(
        self, ts: int, kind: str, type_id: str = "", idx: int = -1, other: int = -1, extra: str = ""
    ) -> None:
        self.ops.append(Op(int(ts), len(self.ops), kind, type_id, int(idx), int(other), extra))

    def plan(self) -> None:
        """Draw the whole day; schema changes and creates are applied at once (nothing else targets them)."""
        acct = self.acct
        self.live = {t: tb.live_indices() for t, tb in acct.tables.items()}
        for type_id, live in self.live.items():
            if type_id not in LIBRARY_TYPE_IDS:
                self._plan_type(acct.tables[type_id], live)
        if self.day % 3 == 2:
            self._schema_change()
        for type_id, live in list(self.live.items()):
            if type_id not in LIBRARY_TYPE_IDS:
                self._create(acct.tables[type_id], len(live))
        self._plan_events()
        self._plan_associations()
        self._plan_lists()
        self._plan_bulk()
        self._plan_library()

    @contextmanager
    def _stream(self, *key: str) -> Iterator[None]:
        """Draw from the day's stream of `key` instead of the shared one (which then draws as before)."""
        shared, self.rng = self.rng, np_rng("day", self.acct.seed, self.day, *key)
        try:
            yield
        finally:
            self.rng = shared

    def _plan_library(self) -> None:
        """The object library's day, each type and pair from a stream of its own, planned after
        everything else: their ops come last, so the other types' draws and op numbers are as before."""
        tables = [self.acct.tables[st.type_id] for st in LIBRARY_TYPES]
        for table in tables:
            with self._stream(table.type_id):
                self._plan_type(table, self.live[table.type_id])
        for table in tables:
            with self._stream("create", table.type_id):
                self._create(table, len(self.live[table.type_id]))
        for a_type, b_type, *_ in LIBRARY_PAIRS:
            with self._stream(a_type, b_type):
                self._plan_pair(self.acct.edges[(a_type, b_type)])

    def _count(self, n: int, rate: float, minimum: int) -> int:
        return 0 if n == 0 else min(n, max(minimum, round(n * rate)))

    def _plan_type(self, table: TypeTable, live: np.ndarray) -> None:
        pool = live[live != 0]  # position 0 stays (company 0 is the >500-association hub)
        n = len(pool)
        main = _is_main(table)
        # at least one archive/merge a day, but never eating a small type (tiny has 20 companies)
        floor = 1 if main and n >= 50 else 0
        n_arch = self._count(n, 0.001, floor)
        n_merge = self._count(n, 0.0005, floor) if table.type_id in MERGE_TYPES else 0
        n_upd = self._count(n, 0.01, 2 if main else 1)
        n_calc = self._count(n, 0.003, 1) if table.registry.calculated() else 0
        total = min(n, n_arch + 2 * n_merge + n_upd + n_calc)
        picked = self.rng.choice(pool, size=total, replace=False) if total else pool[:0]
        cuts = np.cumsum([n_arch, n_merge, n_merge, n_upd])
        archive, victims, survivors, updates, calcs = np.split(picked, cuts)
        self.victims[table.type_id] = set(archive.tolist()) | set(victims.tolist())
        tid = table.type_id
        for idx, ts in zip(archive, self._when(len(archive)), strict=True):
            self._add(ts, "archive", tid, idx)
        pairs = min(len(survivors), len(victims))  # a short pool can cut the survivor segment
        for surv, vic, ts in zip(survivors[:pairs], victims[:pairs], self._when(pairs), strict=True):
            self._add(ts, "merge", tid, surv, vic)
        for idx, ts in zip(updates, self._when(len(updates)), strict=True):
            self._add(ts, "update", tid, idx)
        for idx, ts in zip(calcs, self._when(len(calcs)), strict=True):
            self._add(ts, "calc", tid, idx)

    def _alive(self, type_id: str) -> np.ndarray:
        """Day-start live positions minus today's archive/merge victims (cached for the day)."""
        live = self.live.get(type_id)
        if live is None:  # a custom type created today: all of its records
            live = self.live[type_id] = self.acct.tables[type_id].live_indices()
        dead = self.victims.pop(type_id, None)
        if dead:
            live = self.live[type_id] = live[~np.isin(live, np.fromiter(dead, dtype=np.int64))]
        return live

    def _create(self, table: TypeTable, n_live: int) -> None:
        k = self._count(n_live, 0.003, 1 if _is_main(table) else 0)
        if k == 0:
            return
        created = np.sort(self._when(k))
        first = table.append(table.next_ids(k, self.rng.integers(1, 4, size=k)), created)
        for j in range(k):
            self._note(Change(int(created[j]), "CREATE", table.type_id, int(table.ids[first + j])))
            self._link_new(table, first + j)

    def _link_new(self, table: TypeTable, idx: int) -> None:
        acct = self.acct
        links = CREATE_LINKS.get(table.type_id) or create_links(table.type_id)
        if not links and table.otype.custom:
            links = tuple((b, 0.8) for a, b in acct.edges if a == table.type_id)
        r = Rng(combine(self.key, stable_hash("link", table.type_id, idx)))
        for other_type, p in links or ():
            edges = acct.edges.get((table.type_id, other_type))
            alive = self._alive(other_type)
            if edges is None or not len(alive) or not r.chance(p):
                continue
            target = int(alive[r.below(len(alive))])
            primary = edges.pair.forward[1] is not None and not edges.pair.same_type
            bits = UNLABELED | (PRIMARY if primary else 0)
            self._log_edge(edges, table.type_id, idx, target, bits, int(table.created[idx]))

    def _log_edge(
        self, edges: EdgeTable, from_type: str, from_idx: int, to_idx: int, bits: int | None, ts: int
    ) -> None:
        a, b = (from_idx, to_idx) if edges.pair.a == from_type else (to_idx, from_idx)
        self.edge_logs.setdefault((edges.pair.a, edges.pair.b), []).append((a, b, bits))
        self._note_edge(edges, a, b, bits, ts)

    def _note(self, change: Change) -> None:
        self.journal.append(change)

    def _note_write(self, ts: int, action: str, table: TypeTable, idx: int, **detail: object) -> None:
        """A change that wrote properties (those `_entry` saw since the last one)."""
        written, self._written = tuple(sorted(self._written.items())), {}
        self._note(Change(ts, action, table.type_id, int(table.ids[idx]), properties=written, **detail))  # type: ignore[arg-type]

    def _note_edge(self, edges: EdgeTable, a: int, b: int, bits: int | None, ts: int) -> None:
        """An association added (`bits`: its types) or removed (None), seen from each side."""
        pair, tables = edges.pair, self.acct.tables
        ends = ((pair.a, a, pair.b, b, False), (pair.b, b, pair.a, a, True))
        for from_type, i, to_type, j, reverse in ends[:1] if pair.same_type and a == b else ends:
            action = "ASSOCIATION_REMOVED" if bits is None else "ASSOCIATION_ADDED"
            types = () if bits is None else tuple(t["typeId"] for t in pair.types_for(bits, reverse))
            self._note(Change(ts, action, from_type, int(tables[from_type].ids[i]), to_type_id=to_type,
                              to_object_id=int(tables[to_type].ids[j]), association_type_ids=types))  # fmt: skip

    def _plan_events(self) -> None:
        catalog = self.acct.event_catalog
        for type_id, rate, minimum in (("0-1", 0.005, 2), ("0-2", 0.001, 1)):
            pool = self._alive(type_id)
            k = self._count(len(pool), rate, minimum)
            r = Rng(combine(self.key, stable_hash("events", type_id)))
            for idx in self.rng.choice(pool, size=k, replace=False) if k else ():
                for ts in self._when(r.between(1, 3)):
                    self._add(ts, "event", type_id, idx, extra=catalog.draw_kind(type_id, r))

    def _plan_associations(self) -> None:
        for (a_type, b_type), edges in list(self.acct.edges.items()):
            pair = edges.pair
            if (a_type, b_type) != (pair.a, pair.b) or pair.a in LIBRARY_TYPE_IDS:
                continue  # each pair once; the library's are planned by `_plan_library`
            self._plan_pair(edges)

    def _plan_pair(self, edges: EdgeTable) -> None:
        """A pair's association adds (some labelled) and removals of the day."""
        pair = edges.pair
        key = f"{pair.a}|{pair.b}"
        a_live, b_live = self._alive(pair.a), self._alive(pair.b)
        if len(a_live) and len(b_live):
            n_add = self._count(max(len(edges), 1), 0.002, 1)
            n_rem = self._count(len(edges), 0.001, 1)
            labels = pair.label_bits()
            for ts in self._when(n_add):
                a = int(a_live[self.rng.integers(len(a_live))])
                b = int(b_live[self.rng.integers(len(b_live))])
                if pair.same_type and a == b:
                    continue
                label = (
                    int(labels[self.rng.integers(len(labels))]) if labels and self.rng.random() < 0.3 else 0
                )
                self._add(ts, "assoc", key, a, b, extra=str(UNLABELED | label))
            for row, ts in zip(self.rng.choice(len(edges), size=n_rem, replace=False) if n_rem else (),
                               self._when(n_rem), strict=True):  # fmt: skip
                self._add(ts, "assoc", key, int(edges.a[row]), int(edges.b[row]))  # no bits: a removal

    def _plan_lists(self) -> None:
        updated: dict[str, list[Op]] = {}
        for op in self.ops:
            if op.kind == "update":
                updated.setdefault(op.type_id, []).append(op)
        for lst in self.acct.lists_:
            if lst.processing_type == "SNAPSHOT":
                continue  # snapshot lists never change after they are built
            if lst.processing_type == "DYNAMIC":
                with self._stream("dynamic list", str(lst.list_id)):
                    self._plan_dynamic(lst, updated.get(lst.object_type_id, []))
                continue
            pool = self._alive(lst.object_type_id)
            n_add = self._count(max(len(lst.members), 1), 0.01, 1) if len(pool) else 0
            n_rem = self._count(len(lst.members), 0.005, 1)
            for ts in self._when(n_add):
                self._add(
                    ts, "list_add", lst.object_type_id, int(pool[self.rng.integers(len(pool))]), lst.list_id
                )
            for row, ts in zip(self.rng.choice(len(lst.members), size=n_rem, replace=False) if n_rem else (),
                               self._when(n_rem), strict=True):  # fmt: skip
                self._add(ts, "list_remove", lst.object_type_id, int(lst.members[row]), lst.list_id)

    def _plan_dynamic(self, lst: ListState, updates: list[Op]) -> None:
        """An active list follows its filters: a record joins or leaves it only when one of its
        properties changes, a moment after that change (each update re-evaluates the list)."""
        if not updates:
            return
        member = np.isin(np.array([op.idx for op in updates], dtype=np.int64), lst.members)
        ins = [op for op, m in zip(updates, member.tolist(), strict=True) if m]
        outs = [op for op, m in zip(updates, member.tolist(), strict=True) if not m]
        n_add = min(len(outs), self._count(max(len(lst.members), 1), 0.01, 1))
        n_rem = min(len(ins), self._count(len(lst.members), 0.005, 1))
        for kind, ops, k in (("list_add", outs, n_add), ("list_remove", ins, n_rem)):
            for j in self.rng.choice(len(ops), size=k, replace=False) if k else ():
                op = ops[int(j)]
                at = min(op.ts + 1 + int(self.rng.integers(0, 60_000)), self.end - 1)
                self._add(at, kind, lst.object_type_id, op.idx, lst.list_id)

    def _plan_bulk(self) -> None:
        pool = self._alive("0-1")
        writes = {"update", "merge", "event"}
        busy = [op.idx for op in self.ops if op.type_id == "0-1" and op.kind in writes]
        if busy:
            pool = pool[~np.isin(pool, np.array(busy, dtype=np.int64))]
        k = min(self.bulk_update, len(pool))
        if k <= 0:
            return
        ts = self.start + 13 * 3_600_000 + self.key % 3_600_000  # one instant between 13:00 and 14:00
        for idx in np.sort(self.rng.choice(pool, size=k, replace=False)):
            self._add(ts, "bulk", "0-1", idx)

    def _schema_change(self) -> None:
        acct = self.acct
        ts0 = self.start + 3_600_000 + self.key % 3_600_000
        k = self.day // 3
        if k % 2 == 0:
            type_id = ("0-1", "0-2", "0-3", "0-5")[(k // 2) % 4]
            reg = acct.tables[type_id].registry
            kind = NEW_PROP_KINDS[(k // 2) % len(NEW_PROP_KINDS)]
            options = ("alpha", "beta", "gamma") if kind == "enum" else ()
            prop = Prop(f"sandbox_added_day_{self.day}", f"Added on day {self.day}", kind, 0.5, "", options,
                        hubspot_defined=False)  # fmt: skip
            reg.add(make_spec(type_id, prop, len(reg.live) + len(reg.archived), ts0))
            return
        n_custom = len(acct.custom_specs)
        later = n_custom - 2  # the two day-0 custom types come first
        if later >= len(LATER_CUSTOM_TYPES):
            return
        spec = LATER_CUSTOM_TYPES[later]
        type_id = build.custom_type_id(acct.portal_id, n_custom)
        n = max(3, SCALES[acct.scale]["custom"] // 20)
        created = np.sort(ts0 + 1 + self.rng.integers(0, self.end - ts0 - 1, size=n))
        ids = 70_000_001 + 10_000_000 * n_custom + np.cumsum(self.rng.integers(1, 4, size=n))
        acct._add_custom(spec, type_id, ts0, ids, created, created.copy(), archived_props=False)
        self.live[type_id] = np.zeros(0, dtype=np.int64)  # nothing else happens to it today
        for other in spec.associated_with:
            acct._add_custom_pair(other, type_id)

    # --- applying ----------------------------------------------------------------------------

    def apply(self) -> None:
        """Apply the planned ops in time order, then commit edges and list memberships."""
        for op in sorted(self.ops, key=lambda o: (o.ts, o.seq)):
            getattr(self, f"_do_{op.kind}")(op)
        acct = self.acct
        for (a_type, b_type), edges in acct.edges.items():
            if (a_type, b_type) != (edges.pair.a, edges.pair.b):
                continue
            dead_a, dead_b = acct.tables[a_type].archived != 0, acct.tables[b_type].archived != 0
            edges.apply(self.edge_logs.get((a_type, b_type), []), dead_a, dead_b)
        for lst in acct.lists_:
            table = acct.tables[lst.object_type_id]
            for idx, ts, added in lst.commit(table.archived != 0, self.end - 1):
                action = "ADDED_TO_LIST" if added else "REMOVED_FROM_LIST"
                self._note(Change(ts, action, lst.object_type_id, int(table.ids[idx]), list_id=lst.list_id))
        for table in acct.tables.values():
            table.version += 1
        acct.journal.extend(self.journal)

    def _rng(self, op: Op) -> Rng:
        return Rng(combine(self.key, op.seq))

    def _entry(self, table: TypeTable, idx: int, name: str, value: str, ts: int, source: Source) -> None:
        ov = table.overlay_for(idx)
        entry: Entry = (value, ts, source)
        ov.props[name] = [entry, *ov.props.get(name, ())][: table.history_cap]
        self._written[name] = value

    def _touch(self, table: TypeTable, idx: int, ts: int, source: Source) -> None:
        """A write to the record: bump updatedAt and the last-modified property."""
        self._entry(table, idx, table.registry.lastmodified, iso_ms(ts), ts, source)
        table.updated[idx] = ts

    def _do_update(self, op: Op) -> None:
        acct, r = self.acct, self._rng(op)
        table = acct.tables[op.type_id]
        gen = acct.generator
        ctx = gen.ctx(table, op.idx)
        source = r.choice(gen.sources.update)
        choices = table.registry.updatable(op.ts)
        for spec in r.sample(choices, r.between(1, min(3, len(choices)))):
            value = gen.draw_value(ctx, spec, r, gen.value(ctx, spec))
            self._entry(table, op.idx, spec.name, value, op.ts, source)
        self._touch(table, op.idx, op.ts, source)
        self._note_write(op.ts, "UPDATE", table, op.idx)

    def _do_calc(self, op: Op) -> None:
        acct, r = self.acct, self._rng(op)
        table = acct.tables[op.type_id]
        gen = acct.generator
        ctx = gen.ctx(table, op.idx)
        spec = r.choice(table.registry.calculated())
        value = gen.draw_value(ctx, spec, r, gen.value(ctx, spec))
        self._entry(table, op.idx, spec.name, value, op.ts, gen.sources.calculated)  # no touch: silent change
        self._written.clear()  # and no journal entry

    def _do_archive(self, op: Op) -> None:
        table = self.acct.tables[op.type_id]
        source = self._rng(op).choice(self.acct.generator.sources.crm)
        self._touch(table, op.idx, op.ts, source)
        table.archived[op.idx] = op.ts
        self._written.clear()
        self._note(Change(op.ts, "DELETE", op.type_id, int(table.ids[op.idx])))

    def _do_merge(self, op: Op) -> None:
        acct = self.acct
        table = acct.tables[op.type_id]
        survivor, victim = op.idx, op.other
        source = self._rng(op).choice(acct.generator.sources.crm)
        gen = acct.generator
        spec = table.registry.live["hs_merged_object_ids"]
        current = gen.value(gen.ctx(table, survivor), spec)
        victim_id = str(int(table.ids[victim]))
        self._entry(
            table, survivor, spec.name, f"{current};{victim_id}" if current else victim_id, op.ts, source
        )
        self._touch(table, survivor, op.ts, source)
        self._touch(table, victim, op.ts, source)
        table.archived[victim] = op.ts
        table.merged[victim] = survivor
        self._note_write(op.ts, "MERGE", table, survivor, merged_ids=(int(table.ids[victim]),))
        # the survivor inherits the merged record's associations (unlabeled; its primaries stay its own)
        for (a, _b), edges in acct.edges.items():
            if a != op.type_id:
                continue
            other, bits, _ = edges.neighbors(victim, from_b=edges.pair.a != a)
            for o, bt in zip(other.tolist(), bits.tolist(), strict=True):
                if not (edges.pair.same_type and o == survivor):
                    self._log_edge(edges, a, survivor, o, (bt & ~PRIMARY) | UNLABELED, op.ts)

    def _do_event(self, op: Op) -> None:
        acct = self.acct
        table = acct.tables[op.type_id]
        ov = table.overlay_for(op.idx)
        ov.events.append((op.ts, op.extra, 1_000_000 + len(ov.events)))
        source = acct.generator.sources.analytics
        for spec in table.registry.activity(op.extra):
            self._entry(table, op.idx, spec.name, iso_ms(op.ts), op.ts, source)
        self._touch(table, op.idx, op.ts, source)
        self._note_write(op.ts, "UPDATE", table, op.idx)

    def _do_assoc(self, op: Op) -> None:
        a_type, b_type = op.type_id.split("|")
        bits = int(op.extra) if op.extra else None
        self.edge_logs.setdefault((a_type, b_type), []).append((op.idx, op.other, bits))
        self._note_edge(self.acct.edges[(a_type, b_type)], op.idx, op.other, bits, op.ts)

    def _do_list_add(self, op: Op) -> None:
        self._list(op.other).pending.append((op.idx, op.ts, True))

    def _do_list_remove(self, op: Op) -> None:
        self._list(op.other).pending.append((op.idx, op.ts, False))

    def _list(self, list_id: int):
        return next(x for x in self.acct.lists_ if x.list_id == list_id)

    def _do_bulk(self, op: Op) -> None:
        table = self.acct.tables["0-1"]
        spec = table.registry.live[BULK_PROPERTY]
        value = spec.option_values[self.day % len(spec.options)]
        source: Source = ("IMPORT", f"import:bulk-day-{self.day}", None, None)
        self._entry(table, op.idx, spec.name, value, op.ts, source)
        self._touch(table, op.idx, op.ts, source)
        self._note_write(op.ts, "UPDATE", table, op.idx)


def apply_day(acct: Account, bulk_update: int) -> None:
    """Plan and apply the changes of the account's current day (the clock is moved by the caller)."""
    day = Day(acct, bulk_update)
    day.plan()
    day.apply()
