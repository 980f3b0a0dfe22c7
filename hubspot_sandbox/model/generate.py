"""Deterministic value and history generation for one (record, property).

Everything derives from `Rng(combine(record_seed, spec.key))`, so a value costs the same whatever
else is requested and is identical in every process. A property's generated history lies in
[max(createdAt, property createdAt), base updatedAt]; changes made by `advance()` are prepended
from the record's overlay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .events import EventCatalog
from .owners import Directory, Pipeline, ascii_handle
from .properties import PropSpec
from .records import TypeTable
from .rng import Rng, combine, stable_hash
from .timefmt import DAY_MS, iso_date, iso_ms
from .types import Entry, History, Source
from .vocab import (
    CITIES,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    COUNTRIES,
    DEAL_NOUNS,
    DOMAIN_TLDS,
    FIRST_NAMES,
    HOSTILE_STRINGS,
    JOB_TITLES,
    LAST_NAMES,
    STATES,
    STREETS,
    TICKET_SUBJECTS,
    WORDS,
)  # fmt: skip

PIPELINE_KEY = stable_hash("pipeline")
CREATE_KEY = stable_hash("create-source")
# The property that carries a ~100 KB value on a few records of these types.
BIG_PROPS = {"0-1": "message", "0-2": "description", "0-46": "hs_note_body"}
BIG_EVERY = 5003  # records with idx % BIG_EVERY == 7 get the big value
# Kinds `draw_value` draws knowing the previous value (or, for multi, with a varying draw count).
PREV_DEPENDENT_KINDS = frozenset({"stage", "enum", "multi", "bool"})


@cache
def big_text() -> str:
    """A ~100 KB string mixing hostile fragments and words (built once)."""
    parts: list[str] = []
    size = 0
    k = 0
    while size < 100_000:
        piece = HOSTILE_STRINGS[k % len(HOSTILE_STRINGS)] + " " + WORDS[k % len(WORDS)] + " "
        parts.append(piece)
        size += len(piece)
        k += 1
    return "".join(parts)[:100_000]


# Draws one value of a scalar kind for a record.
ScalarDraw = Callable[["RecordCtx", Rng], str]


@dataclass(slots=True)
class RecordCtx:
    """What generation needs to know about one record."""

    table: TypeTable
    idx: int
    id: int
    seed: int
    created: int
    base_updated: int
    _events: list[tuple[int, str, int]] | None = field(default=None)
    _create_source: Source | None = field(default=None)
    # Generated (base) values and histories by property name: a context kept in the account's
    # record cache answers a second read of the record without drawing again.
    values: dict[str, str | None] = field(default_factory=dict)
    histories: dict[str, History] = field(default_factory=dict)

    def memo_size(self) -> int:
        """How many values and history entries are memoised (the record cache's unit of weight)."""
        return 1 + len(self.values) + len(self.histories) + sum(map(len, self.histories.values()))


class Sources:
    """Pools of history sources (who/what wrote a value)."""

    def __init__(self, user_ids: tuple[int, ...], portal_id: int) -> None:
        users = user_ids or (9_100_000,)
        crm = [("CRM_UI", f"userId:{u}", None, u) for u in users[:8]]
        self.create: list[Source] = [
            *crm,
            ("IMPORT", f"import:{portal_id % 9973}", None, None),
            ("FORM", "a3c1e2f0-7d41-4c8e-9d55-0f3f1c2b9e10", None, None),
            ("API", "sandbox-private-app", None, None),
            ("INTEGRATION", "1234567", "Salesforce", None),
        ]
        self.update: list[Source] = [
            *crm,
            ("WORKFLOWS", "flow:81234", "Lead nurturing", None),
            ("INTEGRATION", "1234567", "Salesforce", None),
            ("API", "sandbox-private-app", None, None),
            ("SALES", "sequences", None, None),
        ]
        self.calculated: Source = ("CALCULATED", "RollupProperties", None, None)
        self.analytics: Source = ("ANALYTICS", "ContactAnalyticsDetailsUpdateWorker", None, None)
        self.crm = crm


def fmt_number(x: float) -> str:
    """A number as HubSpot stores it: no trailing zeros ("1500", "1500.5")."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Generator:
    """Generates property values and histories for records of every type."""

    def __init__(
        self,
        directory: Directory,
        pipelines: dict[str, tuple[Pipeline, ...]],
        events: EventCatalog,
        sources: Sources,
        product_ids: np.ndarray,
    ) -> None:
        self.directory = directory
        self.pipelines = pipelines
        self.events = events
        self.sources = sources
        self.product_ids = product_ids
        self._scalars = self._scalar_kinds()

    # --- record level -------------------------------------------------------------------------

    def ctx(self, table: TypeTable, idx: int) -> RecordCtx:
        """Context for generating values of one record."""
        return RecordCtx(
            table,
            idx,
            int(table.ids[idx]),
            table.record_seed(idx),
            int(table.created[idx]),
            table.base_updated(idx),
        )

    def record_events(self, ctx: RecordCtx) -> list[tuple[int, str, int]]:
        """All occurrences of a record (generated, then added by advance), ascending by time."""
        if ctx._events is None:
            base = self.events.base_events(ctx.table.type_id, ctx.seed, ctx.created, ctx.base_updated)
            ov = ctx.table.overlay.get(ctx.idx)
            ctx._events = base + ov.events if ov is not None and ov.events else base
        return ctx._events

    def pipeline_of(self, ctx: RecordCtx) -> Pipeline:
        """The record's pipeline (fixed for its life)."""
        pipes = self.pipelines[ctx.table.type_id]
        return pipes[0] if Rng(combine(ctx.seed, PIPELINE_KEY)).chance(0.75) else pipes[1]

    def create_source(self, ctx: RecordCtx) -> Source:
        """Who created the record (shared by its system properties)."""
        if ctx._create_source is None:
            ctx._create_source = Rng(combine(ctx.seed, CREATE_KEY)).choice(self.sources.create)
        return ctx._create_source

    # --- property level -----------------------------------------------------------------------

    def history(self, ctx: RecordCtx, spec: PropSpec) -> History:
        """Full history of a property, newest first, capped at the type's history length (read-only)."""
        return self.histories(ctx, [spec], [True])[0]

    def value(self, ctx: RecordCtx, spec: PropSpec) -> str | None:
        """Current value (the newest history value), or None; draws no history."""
        return self.values(ctx, [spec], [True])[0]

    def histories(self, ctx: RecordCtx, specs: list[PropSpec], may_hold: list[bool]) -> list[History]:
        """`history()` of each spec; `may_hold[i]` False: the fill draw leaves nothing generated (`fill.py`).

        Values written by `advance()` (the overlay) come first.
        """
        written = self._written(ctx)
        cap = ctx.table.history_cap
        out = []
        for spec, maybe in zip(specs, may_hold, strict=True):
            base = self.base_history(ctx, spec) if maybe else ()
            newer = written.get(spec.name)
            out.append((*newer, *base)[:cap] if newer else base)
        return out

    def values(self, ctx: RecordCtx, specs: list[PropSpec], may_hold: list[bool]) -> list[str | None]:
        """`value()` of each spec, `may_hold` as in `histories`; the newest overlay value wins."""
        written = self._written(ctx)
        out: list[str | None] = []
        for spec, maybe in zip(specs, may_hold, strict=True):
            newer = written.get(spec.name)
            out.append(newer[0][0] if newer else self.base_value(ctx, spec) if maybe else None)
        return out

    def _written(self, ctx: RecordCtx) -> dict[str, list[Entry]]:
        """History entries `advance()` wrote to the record, by property (newest first)."""
        ov = ctx.table.overlay.get(ctx.idx)
        return ov.props if ov is not None else {}

    def base_history(self, ctx: RecordCtx, spec: PropSpec) -> History:
        """History generated for the record as of its base updatedAt, newest first (memoised on ctx)."""
        found = ctx.histories.get(spec.name)
        if found is None:
            found = ctx.histories[spec.name] = self._generate_history(ctx, spec)
        return found

    def base_value(self, ctx: RecordCtx, spec: PropSpec) -> str | None:
        """`base_history(...)[0][0]` (or None), memoised on ctx, without drawing a whole history."""
        name = spec.name
        known = ctx.histories.get(name)
        if known is not None:
            return known[0][0] if known else None
        if name not in ctx.values:
            ctx.values[name] = self._generate_value(ctx, spec)
        return ctx.values[name]

    def _generate_history(self, ctx: RecordCtx, spec: PropSpec) -> History:
        if not spec.drawn:
            return tuple(self._fixed_history(ctx, spec))
        rng = Rng(combine(ctx.seed, spec.key))
        big = self._fill(ctx, spec, rng)
        if big is None:
            return ()
        if spec.kind == "pipeline":
            return ((self.pipeline_of(ctx).id, ctx.created, self.create_source(ctx)),)
        n, first = self._shape(ctx, spec, rng)
        hi = ctx.base_updated
        times = [first, *sorted([first + rng.below(hi - first + 1) for _ in range(n - 1)])]
        values = self._values(ctx, spec, rng, n)
        if big:
            values[-1] = f"[{ctx.id}] {big_text()}"
        # Sources are drawn last, oldest first; the oldest is the creator's when set at creation.
        update = self.sources.update
        if spec.calculated:
            sources = [self.sources.calculated] * n
        else:
            oldest = self.create_source(ctx) if first == ctx.created else rng.choice(update)
            sources = [oldest, *[rng.choice(update) for _ in range(n - 1)]]
        return tuple(zip(values[::-1], times[::-1], sources[::-1], strict=True))

    def _generate_value(self, ctx: RecordCtx, spec: PropSpec) -> str | None:
        """The newest generated value from the same stream as the history, drawing only what it needs.

        The later timestamps are skipped over in one step; the sources, drawn after the values,
        are not drawn at all.
        """
        if not spec.drawn:
            fixed = self._fixed_history(ctx, spec)
            return fixed[0][0] if fixed else None
        rng = Rng(combine(ctx.seed, spec.key))
        big = self._fill(ctx, spec, rng)
        if big is None:
            return None
        if spec.kind == "pipeline":
            return self.pipeline_of(ctx).id
        if big:
            return f"[{ctx.id}] {big_text()}"
        n, _ = self._shape(ctx, spec, rng)
        rng.skip(n - 1)  # the n - 1 later timestamps take one draw each
        return self._newest_value(ctx, spec, rng, n)

    def _fixed_history(self, ctx: RecordCtx, spec: PropSpec) -> list[Entry]:
        """History of the kinds that draw nothing of their own (system and activity ones)."""
        kind = spec.kind
        if kind.startswith("activity:"):
            return self._activity_history(ctx, kind[9:])
        if kind == "merged_ids":
            return []
        if kind == "object_id":
            return [(str(ctx.id), ctx.created, self.create_source(ctx))]
        if kind == "createdate":
            return [(iso_ms(ctx.created), ctx.created, self.create_source(ctx))]
        return [(iso_ms(ctx.base_updated), ctx.base_updated, self.create_source(ctx))]  # lastmodified

    def _fill(self, ctx: RecordCtx, spec: PropSpec, rng: Rng) -> bool | None:
        """The fill draw: None when the record holds no value, else whether it holds the big value."""
        if max(ctx.created, spec.created_ms) > ctx.base_updated:
            return None
        big = ctx.idx % BIG_EVERY == 7 and BIG_PROPS.get(ctx.table.type_id) == spec.name
        if not big and rng.random() >= spec.fill:
            return None
        return big

    def _shape(self, ctx: RecordCtx, spec: PropSpec, rng: Rng) -> tuple[int, int]:
        """(number of values, first timestamp) of a set property's generated history."""
        r = rng.random()
        n = 1 if r < 0.72 else 2 if r < 0.88 else 3 if r < 0.95 else rng.between(4, 60)
        n = min(n, ctx.table.history_cap)
        lo = max(ctx.created, spec.created_ms)
        span = ctx.base_updated - lo + 1
        first = lo if (spec.created_ms <= ctx.created and rng.chance(0.75)) else lo + rng.below(span)
        return n, first

    def _newest_value(self, ctx: RecordCtx, spec: PropSpec, rng: Rng, n: int) -> str:
        """`_values(...)[-1]`: the older values are skipped over where they take a fixed number of
        draws and the newest does not depend on them (scalar kinds); otherwise drawn in turn."""
        scalar = self._scalars.get(spec.kind) if spec.kind not in PREV_DEPENDENT_KINDS else None
        if scalar is not None and scalar[1] is not None:
            rng.skip(scalar[1] * (n - 1))
            return scalar[0](ctx, rng)
        return self._values(ctx, spec, rng, n)[-1]

    def _values(self, ctx: RecordCtx, spec: PropSpec, rng: Rng, n: int) -> list[str]:
        """The n values of a generated history, oldest first (each drawn knowing the one before)."""
        if spec.kind == "stage":
            return self._stage_values(ctx, rng, n)
        values: list[str] = []
        prev = None
        for _ in range(n):
            prev = self.draw_value(ctx, spec, rng, prev)
            values.append(prev)
        return values

    def _activity_history(self, ctx: RecordCtx, event_kind: str) -> list[Entry]:
        if not self.events.has_events(ctx.table.type_id):
            return []
        occ = self.record_events(ctx)
        cap = ctx.table.history_cap
        source = self.sources.analytics
        out: list[Entry] = []
        for ts, kind, _ in reversed(occ):
            if event_kind == "*" or kind == event_kind:
                out.append((iso_ms(ts), ts, source))
                if len(out) == cap:
                    break
        return out

    def _stage_values(self, ctx: RecordCtx, rng: Rng, n: int) -> list[str]:
        stages = self.pipeline_of(ctx).stages
        final = rng.below(len(stages))
        picked = sorted({final, *(rng.below(final + 1) for _ in range(n - 1))})
        while len(picked) < n:  # too few distinct stages: the oldest value was set more than once
            picked.insert(0, picked[0])
        return [stages[i].id for i in picked[-n:]]

    def draw_value(self, ctx: RecordCtx, spec: PropSpec, rng: Rng, prev: str | None) -> str:
        """One fresh value of a property (different from `prev` where the kind allows)."""
        kind = spec.kind
        if kind == "stage":
            stages = self.pipeline_of(ctx).stages
            choices = [s.id for s in stages if s.id != prev] or [stages[0].id]
            return rng.choice(choices)
        if kind in ("enum", "multi") and spec.options:
            values = spec.option_values
            if kind == "multi":
                return ";".join(sorted(rng.sample(values, rng.between(1, min(3, len(values))))))
            if prev is None:  # every option is a choice: the same draw as the filtered list below
                return rng.choice(values)
            choices = [v for v in values if v != prev] or list(values)
            return rng.choice(choices)
        if kind == "bool":
            return "false" if prev == "true" else "true" if prev == "false" else rng.choice(("true", "false"))
        return self._scalar(ctx, kind, rng)

    def _scalar(self, ctx: RecordCtx, kind: str, rng: Rng) -> str:
        found = self._scalars.get(kind)
        if found is None:
            raise ValueError(f"unknown value kind {kind!r}")
        return found[0](ctx, rng)

    def _scalar_kinds(self) -> dict[str, tuple[ScalarDraw, int | None]]:
        """kind -> (how one value is drawn, how many draws that takes when the count is fixed).

        A table, not an if-chain: values are drawn by the million. The draw counts let a value-only
        read skip the older values of a history without drawing them (`_newest_value`); a test
        checks each count against what the draw really consumes.
        """
        return {
            "email": (self._email, 5),
            "firstname": (lambda ctx, rng: rng.choice(FIRST_NAMES), 1),
            "lastname": (lambda ctx, rng: rng.choice(LAST_NAMES), 1),
            "phone": (lambda ctx, rng: f"+1 {rng.between(201, 989)}-555-{rng.between(0, 9999):04d}", 2),
            "company": (
                lambda ctx, rng: f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}".strip(),
                2,
            ),
            "domain": (lambda ctx, rng: self._domain(rng), 3),
            "website": (lambda ctx, rng: f"https://www.{self._domain(rng)}", 3),
            "city": (lambda ctx, rng: rng.choice(CITIES), 1),
            "state": (lambda ctx, rng: rng.choice(STATES), 1),
            "country": (lambda ctx, rng: rng.choice(COUNTRIES), 1),
            "zip": (lambda ctx, rng: f"{rng.between(1000, 99999):05d}", 1),
            "address": (lambda ctx, rng: f"{rng.between(1, 999)} {rng.choice(STREETS)}", 2),
            "jobtitle": (lambda ctx, rng: rng.choice(JOB_TITLES), 1),
            "title": (self._title, None),
            "sku": (lambda ctx, rng: f"SKU-{ctx.id}-{rng.between(100, 999)}", 1),
            "text": (self._text, None),
            "longtext": (self._longtext, None),
            "int": (lambda ctx, rng: str(rng.between(0, 5000)), 1),
            "count": (lambda ctx, rng: str(rng.between(0, 200)), 1),
            "money": (self._money, 2),
            "percent": (lambda ctx, rng: fmt_number(rng.between(0, 100) / 100), 1),
            "date": (lambda ctx, rng: iso_date(ctx.created - 400 * DAY_MS + rng.below(800 * DAY_MS)), 1),
            "datetime": (lambda ctx, rng: iso_ms(ctx.created - 30 * DAY_MS + rng.below(400 * DAY_MS)), 1),
            "owner": (self._owner, 2),
            "product_ref": (lambda ctx, rng: str(int(self.product_ids[rng.below(len(self.product_ids))])), 1),
        }

    def _email(self, ctx: RecordCtx, rng: Rng) -> str:
        first = ascii_handle(rng.choice(FIRST_NAMES))
        return f"{first}.{ascii_handle(rng.choice(LAST_NAMES))}.{ctx.id}@{self._domain(rng)}"

    def _text(self, ctx: RecordCtx, rng: Rng) -> str:
        if rng.chance(0.05):
            return rng.choice(HOSTILE_STRINGS)
        return " ".join([rng.choice(WORDS) for _ in range(rng.between(1, 4))])

    def _longtext(self, ctx: RecordCtx, rng: Rng) -> str:
        if rng.chance(0.08):
            return rng.choice(HOSTILE_STRINGS)
        sentences = []
        for _ in range(rng.between(1, 4)):
            words = [rng.choice(WORDS) for _ in range(rng.between(4, 14))]
            sentences.append(" ".join(words).capitalize() + ".")
        return " ".join(sentences)

    def _money(self, ctx: RecordCtx, rng: Rng) -> str:
        cents = rng.between(0, 5_000_000)
        return fmt_number(cents / 100 if rng.chance(0.5) else cents // 100)

    def _owner(self, ctx: RecordCtx, rng: Rng) -> str:
        ids = self.directory.all_owner_ids if rng.chance(0.1) else self.directory.live_owner_ids
        return str(rng.choice(ids))

    def _domain(self, rng: Rng) -> str:
        return f"{ascii_handle(rng.choice(COMPANY_WORDS))}{rng.between(1, 999)}.{rng.choice(DOMAIN_TLDS)}"

    def _title(self, ctx: RecordCtx, rng: Rng) -> str:
        tid = ctx.table.type_id
        if rng.chance(0.04):
            return rng.choice(HOSTILE_STRINGS) or "(no title)"
        if tid == "0-3":
            return f"{rng.choice(COMPANY_WORDS)} - {rng.choice(DEAL_NOUNS)} {2020 + rng.below(7)}"
        if tid == "0-5":
            return rng.choice(TICKET_SUBJECTS)
        return " ".join(rng.choice(WORDS) for _ in range(rng.between(2, 5))).capitalize()
