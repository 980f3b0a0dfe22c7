"""The `Account` facade: the one object the sandbox server talks to."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from . import build
from .associations import EdgeTable, LabelAllocator, PairDef, build_pair
from .catalog import CUSTOM_TYPES, CustomTypeSpec, Prop
from .events import EventCatalog
from .fill import candidates
from .generate import Generator, RecordCtx, Sources
from .journal import Change, Journal
from .library import (
    LIBRARY_CATALOG,
    LIBRARY_PAIRS,
    LIBRARY_TARGET,
    PICKED_BY_OTHER,
    library_pipelines,
    pair_type_ids,
)
from .lists import ListState, build_lists
from .lru import LRU
from .marketing import Marketing
from .owners import Directory, build_pipelines, pipeline_dict
from .properties import (
    PropertyRegistry,
    PropSpec,
    build_registry,
    property_dict,
    standard_catalog,
    standard_target,
)
from .records import TypeTable
from .rng import stable_hash
from .search import Searcher
from .timefmt import DAY_MS, date_to_ms, datetime_to_ms, iso_ms, ms_to_datetime
from .types import LIBRARY_TYPES, SCALES, STANDARD_TYPES, ObjectType, RecordView, StandardType

# Default properties of the list/read endpoints (hubspot-api.md §3.4), before the system ones.
LIST_DEFAULTS: dict[str, tuple[str, ...]] = {
    "0-1": ("firstname", "lastname", "email"),
    "0-2": ("name", "domain"),
    "0-3": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
    "0-5": (
        "content",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_category",
        "hs_ticket_priority",
        "subject",
    ),
}
SEARCH_DEFAULTS: dict[str, tuple[str, ...]] = {
    "0-1": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "0-2": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "0-3": ("dealname", "amount", "closedate", "pipeline", "dealstage", "createdate", "hs_lastmodifieddate",
            "hs_object_id"),
    "0-5": ("content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject",
            "createdate", "hs_lastmodifieddate", "hs_object_id"),
}  # fmt: skip
# Generated values and history entries kept between requests, counted one each (some 70 bytes):
# about 25 MB, i.e. ~800 contacts read with every property's history, or ~7,000 read with 50 values.
RECORD_CACHE_ITEMS = 400_000
VIEW_CHUNK = 256  # records generated per vectorised fill draw when walking a whole type

SEARCHABLE: dict[str, tuple[str, ...]] = {
    "0-1": ("firstname", "lastname", "email", "phone", "hs_additional_emails", "fax", "mobilephone", "company",
            "hs_marketable_until_renewal"),
    "0-2": ("website", "phone", "name", "domain"),
    "0-3": ("dealname", "pipeline", "dealstage", "description", "dealtype"),
    "0-5": ("subject", "content", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_id"),
}  # fmt: skip


class Account:
    """A whole HubSpot account, deterministic from (seed, scale, start_date, wide) and days advanced.

    Values are generated on demand from (seed, type, id); only compact numpy columns and an
    overlay of records changed by `advance()` are held, plus `record_cache`, a bounded LRU of
    what recently read records generated (cleared by `advance()`). Returned dicts and histories
    are shared caches in a few places (property definitions, association types, histories):
    treat everything returned as read-only.
    """

    portal_id: int
    days_advanced: int

    def __init__(self, seed: int, scale: str, start_date: dt.date, wide: bool = False) -> None:
        """Build the account as of 00:00 UTC of `start_date`; scale is tiny|small|medium|large."""
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
        self.seed = seed
        self.scale = scale
        self.wide = wide
        self.start_date = start_date
        self.start_ms = date_to_ms(start_date)
        self.now_ms = self.start_ms
        self.days_advanced = 0
        self.first_ms = self.start_ms - 3 * 365 * DAY_MS  # the oldest record is about three years old
        self.portal_id = 20_000_000 + stable_hash("portal", seed) % 70_000_000
        portal_ms = self.first_ms - 60 * DAY_MS
        self.directory = Directory(seed, scale, self.start_ms, self.first_ms)
        self.pipeline_defs = {**build_pipelines(self.portal_id), **library_pipelines(self.portal_id)}
        self.event_catalog = EventCatalog(self.portal_id, self.first_ms - 30 * DAY_MS)
        self.tables: dict[str, TypeTable] = {}
        self._types_by_ref: dict[str, str] = {}
        counts = SCALES[scale]
        for st in STANDARD_TYPES:
            self._add_standard(
                st, standard_catalog(st.type_id), standard_target(st.type_id, wide), counts, portal_ms
            )
        self.custom_specs: dict[str, CustomTypeSpec] = {}
        for k, spec in enumerate(CUSTOM_TYPES):
            created_ms = self.first_ms - 5 * DAY_MS + k * DAY_MS
            type_id = build.custom_type_id(self.portal_id, k)
            ids, created, updated = build.record_columns(
                seed, type_id, counts["custom"], 70_000_001 + 10_000_000 * k, self.first_ms, self.start_ms
            )
            self._add_custom(spec, type_id, created_ms, ids, created, updated)
        for st in LIBRARY_TYPES:  # after the custom types: their tables, draws and pairs come last
            self._add_standard(st, LIBRARY_CATALOG[st.type_id], LIBRARY_TARGET, counts, portal_ms)
        for table in self.tables.values():
            build.pre_archive(table, seed, self.start_ms)
        self.generator = Generator(
            self.directory,
            self.pipeline_defs,
            self.event_catalog,
            Sources(self.directory.live_user_ids, self.portal_id),
            self.tables["0-7"].ids.copy(),
        )
        self._labels = LabelAllocator(101)
        self.edges: dict[tuple[str, str], EdgeTable] = {}
        for pair in build.standard_pair_defs(self._labels):
            self._add_pair(pair)
        for spec_type_id, spec in self.custom_specs.items():
            for other in spec.associated_with:
                self._add_custom_pair(other, spec_type_id)
        for k, (a, b, p, _, _) in enumerate(LIBRARY_PAIRS):
            side = "b" if (a, b) in PICKED_BY_OTHER else "a"
            self._add_pair(build_pair(a, b, pair_type_ids(k), None, (), self._labels), (side, p))
        self.lists_: list[ListState] = build_lists(
            seed, scale, {t: len(tb) for t, tb in self.tables.items()},
            {t: tb.created for t, tb in self.tables.items()},
            {t: tb.archived == 0 for t, tb in self.tables.items()},
            self.first_ms, self.start_ms,
        )  # fmt: skip
        self.searcher = Searcher(self)
        self._prop_cache: dict[tuple[str, bool, int], list[dict]] = {}
        # (type id, idx) -> the record's context with the values and histories generated for it so far
        self.record_cache: LRU[tuple[str, int], RecordCtx] = LRU(RECORD_CACHE_ITEMS)
        # (type, event type, window, clock, table version) -> that window's occurrences, across records
        self._type_events: LRU[tuple, list[tuple[int, int, int, str, int]]] = LRU(8)
        # Marketing and content assets (emails, pages, forms, ...) and deal splits: streams of their own,
        # built last, so nothing above draws differently (`marketing.py`).
        self.marketing = Marketing(self)
        self.journal = Journal()  # the changes `advance()` and `restore()` make (`journal.py`)

    # --- construction helpers (also used by advance) -----------------------------------------

    def _add_standard(
        self, st: StandardType, catalog: tuple[Prop, ...], target: int, counts: dict[str, int], portal_ms: int
    ) -> None:
        """A standard type's table: its registry and day-0 record columns."""
        stamp = ms_to_datetime(portal_ms)
        otype = ObjectType(st.type_id, st.name, st.singular, st.label_singular, st.label_plural, st.name, False,
                           st.primary_display_property, stamp, stamp)  # fmt: skip
        registry = build_registry(st.type_id, catalog, target, self.seed, portal_ms, self.first_ms - 10 * DAY_MS,
                                  self.first_ms + 200 * DAY_MS)  # fmt: skip
        ids, created, updated = build.record_columns(
            self.seed, st.type_id, counts[st.type_id], st.id_base, self.first_ms, self.start_ms
        )
        self._add_table(TypeTable(otype, registry, st.history_cap, build.type_key(self.seed, st.type_id),
                                  ids, created, updated))  # fmt: skip

    def _add_table(self, table: TypeTable) -> None:
        self.tables[table.type_id] = table
        o = table.otype
        for ref in (o.type_id, o.name, o.singular, o.fully_qualified_name):
            # A custom type named like a standard one (`advance()` creates "projects") answers to its
            # id and fully qualified name only: the name stays the standard type's, as in HubSpot.
            self._types_by_ref.setdefault(ref.lower(), o.type_id)

    def _add_custom(
        self, spec: CustomTypeSpec, type_id: str, created_ms: int, ids: np.ndarray, created: np.ndarray,
        updated: np.ndarray, archived_props: bool = True,
    ) -> TypeTable:  # fmt: skip
        otype = build.custom_object_type(spec, type_id, self.portal_id, created_ms)
        registry = build.custom_registry(type_id, spec, self.seed, created_ms, archived_props)
        table = TypeTable(otype, registry, 20, build.type_key(self.seed, type_id), ids, created, updated)
        self._add_table(table)
        self.custom_specs[type_id] = spec
        return table

    def _add_pair(self, pair: PairDef, pick: tuple[str, float] | None = None) -> None:
        a_tab, b_tab = self.tables[pair.a], self.tables[pair.b]
        a, b, bits = build.base_edges(pair, len(a_tab), len(b_tab), self.seed, pick)
        edges = EdgeTable(pair, a, b, bits)
        edges.apply([], a_tab.archived != 0, b_tab.archived != 0)  # no edges touch tombstones
        self.edges[(pair.a, pair.b)] = edges
        self.edges[(pair.b, pair.a)] = edges

    def _add_custom_pair(self, other: str, custom_type_id: str) -> None:
        if other.startswith("custom:"):
            other = next(t for t, s in self.custom_specs.items() if s.name == other[7:])
        self._add_pair(build.custom_pair_def(other, custom_type_id, self._labels))

    def _table(self, type_ref: str) -> TypeTable:
        otype = self.resolve_type(type_ref)
        if otype is None:
            raise KeyError(f"unknown object type {type_ref!r}")
        return self.tables[otype.type_id]

    # --- clock -----------------------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        """The account's clock (tz-aware UTC): 00:00 of start_date plus the days advanced."""
        return ms_to_datetime(self.now_ms)

    def advance(self, days: int = 1, bulk_update: int = 0) -> None:
        """Apply `days` deterministic days of changes; `bulk_update=N` updates N contacts at one instant.

        Each day's changes are timestamped within that date; the clock then moves to the next midnight.
        `bulk_update` applies to every advanced day.
        """
        from .changes import apply_day  # local: changes imports this module's types

        for _ in range(days):
            self.record_cache.clear()  # a day's changes reach records' histories and events
            apply_day(self, bulk_update)
            self.marketing.advance_day(self, self.days_advanced, self.now_ms)  # after the deals' writes
            self.days_advanced += 1
            self.now_ms += DAY_MS
            self.journal.prune(self.now_ms)
        self.record_cache.clear()

    # --- types and properties ------------------------------------------------------------------

    def object_types(self) -> list[ObjectType]:
        """Standard and custom object types in type-id order."""
        return sorted(
            (t.otype for t in self.tables.values()),
            key=lambda o: tuple(int(p) for p in o.type_id.split("-")),
        )

    def resolve_type(self, ref: str) -> ObjectType | None:
        """A type by plural name, singular name, type id or fully qualified name (case-insensitive).

        A custom type also answers to the short form of its fully qualified name, `p_{name}`
        (HubSpot accepts "2-123", "p123_cars" and "p_cars" alike).
        """
        key = str(ref).lower()
        type_id = self._types_by_ref.get(key)
        if type_id is None and key.startswith("p_"):
            type_id = self._types_by_ref.get(f"p{self.portal_id}_{key[2:]}")
        return None if type_id is None else self.tables[type_id].otype

    def registry(self, type_ref: str) -> PropertyRegistry:
        """The property registry of a type (live and archived `PropSpec`s)."""
        return self._table(type_ref).registry

    def property_definitions(self, type_id: str, archived: bool = False) -> list[dict]:
        """API Property dicts of a type: live ones, or only archived ones with `archived=True`."""
        table = self._table(type_id)
        reg = table.registry
        key = (table.type_id, archived, len(reg.live) + len(reg.archived))
        cached = self._prop_cache.get(key)
        if cached is None:
            specs = reg.archived if archived else list(reg.live.values())
            cached = [property_dict(s, self._dynamic_options(table.type_id, s)) for s in specs]
            self._prop_cache[key] = cached
        return list(cached)

    def _dynamic_options(self, type_id: str, spec: PropSpec) -> tuple[tuple[str, str], ...] | None:
        if spec.kind == "owner":
            return tuple((str(o.id), f"{o.first_name} {o.last_name}") for o in self.directory.owners_)
        if spec.kind == "pipeline":
            return tuple((p.id, p.label) for p in self.pipeline_defs[type_id])
        if spec.kind == "stage":
            return tuple((s.id, s.label) for p in self.pipeline_defs[type_id] for s in p.stages)
        return None

    def default_properties(self, type_id: str, search: bool = False) -> list[str]:
        """Properties returned when a request names none (list/read defaults, or search defaults)."""
        table = self._table(type_id)
        tid = table.type_id
        lastmod = table.registry.lastmodified
        if search and tid in SEARCH_DEFAULTS:
            return list(SEARCH_DEFAULTS[tid])
        head = LIST_DEFAULTS.get(tid, (table.otype.primary_display_property,))
        return [*head, "createdate", "hs_object_id", lastmod]

    def searchable_properties(self, type_id: str) -> list[str]:
        """Properties the free-text `query` of search looks in."""
        table = self._table(type_id)
        if table.type_id in SEARCHABLE:
            return list(SEARCHABLE[table.type_id])
        return [n for n, s in table.registry.live.items() if s.type == "string"][:20]

    def unique_properties(self, type_id: str) -> list[str]:
        """Names of properties with unique values (usable as `idProperty`)."""
        return [n for n, s in self._table(type_id).registry.live.items() if s.unique]

    def schemas(self) -> list[dict]:
        """API ObjectSchema dicts of the custom object types."""
        return [self.schema(t) for t in self.custom_specs]

    def schema(self, type_id: str) -> dict:
        """The API ObjectSchema dict of one custom type (by id, name or fqn)."""
        table = self._table(type_id)
        o = table.otype
        created = iso_ms(datetime_to_ms(o.created_at))
        assoc = []
        for (a, b), edges in self.edges.items():
            if a != o.type_id:
                continue
            reverse = edges.pair.a != a
            default = (edges.pair.inverse if reverse else edges.pair.forward)[0]
            assoc.append(
                {
                    "id": str(default.type_id),
                    "fromObjectTypeId": a,
                    "toObjectTypeId": b,
                    "name": f"{o.singular}_to_{self.tables[b].otype.singular}",
                    "createdAt": created,
                    "updatedAt": created,
                }
            )
        props = self.property_definitions(o.type_id)
        return {
            "id": o.type_id.split("-")[1],
            "name": o.name,
            "labels": {"singular": o.label_singular, "plural": o.label_plural},
            "objectTypeId": o.type_id,
            "fullyQualifiedName": o.fully_qualified_name,
            "primaryDisplayProperty": o.primary_display_property,
            "secondaryDisplayProperties": [p["name"] for p in props if not p["hubspotDefined"]][1:3],
            "requiredProperties": [o.primary_display_property],
            "searchableProperties": self.searchable_properties(o.type_id),
            "properties": props,
            "associations": assoc,
            "description": f"{o.label_plural} tracked by the sandbox account",
            "archived": False,
            "allowsSensitiveProperties": False,
            "createdAt": created,
            "updatedAt": iso_ms(datetime_to_ms(o.updated_at)),
            "createdByUserId": 9_100_000,
            "updatedByUserId": 9_100_000,
        }

    # --- records -------------------------------------------------------------------------------

    def record_ids(self, type_id: str, *, archived: bool, after: int | None, limit: int) -> list[int]:
        """Ascending ids > `after`: live records, or only archived ones with `archived=True`."""
        table = self._table(type_id)
        pos = 0 if after is None else int(np.searchsorted(table.ids, after, side="right"))
        out: list[int] = []
        chunk = max(64, limit * 2)
        n = len(table)
        while pos < n and len(out) < limit:
            window = table.archived[pos : pos + chunk]
            hits = np.flatnonzero((window != 0) == archived)[: limit - len(out)]
            out.extend(int(i) for i in table.ids[pos + hits])
            pos += chunk
            chunk *= 2
        return out

    def record(
        self,
        type_id: str,
        record_id: int,
        properties: Iterable[str] | None,
        with_history: Iterable[str] = (),
    ) -> RecordView | None:
        """One record (live or archived) with the requested properties; None if it never existed.

        `properties=None` means the type's default set (`default_properties`). Unknown or archived
        property names are ignored, as HubSpot does. Cost is proportional to what is asked.
        """
        return self.records(type_id, [record_id], properties, with_history)[0]

    def records(
        self,
        type_id: str,
        record_ids: Iterable[int],
        properties: Iterable[str] | None,
        with_history: Iterable[str] = (),
    ) -> list[RecordView | None]:
        """`record()` of each id, in order (None where no such record ever existed), drawn page-wise."""
        table = self._table(type_id)
        idxs = table.indices_of([int(record_id) for record_id in record_ids])
        views = iter(self._views(table, [i for i in idxs if i is not None], properties, with_history))
        return [None if i is None else next(views) for i in idxs]

    def _views(
        self, table: TypeTable, idxs: list[int], properties: Iterable[str] | None, with_history: Iterable[str]
    ) -> list[RecordView]:
        live = table.registry.live
        names = self.default_properties(table.type_id) if properties is None else properties
        value_names = [n for n in dict.fromkeys(names) if n in live]
        history_names = [n for n in dict.fromkeys(with_history) if n in live]
        # A value also asked with history is the newest entry of that history: only the others are drawn.
        in_history = {name: k for k, name in enumerate(history_names)}
        drawn_names = [n for n in value_names if n not in in_history]
        history_specs = [live[n] for n in history_names]
        drawn_specs = [live[n] for n in drawn_names]
        # The fill draws of the whole page at once.
        page = candidates(table, idxs, [*history_specs, *drawn_specs])
        n_history = len(history_specs)
        gen = self.generator
        out = []
        for idx, row in zip(idxs, page, strict=True):
            key = (table.type_id, idx)
            ctx = self.record_cache.get_or_make(key, lambda idx=idx: gen.ctx(table, idx))
            found = gen.histories(ctx, history_specs, row[:n_history])
            drawn = dict(zip(drawn_names, gen.values(ctx, drawn_specs, row[n_history:]), strict=True))
            values: dict[str, str | None] = {}
            for name in value_names:
                k = in_history.get(name)
                values[name] = drawn[name] if k is None else found[k][0][0] if found[k] else None
            self.record_cache.weigh(key, ctx.memo_size())
            archived_ms = int(table.archived[idx])
            out.append(
                RecordView(
                    id=ctx.id,
                    created_ms=ctx.created,
                    updated_ms=int(table.updated[idx]),
                    archived=archived_ms != 0,
                    archived_ms=archived_ms or None,
                    properties=values,
                    entries=dict(zip(history_names, found, strict=True)),
                )
            )
        return out

    def restore(self, type_ref: str, record_id: int, *, touch: bool = True) -> None:
        """Bring an archived record back from the recycle bin: live again in lists, reads and search.

        `archivedAt` is cleared; with `touch` (the default, as HubSpot is observed to do) `updatedAt`
        and the last-modified property move to `now`, else they keep the archive's time. Associations
        and list memberships dropped at the archive stay dropped. Raises KeyError for an unknown
        record, ValueError for a live record, a merged-away one (HubSpot cannot restore those) or a
        contact whose email a live contact now holds.
        """
        table = self._table(type_ref)
        idx = table.index_of(int(record_id))
        if idx is None:
            raise KeyError(f"no {table.otype.name} record {record_id}")
        if not table.archived[idx]:
            raise ValueError(f"{table.otype.name} record {record_id} is not archived")
        survivor = table.merged.get(idx)
        if survivor is not None:
            raise ValueError(
                f"{table.otype.name} record {record_id} was merged into {int(table.ids[survivor])}; "
                "a merged record cannot be restored"
            )
        if table.type_id == "0-1":
            email = self.generator.value(self.generator.ctx(table, idx), table.registry.live["email"])
            holder = self.searcher.find_unique(table, "email", email) if email else None
            if holder is not None:
                raise ValueError(
                    f"contact {record_id} cannot be restored: live contact {holder} has its email {email}"
                )
        table.archived[idx] = 0
        if touch:
            ms = self.now_ms
            lastmod = table.registry.lastmodified
            ov = table.overlay_for(idx)
            entry = (iso_ms(ms), ms, self.generator.sources.crm[0])
            ov.props[lastmod] = [entry, *ov.props.get(lastmod, ())][: table.history_cap]
            table.updated[idx] = ms
        names = ((table.registry.lastmodified, iso_ms(self.now_ms)),) if touch else ()
        self.journal.extend([Change(self.now_ms, "RESTORE", table.type_id, int(record_id), properties=names)])
        table.version += 1  # search orders and unique indexes key on it
        self.record_cache.clear()  # cached contexts hold the record's old histories

    def find_by_property(self, type_id: str, name: str, value: str) -> int | None:
        """Id of the live record whose `name` equals `value` (for `idProperty` lookups), else None."""
        table = self._table(type_id)
        if name == "hs_object_id":
            try:
                idx = table.index_of(int(value))
            except ValueError:
                return None
            return None if idx is None or table.archived[idx] else int(table.ids[idx])
        return self.searcher.find_unique(table, name, value)

    def all_records(
        self, type_id: str, *, include_archived: bool = True, properties: Iterable[str] | None = None
    ) -> Iterator[RecordView]:
        """Ground truth for tests: every record with every live property (or `properties`) and its history."""
        table = self._table(type_id)
        names = list(table.registry.live) if properties is None else list(properties)
        idxs = [i for i in range(len(table)) if include_archived or not table.archived[i]]
        for start in range(0, len(idxs), VIEW_CHUNK):
            yield from self._views(table, idxs[start : start + VIEW_CHUNK], names, names)

    def search(
        self,
        type_id: str,
        filter_groups: list[dict],
        sorts: list[dict],
        query: str | None,
        after: int,
        limit: int,
        lag_seconds: float = 0,
    ) -> tuple[int, list[int]]:
        """HubSpot search semantics; returns (total, ids of the page).

        Groups are ORed, filters in a group ANDed, one sort (default ascending id), archived
        excluded. With `lag_seconds`, records written within the last `lag_seconds` before `now`
        are matched on their state before that write (new ones are invisible). Raises
        `SearchError` for requests HubSpot rejects with 400 (unknown property, bad operator).
        """
        table = self._table(type_id)
        return self.searcher.search(table, filter_groups or [], sorts or [], query, after, limit, lag_seconds)

    # --- associations --------------------------------------------------------------------------

    def _edges(self, from_type: str, to_type: str) -> tuple[TypeTable, TypeTable, EdgeTable | None]:
        src, dst = self._table(from_type), self._table(to_type)
        return src, dst, self.edges.get((src.type_id, dst.type_id))

    def associations(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[dict]]]:
        """[(to_id, [{category, typeId, label}...])] ascending to_id; [] if none."""
        return self.associations_of(from_type, [from_id], to_type)[0]

    def associations_of(
        self, from_type: str, from_ids: Iterable[int], to_type: str
    ) -> list[list[tuple[int, list[dict]]]]:
        """`associations()` of each id, in order, looked up together. Type dicts are shared: read-only."""
        src, dst, edges = self._edges(from_type, to_type)
        idxs = src.indices_of([int(from_id) for from_id in from_ids])
        out: list[list[tuple[int, list[dict]]]] = [[] for _ in idxs]
        known = [k for k, idx in enumerate(idxs) if idx is not None]
        if edges is None or not known:
            return out
        from_b = edges.pair.a != src.type_id
        counts, other, bits, rev = edges.neighbors_of(np.array([idxs[k] for k in known]), from_b)
        kinds: dict[tuple[int, bool], list[dict]] = {}  # a bit set's types, built once per answer
        rows = zip(dst.ids[other].tolist(), bits.tolist(), rev.tolist(), strict=True)
        for k, count in zip(known, counts.tolist(), strict=True):
            for to_id, bt, r in itertools.islice(rows, count):
                types = kinds.get((bt, r))
                if types is None:
                    types = kinds[(bt, r)] = edges.pair.types_for(bt, r)
                out[k].append((to_id, types))
        return out

    def association_labels(self, from_type: str, to_type: str) -> list[dict]:
        """Every association type defined from one type to another: {category, typeId, label}."""
        src, _dst, edges = self._edges(from_type, to_type)
        if edges is None:
            return []
        return edges.pair.labels(reverse=edges.pair.a != src.type_id)

    def association_pairs(self) -> list[tuple[str, str]]:
        """Every (from type, to type) with defined associations, both directions."""
        return sorted(self.edges)

    # --- reference data ------------------------------------------------------------------------

    def pipelines(self, type_id: str) -> list[dict]:
        """API Pipeline dicts with stages; [] if the type has none."""
        table = self._table(type_id)
        pipes = self.pipeline_defs.get(table.type_id, ())
        created = self.first_ms - 50 * DAY_MS
        return [pipeline_dict(p, k, created + k * DAY_MS) for k, p in enumerate(pipes)]

    def owners(self, archived: bool) -> list[dict]:
        """API owner dicts (live, or only archived ones) with teams [{id, name, primary}]."""
        return self.directory.owner_dicts(archived)

    def teams(self) -> list[dict]:
        """Settings API teams: {id, name, userIds, secondaryUserIds}."""
        return self.directory.team_dicts()

    def users(self) -> list[dict]:
        """Settings API users (active users; one per live owner)."""
        return self.directory.user_dicts()

    def roles(self) -> list[dict]:
        """Settings API roles."""
        return self.directory.role_dicts()

    def lists(self) -> list[dict]:
        """API list dicts (the lists search shape), ascending listId."""
        return [lst.as_dict() for lst in self.lists_]

    def find_list(self, list_id: str) -> dict | None:
        """The API list dict whose listId reads `list_id`, else None."""
        return next((lst.as_dict() for lst in self.lists_ if str(lst.list_id) == list_id), None)

    def list_memberships(
        self, list_id: int, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, str]]:
        """(recordId, membershipTimestamp ISO) by ascending recordId; optionally ids > after, at most limit.

        Raises KeyError for an unknown list id.
        """
        lst = self._list_state(list_id)
        ids = self.tables[lst.object_type_id].ids[lst.members]
        start = 0 if after is None else int(np.searchsorted(ids, int(after), side="right"))
        stop = len(ids) if limit is None else start + limit
        return _member_rows(ids[start:stop], lst.added_ms[start:stop])

    def list_members_page(
        self, list_id: int, offset: int, limit: int, join_order: bool = False
    ) -> tuple[int, list[tuple[int, str]]]:
        """(member count, the members at positions [offset, offset + limit)) by ascending recordId, or
        in the order they joined (then by recordId); only the page is formatted. KeyError if unknown."""
        lst = self._list_state(list_id)
        page = lst.join_order()[offset : offset + limit] if join_order else slice(offset, offset + limit)
        ids = self.tables[lst.object_type_id].ids[lst.members[page]]
        return len(lst.members), _member_rows(ids, lst.added_ms[page])

    def record_list_memberships(self, type_ref: str, record_ids: list[int]) -> dict[int, list[dict]]:
        """Per live record of `record_ids`, the lists it is a member of now, ascending listId:
        `{listId, listVersion, firstAddedTimestamp, lastAddedTimestamp}` (one join time is kept, so
        both are it). Unknown and archived ids are left out; KeyError for an unknown type."""
        table = self._table(type_ref)
        ids = np.unique(np.array(record_ids, dtype=np.int64))
        at = np.clip(np.searchsorted(table.ids, ids), 0, max(len(table.ids) - 1, 0))
        live = (table.ids[at] == ids) & (table.archived[at] == 0) if len(table.ids) else ids < 0
        out: dict[int, list[dict]] = {int(i): [] for i in ids[live]}
        for lst in self.lists_:
            if lst.object_type_id != table.type_id or not len(lst.members):
                continue
            where = np.clip(np.searchsorted(lst.members, at), 0, len(lst.members) - 1)
            member = live & (lst.members[where] == at)
            for record_id, added in zip(
                ids[member].tolist(), lst.added_ms[where[member]].tolist(), strict=True
            ):
                stamp = iso_ms(added)
                out[record_id].append(
                    {"listId": str(lst.list_id), "listVersion": lst.list_version,
                     "firstAddedTimestamp": stamp, "lastAddedTimestamp": stamp}
                )  # fmt: skip
        return out

    def _list_state(self, list_id: int) -> ListState:
        lst = next((x for x in self.lists_ if x.list_id == int(list_id)), None)
        if lst is None:
            raise KeyError(f"unknown list {list_id}")
        return lst

    def event_types(self) -> list[str]:
        """Event type names: standard `e_*` and custom `pe<portal>_*`."""
        return self.event_catalog.event_types()

    def event_definitions(self) -> list[dict]:
        """Custom behavioural event definitions (§7.4 shape)."""
        return self.event_catalog.definitions()

    def events(
        self,
        object_type_id: str,
        object_id: int,
        event_type: str | None = None,
        occurred_after: dt.datetime | None = None,
        occurred_before: dt.datetime | None = None,
    ) -> list[dict]:
        """Occurrences of one record, ascending occurredAt; window is [occurred_after, occurred_before)."""
        table = self._table(object_type_id)
        idx = table.index_of(int(object_id))
        if idx is None or not self.event_catalog.has_events(table.type_id):
            return []
        lo = None if occurred_after is None else datetime_to_ms(occurred_after)
        hi = None if occurred_before is None else datetime_to_ms(occurred_before)
        ctx = self.generator.ctx(table, idx)
        return [
            self.event_catalog.occurrence(table.type_id, ctx.id, ctx.seed, ts, kind, serial)
            for ts, kind, serial in self.generator.record_events(ctx)
            if (event_type is None or kind == event_type)
            and (lo is None or ts >= lo)
            and (hi is None or ts < hi)
        ]

    def type_events(
        self,
        object_type_id: str,
        event_type: str | None = None,
        occurred_after: dt.datetime | None = None,
        occurred_before: dt.datetime | None = None,
    ) -> list[tuple[int, int, int, str, int]]:
        """Occurrences of every record the type ever held (as `events` answers each of them) in the
        window, as (occurredAt ms, record id, record seed, event type, serial), ascending by time, then
        record id, then serial. Generated occurrences lie in [created, updatedAt as generated], so only
        records whose span meets the window, and records `advance()` gave events, are generated."""
        table = self._table(object_type_id)
        lo = None if occurred_after is None else datetime_to_ms(occurred_after)
        hi = None if occurred_before is None else datetime_to_ms(occurred_before)
        if not self.event_catalog.has_events(table.type_id):
            return []
        key = (table.type_id, event_type, lo, hi, self.now_ms, table.version)
        return self._type_events.get_or_make(key, lambda: self._make_type_events(table, event_type, lo, hi))

    def _make_type_events(
        self, table: TypeTable, event_type: str | None, lo: int | None, hi: int | None
    ) -> list[tuple[int, int, int, str, int]]:
        base_updated = table.updated.copy()
        for idx, ov in table.overlay.items():
            base_updated[idx] = ov.base_updated
        spans = np.ones(len(table), dtype=bool)
        if lo is not None:
            spans &= base_updated >= lo
        if hi is not None:
            spans &= table.created < hi
        added = [idx for idx, ov in table.overlay.items() if ov.events]
        out = []
        for idx in np.union1d(np.flatnonzero(spans), np.array(added, dtype=np.int64)).tolist():
            ctx = self.generator.ctx(table, idx)
            out.extend(
                (ts, ctx.id, ctx.seed, kind, serial)
                for ts, kind, serial in self.generator.record_events(ctx)
                if (event_type is None or kind == event_type)
                and (lo is None or ts >= lo)
                and (hi is None or ts < hi)
            )
        out.sort(key=lambda e: (e[0], e[1], e[4]))
        return out

    def account_details(self) -> dict:
        """`/account-info/v3/details` body (§7.6 shape)."""
        return {
            "portalId": self.portal_id,
            "accountType": "STANDARD",
            "timeZone": "US/Eastern",
            "companyCurrency": "USD",
            "additionalCurrencies": ["EUR", "GBP"],
            "utcOffset": "-05:00",
            "utcOffsetMilliseconds": -18_000_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }


def _member_rows(ids: np.ndarray, added_ms: np.ndarray) -> list[tuple[int, str]]:
    """(recordId, membershipTimestamp ISO) pairs of aligned id and time columns."""
    return [(i, iso_ms(t)) for i, t in zip(ids.tolist(), added_ms.tolist(), strict=True)]
