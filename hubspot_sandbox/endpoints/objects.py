"""CRM object reads (hubspot-api.md §3): list, read one, batch read, search."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.endpoints.paging import cursor, page_limit
from hubspot_sandbox.endpoints.records import (
    V3Associations,
    record_text,
    records_json,
    requested_properties,
)
from hubspot_sandbox.errors import limit_exceeded, object_not_found, validation_error
from hubspot_sandbox.model import ObjectType
from hubspot_sandbox.record_failures import RecordFailureRule
from hubspot_sandbox.responses import RawJson, batch_error, batch_response, paged

LIST_DEFAULT_LIMIT = 10
LIST_MAX_LIMIT = 100
HISTORY_MAX_LIMIT = 50  # propertiesWithHistory lowers the page maximum
BATCH_READ_MAX_INPUTS = 100
SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000  # after + limit beyond this is a 400: search cannot page past 10k
SEARCH_MAX_BODY_CHARS = 3_000
# HubSpot's limits since 26 Aug 2024 (developers.hubspot.com/changelog/breaking-change-expanded-
# filtering-capabilities-and-error-messaging-in-hubspots-search-api): 5 groups, 10 filters per group,
# 25 in all
SEARCH_MAX_GROUPS = 5
SEARCH_MAX_FILTERS_PER_GROUP = 10
SEARCH_MAX_FILTERS = 25


def list_objects(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    history = ctx.arg_list("propertiesWithHistory") or []
    limit = page_limit(ctx, LIST_DEFAULT_LIMIT, HISTORY_MAX_LIMIT if history else LIST_MAX_LIMIT)
    after = ctx.arg("after")
    # `after` is the id of the first record of the next page; the model pages on ids > after.
    first = cursor("after", after) if after else None
    ids = ctx.account.record_ids(
        object_type.type_id,
        archived=ctx.arg_bool("archived"),
        after=None if first is None else first - 1,
        limit=limit + 1,
    )
    properties = requested_properties(object_type, ctx.arg_list("properties"))
    found = ctx.account.records(object_type.type_id, ids[:limit], properties, history)
    views = [view for view in found if view is not None]
    linked = V3Associations(ctx, object_type, ctx.arg_list("associations")).of([v.id for v in views])
    results = records_json(
        [
            record_text(view, with_history=bool(history), associations=links)
            for view, links in zip(views, linked, strict=True)
        ]
    )
    next_after = str(ids[limit]) if len(ids) > limit else None
    return paged(results, next_after, ctx.next_link(next_after) if next_after else None)


def read_object(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    raw_id = ctx.params["objectId"]
    archived = ctx.arg_bool("archived")
    record_id = _resolve_id(ctx, object_type, raw_id, ctx.arg("idProperty"))
    history = ctx.arg_list("propertiesWithHistory") or []
    properties = requested_properties(object_type, ctx.arg_list("properties"))
    view = None
    if record_id is not None:
        view = ctx.account.record(object_type.type_id, record_id, properties, history)
    if view is None or view.archived != archived:
        raise object_not_found(raw_id)
    (links,) = V3Associations(ctx, object_type, ctx.arg_list("associations")).of([view.id])
    return RawJson(record_text(view, with_history=bool(history), associations=links).encode("utf-8"))


def batch_read_objects(ctx: RequestContext) -> Any:
    object_type = ctx.object_type()
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required and must be an array")
    if len(inputs) > BATCH_READ_MAX_INPUTS:
        raise limit_exceeded("inputs", len(inputs), BATCH_READ_MAX_INPUTS)
    archived = ctx.arg_bool("archived")
    history = _string_list(body, "propertiesWithHistory")
    properties = requested_properties(object_type, _string_list(body, "properties"))
    id_property = body.get("idProperty")
    raw_ids = list(dict.fromkeys(str(item.get("id")) if isinstance(item, dict) else "" for item in inputs))
    record_ids = [_resolve_id(ctx, object_type, raw_id, id_property) for raw_id in raw_ids]
    found = ctx.account.records(
        object_type.type_id, [i for i in record_ids if i is not None], properties, history
    )
    views = iter(found)
    present, missing = [], []
    for raw_id, record_id in zip(raw_ids, record_ids, strict=True):
        view = None if record_id is None else next(views)
        if view is None or view.archived != archived:
            missing.append(raw_id)
        else:
            present.append((raw_id, view))
    label = object_type.singular.upper()
    # Records the record-failure rules fail now: errors naming the ids as sent, left out of results.
    failing = _record_failures(ctx, object_type, list(dict.fromkeys(str(view.id) for _, view in present)))
    results = [
        record_text(view, with_history=bool(history)) for _, view in present if str(view.id) not in failing
    ]
    groups: dict[tuple[str, str], list[str]] = {}
    if missing:
        message = (
            f"Could not get some {label} objects, they may be deleted or not exist. Check that ids are valid."
        )
        groups[("OBJECT_NOT_FOUND", message)] = missing
    for raw_id, view in present:
        group = failing.get(str(view.id))
        if group is not None:
            groups.setdefault(group, []).append(raw_id)
    errors = [batch_error(category, message, {"ids": ids}) for (category, message), ids in groups.items()]
    return batch_response(records_json(results), errors, ctx.account.now)


def _record_failures(
    ctx: RequestContext, object_type: ObjectType, record_ids: list[str]
) -> dict[str, tuple[str, str]]:
    """Record id -> (category, message) of the records the sandbox's record-failure rules fail now."""
    failures = ctx.sandbox.record_failures
    if not failures or not record_ids:
        return {}
    label = object_type.singular.upper()

    def describe(rule: RecordFailureRule, record_id: str) -> str:
        prop = rule.property or object_type.primary_display_property
        return (
            rule.template().replace("{id}", record_id).replace("{object}", label).replace("{property}", prop)
        )

    return failures.fail(object_type.type_id, record_ids, describe)


def search_objects(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    size = len(ctx.raw_body.decode("utf-8", "replace"))
    if size > SEARCH_MAX_BODY_CHARS:
        raise validation_error(
            f"The request body is {size} characters; search requests are limited to {SEARCH_MAX_BODY_CHARS}."
        )
    body = ctx.json_object()
    limit = checked_int("limit", body.get("limit") or SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, minimum=1)
    after = cursor("after", body.get("after") or 0)
    if after + limit > SEARCH_MAX_RESULTS:
        raise validation_error(
            f"Search results are limited to {SEARCH_MAX_RESULTS}: after ({after}) + limit ({limit}) is beyond it.",
            after=[str(after)],
            limit=[str(limit)],
        )
    groups = _filter_groups(body.get("filterGroups"), body.get("filters"))
    try:
        total, ids = ctx.account.search(
            object_type.type_id,
            groups,
            _sorts(body.get("sorts")),
            body.get("query") or None,
            after,
            limit,
            lag_seconds=ctx.sandbox.search_lag_seconds,
        )
    except ValueError as exc:  # the model's SearchError: unknown property, bad operator or value
        raise validation_error(str(exc)) from exc
    properties = requested_properties(object_type, _string_list(body, "properties"))
    views = ctx.account.records(object_type.type_id, ids, properties)
    answer: dict[str, Any] = {
        "total": total,
        "results": records_json([record_text(view) for view in views if view is not None]),
    }
    if after + len(ids) < total:
        answer["paging"] = {"next": {"after": str(after + len(ids))}}
    return answer


def _resolve_id(
    ctx: RequestContext, object_type: ObjectType, raw_id: str, id_property: str | None
) -> int | None:
    """A record id from a path or batch input: numeric, or looked up in a unique-value property."""
    if id_property and id_property != "hs_object_id":
        _check_unique_property(ctx, object_type, id_property)
        group = {"filters": [{"propertyName": id_property, "operator": "EQ", "value": raw_id}]}
        _, ids = ctx.account.search(object_type.type_id, [group], [], None, 0, 1)
        return ids[0] if ids else None
    return int(raw_id) if raw_id.isdigit() else None


def _check_unique_property(ctx: RequestContext, object_type: ObjectType, name: str) -> None:
    # Contacts' email is HubSpot's one built-in lookup key; otherwise the property must be unique.
    if object_type.type_id == "0-1" and name == "email":
        return
    for prop in ctx.account.property_definitions(object_type.type_id):
        if prop["name"] == name and prop.get("hasUniqueValue"):
            return
    raise validation_error(f"{name} is not a unique property of {object_type.name}", idProperty=[name])


def _string_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise validation_error(f"{key} must be an array of strings")
    return value


def _filter_groups(value: Any, top_filters: Any = None) -> list[dict]:
    """`filterGroups`, plus top-level `filters` (which HubSpot accepts too) as one more AND group.

    The limits count that group like any other.
    """
    groups = value or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise validation_error("filterGroups must be an array of objects")
    if top_filters:
        if not isinstance(top_filters, list) or not all(isinstance(f, dict) for f in top_filters):
            raise validation_error("filters must be an array of objects")
        groups = [*groups, {"filters": top_filters}]
    if len(groups) > SEARCH_MAX_GROUPS:
        raise validation_error(
            f"Too many filter groups: {len(groups)}; at most {SEARCH_MAX_GROUPS} are allowed.",
            filterGroups=[str(len(groups))],
        )
    counts = [len(group.get("filters") or []) for group in groups]
    if any(count > SEARCH_MAX_FILTERS_PER_GROUP for count in counts):
        raise validation_error(
            f"Too many filters in a filter group: at most {SEARCH_MAX_FILTERS_PER_GROUP} are allowed.",
            filters=[str(max(counts))],
        )
    if sum(counts) > SEARCH_MAX_FILTERS:
        raise validation_error(
            f"Too many filters: {sum(counts)}; at most {SEARCH_MAX_FILTERS} are allowed across all groups.",
            filters=[str(sum(counts))],
        )
    return groups


def _sorts(value: Any) -> list[dict]:
    """Sort rules as objects; plain strings ("createdate", "-createdate") are accepted too.

    HubSpot honours one sort rule, so only the first is passed on.
    """
    sorts = []
    for item in (value or [])[:1]:
        if isinstance(item, str):
            descending = item.startswith("-")
            sorts.append(
                {"propertyName": item.lstrip("-"), "direction": "DESCENDING" if descending else "ASCENDING"}
            )
        elif isinstance(item, dict) and item.get("propertyName"):
            sorts.append(
                {"propertyName": item["propertyName"], "direction": item.get("direction") or "ASCENDING"}
            )
        else:
            raise validation_error("sorts must hold objects with a propertyName")
    return sorts
