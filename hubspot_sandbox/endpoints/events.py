"""Events (§7.4): occurrences per record, event types, custom behavioural event definitions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import offset_page, offset_window, window_page
from hubspot_sandbox.errors import resource_not_found, validation_error

# HubSpot documents no maxima here; these follow its usual defaults (10) and object pages (100).
OCCURRENCES_DEFAULT_LIMIT = 10
OCCURRENCES_MAX_LIMIT = 100
DEFINITIONS_DEFAULT_LIMIT = 10
DEFINITIONS_MAX_LIMIT = 100


def _instant(ctx: RequestContext, name: str) -> dt.datetime | None:
    value = ctx.arg(name)
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(
            f"{name} must be an ISO-8601 date-time, but was {value!r}", **{name: [value]}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def list_occurrences(ctx: RequestContext) -> dict[str, Any]:
    """Occurrences linked to records of `objectType`, of one record when `objectId` is given too.

    HubSpot's guide documents each filter on its own ("objectType: occurrences linked to records of a
    specific object", "objectId: ... of a specific record, with objectType") and combined; a query
    without objectType is answered 400 here (inferred: every documented example names the type)."""
    type_ref, object_id = ctx.arg("objectType"), ctx.arg("objectId")
    if not type_ref:
        raise validation_error("objectType is required", objectType=[""])
    if object_id is not None and not object_id.isdigit():
        raise validation_error("objectId must be a record id", objectId=[object_id])
    object_type = ctx.sandbox.resolve_type(type_ref)
    window = {
        "event_type": ctx.arg("eventType"),
        "occurred_after": _instant(ctx, "occurredAfter"),
        "occurred_before": _instant(ctx, "occurredBefore"),
    }
    descending = (ctx.arg("sort") or "").startswith("-")
    if object_id is not None:
        occurrences = ctx.account.events(object_type.type_id, int(object_id), **window)
        return offset_page(ctx, occurrences[::-1] if descending else occurrences,
                           OCCURRENCES_DEFAULT_LIMIT, OCCURRENCES_MAX_LIMIT)  # fmt: skip
    found = ctx.account.type_events(object_type.type_id, **window)
    limit, start = offset_window(ctx, OCCURRENCES_DEFAULT_LIMIT, OCCURRENCES_MAX_LIMIT)
    ordered = found[::-1] if descending else found
    catalog = ctx.account.event_catalog
    rows = [
        catalog.occurrence(object_type.type_id, rid, seed, ts, kind, serial)
        for ts, rid, seed, kind, serial in ordered[start : start + limit]
    ]
    return window_page(ctx, rows, limit, start, len(found))


def event_types(ctx: RequestContext) -> dict[str, Any]:
    return {"eventTypes": ctx.account.event_types()}


def _definition(ctx: RequestContext, definition: dict[str, Any]) -> dict[str, Any]:
    if ctx.arg_bool("includeProperties", False):
        return definition
    return {**definition, "properties": []}


def list_definitions(ctx: RequestContext) -> dict[str, Any]:
    needle = (ctx.arg("searchString") or "").lower()
    definitions = [
        _definition(ctx, d)
        for d in ctx.account.event_definitions()
        if needle in d["name"].lower() or needle in (d.get("labels") or {}).get("singular", "").lower()
    ]
    if (ctx.arg("sortOrder") or "ASC").upper() == "DESC":
        definitions.reverse()
    return offset_page(
        ctx, definitions, DEFINITIONS_DEFAULT_LIMIT, DEFINITIONS_MAX_LIMIT, total=len(definitions)
    )


def read_definition(ctx: RequestContext) -> dict[str, Any]:
    name = ctx.params["eventName"]
    for definition in ctx.account.event_definitions():
        if name in (definition["name"], definition.get("fullyQualifiedName")):
            return definition
    raise resource_not_found(f"Event definition {name} not found")
