"""Lists (segments) and their memberships (§7.3)."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.endpoints.paging import offset_window, window_page
from hubspot_sandbox.errors import resource_not_found

SEARCH_DEFAULT_COUNT = 20
SEARCH_MAX_COUNT = 500
MEMBERSHIPS_DEFAULT_LIMIT = 100
MEMBERSHIPS_MAX_LIMIT = 250


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
