"""Lists (segments) and their memberships (§7.3)."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.endpoints.paging import offset_window, window_page
from hubspot_sandbox.errors import limit_exceeded, resource_not_found, validation_error
from hubspot_sandbox.responses import batch_error, batch_response

SEARCH_DEFAULT_COUNT = 20
SEARCH_MAX_COUNT = 500
MEMBERSHIPS_DEFAULT_LIMIT = 100
MEMBERSHIPS_MAX_LIMIT = 250
# HubSpot documents no maximum for the record memberships batch read: 100, as its other batch reads
RECORD_MEMBERSHIPS_MAX_INPUTS = 100


def search_lists(ctx: RequestContext) -> dict[str, Any]:
    """`POST /crm/v3/lists/search`: offset paging (`offset`, `hasMore`), not cursors."""
    body = ctx.json_object()
    count = checked_int("count", body.get("count") or SEARCH_DEFAULT_COUNT, SEARCH_MAX_COUNT, minimum=1)
    offset = checked_int("offset", body.get("offset") or 0)
    query = str(body.get("query") or "").lower()
    processing_types = set(body.get("processingTypes") or [])
    list_ids = {str(i) for i in body.get("listIds") or []}
    object_type_id = body.get("objectTypeId")
    matches = [
        item
        for item in ctx.account.lists()
        if query in item["name"].lower()
        and (not processing_types or item["processingType"] in processing_types)
        and (not list_ids or str(item["listId"]) in list_ids)
        and (not object_type_id or item["objectTypeId"] == object_type_id)
    ]
    page = matches[offset : offset + count]
    return {
        "lists": page,
        "offset": offset + len(page),
        "hasMore": offset + count < len(matches),
        "total": len(matches),
    }


def _fetch_shape(ctx: RequestContext, item: dict[str, Any]) -> dict[str, Any]:
    """A PublicObjectList: the search shape plus `size`; `filterBranch` only with includeFilters."""
    shaped = {key: value for key, value in item.items() if key != "additionalProperties"}
    size = (item.get("additionalProperties") or {}).get("hs_list_size")
    if size is not None:
        shaped["size"] = int(size)
    if not ctx.arg_bool("includeFilters"):
        shaped.pop("filterBranch", None)
    return shaped


def _find(ctx: RequestContext, list_id: str) -> dict[str, Any] | None:
    return ctx.account.find_list(list_id)


def read_list(ctx: RequestContext) -> dict[str, Any]:
    item = _find(ctx, ctx.params["listId"])
    if item is None:
        raise resource_not_found(f"List {ctx.params['listId']} does not exist.")
    return {"list": _fetch_shape(ctx, item)}


def lists_by_id(ctx: RequestContext) -> dict[str, Any]:
    found = (_find(ctx, list_id) for list_id in dict.fromkeys(ctx.arg_list("listIds") or []))
    return {"lists": [_fetch_shape(ctx, item) for item in found if item is not None]}


def _memberships(ctx: RequestContext, join_order: bool) -> dict[str, Any]:
    list_id = ctx.params["listId"]
    if _find(ctx, list_id) is None:
        raise resource_not_found(f"List {list_id} does not exist.")
    limit, start = offset_window(ctx, MEMBERSHIPS_DEFAULT_LIMIT, MEMBERSHIPS_MAX_LIMIT)
    total, members = ctx.account.list_members_page(int(list_id), start, limit, join_order)
    rows = [{"recordId": str(record_id), "membershipTimestamp": stamp} for record_id, stamp in members]
    return window_page(ctx, rows, limit, start, total, total=total)


def memberships(ctx: RequestContext) -> dict[str, Any]:
    """Members by ascending record id."""
    return _memberships(ctx, join_order=False)


def memberships_join_order(ctx: RequestContext) -> dict[str, Any]:
    """Members in the order they joined."""
    return _memberships(ctx, join_order=True)


def record_memberships_batch(ctx: RequestContext) -> Any:
    """The lists each record is a member of, for up to `RECORD_MEMBERSHIPS_MAX_INPUTS` records of any
    types: a record that does not exist (or is archived) is named in a 207 error, as batch reads do."""
    inputs = ctx.json_object().get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required and must be an array")
    if len(inputs) > RECORD_MEMBERSHIPS_MAX_INPUTS:
        raise limit_exceeded("inputs", len(inputs), RECORD_MEMBERSHIPS_MAX_INPUTS)
    wanted: dict[str, list[str]] = {}
    for item in inputs:
        if not isinstance(item, dict) or not item.get("objectTypeId") or item.get("recordId") is None:
            raise validation_error("each input needs objectTypeId and recordId")
        wanted.setdefault(str(item["objectTypeId"]), []).append(str(item["recordId"]))
    results, missing = [], []
    for type_ref, raw_ids in wanted.items():
        otype = ctx.account.resolve_type(type_ref)
        if otype is None:
            raise validation_error(f"Unable to infer object type from: {type_ref}")
        numeric = [int(r) for r in raw_ids if r.isdigit()]
        found = ctx.account.record_list_memberships(otype.type_id, numeric)
        for raw_id in dict.fromkeys(raw_ids):
            lists = found.get(int(raw_id)) if raw_id.isdigit() else None
            if lists is None:
                missing.append(raw_id)
                continue
            results.append(
                {"objectTypeId": otype.type_id, "recordId": raw_id, "recordListMemberships": lists}
            )
    errors = (
        [batch_error("OBJECT_NOT_FOUND", "Some records do not exist.", {"ids": missing})] if missing else []
    )
    return batch_response(results, errors, ctx.account.now)
