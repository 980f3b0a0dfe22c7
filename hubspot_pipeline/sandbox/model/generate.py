"""Deterministic value and history generation for one (record, property).

Everything derives from `Rng(combine(record_seed, spec.key))`, so a value costs the same whatever
else is requested and is identical in every process. A property's generated history lies in
[max(createdAt, property createdAt), base updatedAt]; changes made by `advance()` are prepended
from the record's overlay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from .events import EventCatalog
from .owners import Directory, Pipeline, ascii_handle
from .properties import PropSpec
from .records import Entry, Source, TypeTable
from .rng import Rng, combine, stable_hash
from .timefmt import DAY_MS, iso_date, iso_ms
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


def history_dict(entry: Entry) -> dict:
    """API history entry `{value, timestamp, sourceType, sourceId?, sourceLabel?, updatedByUserId?}`."""
    value, ts, (stype, sid, label, user) = entry
    out: dict = {"value": value, "timestamp": iso_ms(ts), "sourceType": stype}
    if sid is not None:
        out["sourceId"] = sid
    if label is not None:
        out["sourceLabel"] = label
    if user is not None:
        out["updatedByUserId"] = user
    return out


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
        return Rng(combine(ctx.seed, CREATE_KEY)).choice(self.sources.create)

    # --- property level -----------------------------------------------------------------------

    def history(self, ctx: RecordCtx, spec: PropSpec) -> list[Entry]:
        """Full history of a property, newest first, capped at the type's history length."""
        ov = ctx.table.overlay.get(ctx.idx)
        newer = ov.props.get(spec.name) if ov is not None else None
        base = self.base_history(ctx, spec)
        if not newer:
            return base
        return (newer + base)[: ctx.table.history_cap]

    def value(self, ctx: RecordCtx, spec: PropSpec) -> str | None:
        """Current value (the newest history value), or None."""
        hist = self.history(ctx, spec)
        return hist[0][0] if hist else None

    def base_history(self, ctx: RecordCtx, spec: PropSpec) -> list[Entry]:
        """History generated for the record as of its base updatedAt, newest first."""
        kind = spec.kind
        if kind == "object_id":
            return [(str(ctx.id), ctx.created, self.create_source(ctx))]
        if kind == "createdate":
            return [(iso_ms(ctx.created), ctx.created, self.create_source(ctx))]
        if kind == "lastmodified":
            return [(iso_ms(ctx.base_updated), ctx.base_updated, self.create_source(ctx))]
        if kind == "merged_ids":
            return []
        if kind.startswith("activity:"):
            return self._activity_history(ctx, kind[9:])
        lo = max(ctx.created, spec.created_ms)
        hi = ctx.base_updated
        if lo > hi:
            return []
        rng = Rng(combine(ctx.seed, spec.key))
        big = ctx.idx % BIG_EVERY == 7 and BIG_PROPS.get(ctx.table.type_id) == spec.name
        if not big and rng.random() >= spec.fill:
            return []
        if kind == "pipeline":
            return [(self.pipeline_of(ctx).id, ctx.created, self.create_source(ctx))]
        r = rng.random()
        n = 1 if r < 0.72 else 2 if r < 0.88 else 3 if r < 0.95 else rng.between(4, 60)
        n = min(n, ctx.table.history_cap)
        span = hi - lo + 1
        first = lo if (spec.created_ms <= ctx.created and rng.chance(0.75)) else lo + rng.below(span)
        times = [first, *sorted(first + rng.below(hi - first + 1) for _ in range(n - 1))]
        if kind == "stage":
            values = self._stage_values(ctx, rng, n)
        else:
            values = []
            prev = None
            for _ in range(n):
                prev = self.draw_value(ctx, spec, rng, prev)
                values.append(prev)
        if big:
            values[-1] = f"[{ctx.id}] {big_text()}"
        src = self.sources
        out: list[Entry] = []
        for k in range(n):
            if spec.calculated:
                source = src.calculated
            elif k == 0:
                source = self.create_source(ctx) if times[0] == ctx.created else rng.choice(src.update)
            else:
                source = rng.choice(src.update)
            out.append((values[k], times[k], source))
        out.reverse()
        return out

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
            choices = [v for v in values if v != prev] or list(values)
            return rng.choice(choices)
        if kind == "bool":
            return "false" if prev == "true" else "true" if prev == "false" else rng.choice(("true", "false"))
        return self._scalar(ctx, kind, rng)

    def _scalar(self, ctx: RecordCtx, kind: str, rng: Rng) -> str:
        c = ctx.created
        if kind == "email":
            first = ascii_handle(rng.choice(FIRST_NAMES))
            return f"{first}.{ascii_handle(rng.choice(LAST_NAMES))}.{ctx.id}@{self._domain(rng)}"
        if kind == "firstname":
            return rng.choice(FIRST_NAMES)
        if kind == "lastname":
            return rng.choice(LAST_NAMES)
        if kind == "phone":
            return f"+1 {rng.between(201, 989)}-555-{rng.between(0, 9999):04d}"
        if kind == "company":
            return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}".strip()
        if kind == "domain":
            return self._domain(rng)
        if kind == "website":
            return f"https://www.{self._domain(rng)}"
        if kind == "city":
            return rng.choice(CITIES)
        if kind == "state":
            return rng.choice(STATES)
        if kind == "country":
            return rng.choice(COUNTRIES)
        if kind == "zip":
            return f"{rng.between(1000, 99999):05d}"
        if kind == "address":
            return f"{rng.between(1, 999)} {rng.choice(STREETS)}"
        if kind == "jobtitle":
            return rng.choice(JOB_TITLES)
        if kind == "title":
            return self._title(ctx, rng)
        if kind == "sku":
            return f"SKU-{ctx.id}-{rng.between(100, 999)}"
        if kind == "text":
            if rng.chance(0.05):
                return rng.choice(HOSTILE_STRINGS)
            return " ".join(rng.choice(WORDS) for _ in range(rng.between(1, 4)))
        if kind == "longtext":
            if rng.chance(0.08):
                return rng.choice(HOSTILE_STRINGS)
            sentences = []
            for _ in range(rng.between(1, 4)):
                words = [rng.choice(WORDS) for _ in range(rng.between(4, 14))]
                sentences.append(" ".join(words).capitalize() + ".")
            return " ".join(sentences)
        if kind == "int":
            return str(rng.between(0, 5000))
        if kind == "count":
            return str(rng.between(0, 200))
        if kind == "money":
            cents = rng.between(0, 5_000_000)
            return fmt_number(cents / 100 if rng.chance(0.5) else cents // 100)
        if kind == "percent":
            return fmt_number(rng.between(0, 100) / 100)
        if kind == "date":
            return iso_date(c - 400 * DAY_MS + rng.below(800 * DAY_MS))
        if kind == "datetime":
            return iso_ms(c - 30 * DAY_MS + rng.below(400 * DAY_MS))
        if kind == "owner":
            ids = self.directory.all_owner_ids if rng.chance(0.1) else self.directory.live_owner_ids
            return str(rng.choice(ids))
        if kind == "product_ref":
            return str(int(self.product_ids[rng.below(len(self.product_ids))]))
        raise ValueError(f"unknown value kind {kind!r}")

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
