"""Producers of the definition tables: object types, properties, association types, owners, teams, pipelines.

Each is a projection of the day's snapshots (see `sync.snapshots`): rows created after the day are left
out, so a backfilled day that borrows a later snapshot still shows only what existed by its end.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from hubspot_pipeline.sync.definitions import export_types, known_types
from hubspot_pipeline.sync.event_types import EventTypeInfo, event_types
from hubspot_pipeline.sync.object_types import ObjectTypeInfo
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.sync.type_access import Unavailable, unavailable
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.spec import TableData, TableSpec

BORROWED_NOTE = "definitions taken from the snapshot fetched for {snap_day}, filtered by creation time"


def object_types(ctx: ExportContext) -> list[ObjectTypeInfo]:
    """The object types present in the account as of the day."""
    types = export_types(ctx.snapshot("schemas").data, ctx.snapshot("properties").data)
    return [t for t in types if ctx.created_by_day_end(t.created_at)]


def unavailable_types(ctx: ExportContext) -> list[tuple[ObjectTypeInfo, Unavailable]]:
    """The candidate object types the token could not sync on the day the day's properties were read
    (`sync.type_access`), with why, in type order. Never fetches: a day exported before that source
    existed has no such snapshot and reports none."""
    access = ctx.state.load(ctx.snapshot("properties").day, "type_access")
    missing = unavailable(access.data if access is not None else None)
    present = {t.type_id for t in object_types(ctx)}
    return [
        (t, missing[t.type_id])
        for t in known_types(ctx.snapshot("schemas").data)
        if t.type_id in missing and t.type_id not in present
    ]


def borrowed_notes(ctx: ExportContext, *sources: str) -> list[str]:
    days = {ctx.snapshot(s).day for s in sources} - {ctx.day}
    return [BORROWED_NOTE.format(snap_day=d.isoformat()) for d in sorted(days)]


def object_type_name(info: ObjectTypeInfo) -> str:
    return info.singular.upper()


def account_event_types(ctx: ExportContext) -> list[EventTypeInfo]:
    """The event types the account lists, custom ones existing by the end of the day."""
    types = event_types(ctx.snapshot("event_types").data, ctx.snapshot("event_definitions").data)
    return [t for t in types if ctx.created_by_day_end(t.created_at)]


def produce_object_type_definitions(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    ingested = ctx.snapshot("properties").fetched_at
    objects = (
        (
            t.type_id,
            "OBJECT",
            object_type_name(t),
            t.fully_qualified_name,
            t.label_singular,
            t.label_plural,
            f"OBJECTS_{t.table_suffix}",
            t.custom,
            t.primary_display_property,
            iso_ms(t.created_at),
            iso_ms(t.updated_at),
            ingested,
        )
        for t in object_types(ctx)
    )
    events_ingested = ctx.snapshot("event_definitions").fetched_at
    events = (
        (
            e.type_id,
            "EVENT",
            e.name.upper(),
            e.event_type,
            e.label_singular,
            e.label_plural,
            e.table_name,
            e.custom,
            None,
            iso_ms(e.created_at),
            iso_ms(e.updated_at),
            events_ingested,
        )
        for e in account_event_types(ctx)
    )
    notes = borrowed_notes(ctx, "schemas", "properties", "event_types", "event_definitions")
    yield TableData(spec.name, spec.columns, itertools.chain(objects, events), spec.primary_key, notes)


def _property_row(type_id: str, p: dict, fetched_at: str) -> tuple:
    return (
        type_id,
        p["name"],
        p.get("label"),
        p.get("type"),
        p.get("fieldType"),
        p.get("groupName"),
        p.get("description"),
        p.get("options") or [],
        p.get("displayOrder"),
        bool(p.get("calculated", False)),
        bool(p.get("hasUniqueValue", False)),
        bool(p.get("hidden", False)),
        bool(p.get("hubspotDefined", False)),
        bool(p.get("archived", False)),
        iso_ms(p.get("createdAt")),
        iso_ms(p.get("updatedAt")),
        fetched_at,
    )


def produce_property_definitions(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    """Properties of every object type, then of every custom event type (standard events list none)."""
    snap = ctx.snapshot("properties")
    events_ingested = ctx.snapshot("event_definitions").fetched_at

    def rows() -> Iterator[tuple]:
        for t in object_types(ctx):
            for p in sorted(snap.data.get(t.type_id, []), key=lambda p: p["name"]):
                if ctx.created_by_day_end(p.get("createdAt")):
                    yield _property_row(t.type_id, p, snap.fetched_at)
        for e in account_event_types(ctx):
            for p in sorted(e.properties, key=lambda p: p["name"]):
                yield _property_row(e.type_id, p, events_ingested)

    notes = borrowed_notes(ctx, "properties", "event_definitions")
    yield TableData(spec.name, spec.columns, rows(), spec.primary_key, notes)


def is_primary(category: str | None, label: str | None) -> bool:
    """HubSpot marks a primary association (e.g. a contact's primary company) with the label "Primary"."""
    return category == "HUBSPOT_DEFINED" and (label or "").lower() == "primary"


def association_name(src: ObjectTypeInfo, dst: ObjectTypeInfo, label: str | None) -> str:
    base = f"{object_type_name(src)}_TO_{object_type_name(dst)}"
    if not label:
        return base
    suffix = "".join(ch if ch.isalnum() else "_" for ch in label.upper())
    return f"{base}_{suffix}"


def produce_association_definitions(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    snap = ctx.snapshot("association_labels")
    types = {t.type_id: t for t in object_types(ctx)}

    def rows() -> Iterator[tuple]:
        seen: set[tuple[str, str, int]] = set()
        for item in snap.data:
            src, dst = types.get(item["fromObjectTypeId"]), types.get(item["toObjectTypeId"])
            key = (item["fromObjectTypeId"], item["toObjectTypeId"], int(item["typeId"]))
            if src is None or dst is None or key in seen:
                continue
            seen.add(key)
            label = item.get("label")
            yield (
                src.type_id,
                dst.type_id,
                int(item["typeId"]),
                item.get("category"),
                label,
                association_name(src, dst, label),
                is_primary(item.get("category"), label),
                snap.fetched_at,
            )

    yield TableData(
        spec.name, spec.columns, rows(), spec.primary_key, borrowed_notes(ctx, "association_labels")
    )


def produce_owners(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    snap = ctx.snapshot("owners")
    rows = (
        (
            int(o["id"]),
            o.get("email"),
            o.get("firstName"),
            o.get("lastName"),
            _int_or_none(o.get("userId") or o.get("userIdIncludingInactive")),
            o.get("type"),
            bool(o.get("archived", False)),
            iso_ms(o.get("createdAt")),
            iso_ms(o.get("updatedAt")),
            snap.fetched_at,
        )
        for o in snap.data
        if ctx.created_by_day_end(o.get("createdAt"))
    )
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, borrowed_notes(ctx, "owners"))


def produce_teams(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    snap = ctx.snapshot("teams")
    rows = ((int(t["id"]), t.get("name"), snap.fetched_at) for t in snap.data)
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, borrowed_notes(ctx, "teams"))


def produce_owner_team(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    """Team memberships as the owners API states them (`teams[]` with `primary`)."""
    snap = ctx.snapshot("owners")

    def rows() -> Iterator[tuple]:
        for o in snap.data:
            if not ctx.created_by_day_end(o.get("createdAt")):
                continue
            for team in o.get("teams") or []:
                yield (int(o["id"]), int(team["id"]), bool(team.get("primary", False)), snap.fetched_at)

    yield TableData(spec.name, spec.columns, rows(), spec.primary_key, borrowed_notes(ctx, "owners"))


def _pipelines(ctx: ExportContext) -> Iterator[tuple[str, dict]]:
    types = {t.type_id for t in object_types(ctx)}
    for type_id, pipelines in ctx.snapshot("pipelines").data.items():
        if type_id not in types:
            continue
        for p in pipelines:
            if ctx.created_by_day_end(p.get("createdAt")):
                yield type_id, p


def produce_pipelines(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    ingested = ctx.snapshot("pipelines").fetched_at
    rows = (
        (
            type_id,
            str(p["id"]),
            p.get("label"),
            p.get("displayOrder"),
            bool(p.get("archived", False)),
            iso_ms(p.get("createdAt")),
            iso_ms(p.get("updatedAt")),
            ingested,
        )
        for type_id, p in _pipelines(ctx)
    )
    yield TableData(spec.name, spec.columns, rows, spec.primary_key, borrowed_notes(ctx, "pipelines"))


def produce_pipeline_stages(ctx: ExportContext, spec: TableSpec) -> Iterator[TableData]:
    ingested = ctx.snapshot("pipelines").fetched_at

    def rows() -> Iterator[tuple]:
        for type_id, p in _pipelines(ctx):
            for s in p.get("stages") or []:
                if not ctx.created_by_day_end(s.get("createdAt")):
                    continue
                meta = s.get("metadata") or {}
                yield (
                    type_id,
                    str(p["id"]),
                    str(s["id"]),
                    s.get("label"),
                    s.get("displayOrder"),
                    meta.get("probability"),
                    _bool_or_none(meta.get("isClosed")),
                    meta.get("ticketState"),
                    meta,
                    bool(s.get("archived", False)),
                    iso_ms(s.get("createdAt")),
                    iso_ms(s.get("updatedAt")),
                    ingested,
                )

    yield TableData(spec.name, spec.columns, rows(), spec.primary_key, borrowed_notes(ctx, "pipelines"))


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _bool_or_none(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).lower() == "true"
