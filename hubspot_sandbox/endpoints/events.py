"""Events (§7.4): occurrences per record, event types, custom behavioural event definitions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import offset_page
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
    """One record's events; HubSpot offers no account-wide dump, so objectType and objectId are required."""
    type_ref, object_id = ctx.arg("objectType"), ctx.arg("objectId")
    if not type_ref or not object_id or not object_id.isdigit():
        raise validation_error("objectType and a numeric objectId are required", objectType=[type_ref or ""])
    object_type = ctx.sandbox.resolve_type(type_ref)
    occurrences = ctx.account.events(
        object_type.type_id,
        int(object_id),
        event_type=ctx.arg("eventType"),
        occurred_after=_instant(ctx, "occurredAfter"),
        occurred_before=_instant(ctx, "occurredBefore"),
    )
    if (ctx.arg("sort") or "").startswith("-"):
        occurrences = occurrences[::-1]
    return offset_page(ctx, occurrences, OCCURRENCES_DEFAULT_LIMIT, OCCURRENCES_MAX_LIMIT)


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
