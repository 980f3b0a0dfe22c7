"""Property definitions and groups (§4) and custom object schemas (§5)."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.errors import limit_exceeded, resource_not_found, validation_error
from hubspot_sandbox.responses import batch_error, batch_response

BATCH_MAX_INPUTS = 100


def list_properties(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    return {"results": ctx.account.property_definitions(object_type.type_id, ctx.arg_bool("archived"))}


def read_property(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    name = ctx.params["propertyName"]
    for prop in _all_definitions(ctx, object_type.type_id):
        if prop["name"] == name and prop.get("archived", False) == ctx.arg_bool("archived"):
            return prop
    raise resource_not_found(f"Unable to find property {name} on object type {object_type.type_id}")


def batch_read_properties(ctx: RequestContext) -> Any:
    object_type = ctx.object_type()
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required and must be an array")
    if len(inputs) > BATCH_MAX_INPUTS:
        raise limit_exceeded("inputs", len(inputs), BATCH_MAX_INPUTS)
    archived = bool(body.get("archived", False))
    by_name = {prop["name"]: prop for prop in ctx.account.property_definitions(object_type.type_id, archived)}
    wanted = [str(item.get("name")) for item in inputs if isinstance(item, dict)]
    missing = [name for name in wanted if name not in by_name]
    errors = []
    if missing:
        message = f"Unable to find some properties on object type {object_type.type_id}"
        errors.append(batch_error("OBJECT_NOT_FOUND", message, {"name": missing}))
    return batch_response(
        [by_name[n] for n in dict.fromkeys(wanted) if n in by_name], errors, ctx.account.now
    )


def list_groups(ctx: RequestContext) -> dict[str, Any]:
    return {"results": _groups(ctx, ctx.object_type().type_id)}


def read_group(ctx: RequestContext) -> dict[str, Any]:
    object_type = ctx.object_type()
    for group in _groups(ctx, object_type.type_id):
        if group["name"] == ctx.params["groupName"]:
            return group
    raise resource_not_found(f"Unable to find property group {ctx.params['groupName']}")


def _all_definitions(ctx: RequestContext, type_id: str) -> list[dict]:
    return [*ctx.account.property_definitions(type_id), *ctx.account.property_definitions(type_id, True)]


def _groups(ctx: RequestContext, type_id: str) -> list[dict]:
    """Groups derived from the properties' `groupName` (the model keeps no separate group table)."""
    names = dict.fromkeys(prop["groupName"] for prop in ctx.account.property_definitions(type_id))
    return [
        {"name": name, "label": name.replace("_", " ").title(), "displayOrder": order, "archived": False}
        for order, name in enumerate(names)
    ]


# -- custom object schemas ---------------------------------------------------------------------------


def list_schemas(ctx: RequestContext) -> dict[str, Any]:
    archived = ctx.arg_bool("archived")
    return {
        "results": [_shaped(ctx, s) for s in ctx.account.schemas() if s.get("archived", False) == archived]
    }


def read_schema(ctx: RequestContext) -> dict[str, Any]:
    schema = _find_schema(ctx, ctx.params["objectType"])
    if schema is None:
        raise resource_not_found(f"Unable to find object schema for {ctx.params['objectType']}")
    return _shaped(ctx, schema)


def batch_read_schemas(ctx: RequestContext) -> Any:
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required and must be an array")
    results, missing = [], []
    for ref in dict.fromkeys(str(item) for item in inputs):
        schema = _find_schema(ctx, ref)
        if schema is None:
            missing.append(ref)
        else:
            results.append(_shaped(ctx, schema, body))
    errors = (
        [batch_error("OBJECT_NOT_FOUND", "Unable to find some object schemas", {"ids": missing})]
        if missing
        else []
    )
    return batch_response(results, errors, ctx.account.now)


def _find_schema(ctx: RequestContext, ref: str) -> dict | None:
    object_type = ctx.account.resolve_type(ref)
    if object_type is None or not object_type.custom:
        return None
    return next((s for s in ctx.account.schemas() if s.get("objectTypeId") == object_type.type_id), None)


def _shaped(ctx: RequestContext, schema: dict, options: dict[str, Any] | None = None) -> dict:
    """Honour includePropertyDefinitions / includeAssociationDefinitions (query, or batch body)."""

    def include(name: str) -> bool:
        if options is not None:
            return bool(options.get(name, True))
        return ctx.arg_bool(name, True)

    shaped = dict(schema)
    if not include("includePropertyDefinitions"):
        shaped["properties"] = []
    if not include("includeAssociationDefinitions"):
        shaped["associations"] = []
    return shaped
