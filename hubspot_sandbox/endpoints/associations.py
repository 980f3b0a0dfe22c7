"""Associations v4 (§6): per-record pages, batch read, labels and definition configurations."""

from __future__ import annotations

import bisect
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import cursor, page_limit
from hubspot_sandbox.endpoints.records import v3_type_names
from hubspot_sandbox.errors import limit_exceeded, validation_error
from hubspot_sandbox.model import ObjectType
from hubspot_sandbox.model.types import LIBRARY_TYPE_IDS
from hubspot_sandbox.responses import batch_error, batch_response, paged

PAGE_SIZE = 500  # per-record default and maximum, and the size of each batch input's page
BATCH_MAX_INPUTS = 1_000

Page = tuple[list[dict[str, Any]], str | None]


def _page(pairs: list[tuple[int, list[dict[str, Any]]]], after: Any) -> Page:
    """One page of a record's associations (`pairs`, by ascending id); the cursor is the next `toObjectId`."""
    start = bisect.bisect_left([to_id for to_id, _ in pairs], cursor("after", after)) if after else 0
    rows = [
        {"toObjectId": to_id, "associationTypes": kinds} for to_id, kinds in pairs[start : start + PAGE_SIZE]
    ]
    more = start + PAGE_SIZE < len(pairs)
    return rows, str(pairs[start + PAGE_SIZE][0]) if more else None


def record_associations(ctx: RequestContext) -> dict[str, Any]:
    from_type, to_type = ctx.object_type(), ctx.object_type("toObjectType")
    limit = page_limit(ctx, PAGE_SIZE, PAGE_SIZE)
    raw_id = ctx.params["objectId"]
    if not raw_id.isdigit():
        raise validation_error(f"objectId must be numeric, but was {raw_id!r}", objectId=[raw_id])
    pairs = ctx.account.associations(from_type.type_id, int(raw_id), to_type.type_id)
    rows, next_after = _page(pairs, ctx.arg("after"))
    if len(rows) > limit:
        next_after = str(rows[limit]["toObjectId"])
        rows = rows[:limit]
    return paged(rows, next_after, ctx.next_link(next_after) if next_after else None)


def _batch_inputs(
    ctx: RequestContext, max_inputs: int
) -> tuple[ObjectType, ObjectType, list[dict[str, Any]]]:
    """The pair and the inputs of an association batch read (bare ids taken as `{"id": ...}`)."""
    from_type, to_type = ctx.object_type("fromObjectType"), ctx.object_type("toObjectType")
    inputs = ctx.json_object().get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required and must be an array")
    if len(inputs) > max_inputs:
        raise limit_exceeded("inputs", len(inputs), max_inputs)
    return from_type, to_type, [item if isinstance(item, dict) else {"id": item} for item in inputs]


def batch_read_associations(ctx: RequestContext) -> Any:
    from_type, to_type, items = _batch_inputs(ctx, BATCH_MAX_INPUTS)
    raw_ids = [str(item.get("id")) for item in items]
    numeric = [int(raw_id) for raw_id in raw_ids if raw_id.isdigit()]
    found = iter(ctx.account.associations_of(from_type.type_id, numeric, to_type.type_id))
    results, errors = [], []
    for item, raw_id in zip(items, raw_ids, strict=True):
        rows, next_after = [], None
        if raw_id.isdigit():
            rows, next_after = _page(next(found), item.get("after"))
        if not rows:
            # HubSpot answers unknown ids and ids without associations alike: an error entry, no result.
            errors.append(_no_associations(from_type, to_type, raw_id))
            continue
        result: dict[str, Any] = {"from": {"id": raw_id}, "to": rows}
        if next_after is not None:
            result["paging"] = {"next": {"after": next_after}}
        results.append(result)
    return batch_response(results, errors, ctx.account.now)


def labels(ctx: RequestContext) -> dict[str, Any]:
    from_type, to_type = ctx.object_type("fromObjectType"), ctx.object_type("toObjectType")
    return {"results": ctx.account.association_labels(from_type.type_id, to_type.type_id)}


def _configurations(ctx: RequestContext, from_type: ObjectType, to_type: ObjectType) -> list[dict[str, Any]]:
    return [
        {"category": label["category"], "typeId": label["typeId"], "label": label.get("label")}
        for label in ctx.account.association_labels(from_type.type_id, to_type.type_id)
    ]


def pair_configurations(ctx: RequestContext) -> dict[str, Any]:
    return {
        "results": _configurations(ctx, ctx.object_type("fromObjectType"), ctx.object_type("toObjectType"))
    }


def all_configurations(ctx: RequestContext) -> dict[str, Any]:
    # The object library's pairs are answered per pair only: this answer stays as it was before them.
    types = [t for t in ctx.account.object_types() if t.type_id not in LIBRARY_TYPE_IDS]
    return {"results": [row for a in types for b in types for row in _configurations(ctx, a, b)]}


# -- associations v3 ------------------------------------------------------------------------------

V3_BATCH_MAX_INPUTS = 1_000  # HubSpot documents none for v3; v4's maximum


def _no_associations(from_type: ObjectType, to_type: ObjectType, raw_id: str) -> dict[str, Any]:
    """The batch error of an id with no association of the pair (or unknown), as v3 and v4 give it."""
    return batch_error(
        "OBJECT_NOT_FOUND",
        f"No {to_type.singular} is associated with {from_type.singular} {raw_id}.",
        {
            "fromObjectId": [raw_id],
            "fromObjectType": [from_type.singular],
            "toObjectType": [to_type.singular],
        },
        subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
    )


def v3_batch_read_associations(ctx: RequestContext) -> Any:
    """`POST /crm/v3/associations/{fromObjectType}/{toObjectType}/batch/read`: every associated id
    once per association type (v4's types, v3's names), no paging; repeated ids are answered once;
    ids with none (or unknown) come back as 207 errors, as in v4."""
    from_type, to_type, items = _batch_inputs(ctx, V3_BATCH_MAX_INPUTS)
    names = v3_type_names(
        ctx.account.association_labels(from_type.type_id, to_type.type_id), from_type, to_type
    )
    fallback = f"{from_type.singular}_to_{to_type.singular}"
    raw_ids = list(dict.fromkeys(str(item.get("id")) for item in items))
    numeric = [int(raw_id) for raw_id in raw_ids if raw_id.isdigit()]
    found = iter(ctx.account.associations_of(from_type.type_id, numeric, to_type.type_id))
    results, errors = [], []
    for raw_id in raw_ids:
        pairs = next(found) if raw_id.isdigit() else []
        rows = [
            {"id": str(to_id), "type": names.get(kind["typeId"], fallback)}
            for to_id, kinds in pairs
            for kind in kinds
        ]
        if not rows:
            errors.append(_no_associations(from_type, to_type, raw_id))
            continue
        results.append({"from": {"id": raw_id}, "to": rows})
    return batch_response(results, errors, ctx.account.now)
