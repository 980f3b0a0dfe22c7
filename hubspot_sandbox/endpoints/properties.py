"""Property definitions and groups (§4) and custom object schemas (§5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.errors import ApiError, error_body, limit_exceeded, resource_not_found, validation_error
from hubspot_sandbox.model.catalog import Prop
from hubspot_sandbox.model.properties import make_spec, property_dict
from hubspot_sandbox.model.timefmt import DAY_MS
from hubspot_sandbox.model.types import KnownType
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


# -- legacy property lists (properties v1 / v2) ----------------------------------------------------


def list_legacy_properties(ctx: RequestContext) -> list[dict[str, Any]]:
    """`GET /properties/v2/{objectType}/properties`: a bare array of legacy property objects.

    The same live definitions as `/crm/v3/properties/{objectType}`, in the same order. The legacy
    APIs predate custom objects: a custom type is a name they cannot infer.
    """
    ref = ctx.params["objectType"]
    object_type = ctx.object_type()
    if object_type.custom:
        raise ApiError(400, error_body(f"Unable to infer object type from: {ref}", "VALIDATION_ERROR"))
    return [legacy_property(prop) for prop in ctx.account.property_definitions(object_type.type_id)]


def legacy_v1_properties(type_name: str) -> Any:
    """`GET /properties/v1/{contacts|companies|deals}/properties` (the type is fixed by the route)."""

    def handler(ctx: RequestContext) -> list[dict[str, Any]]:
        type_id = ctx.sandbox.resolve_type(type_name).type_id
        return [legacy_property(prop) for prop in ctx.account.property_definitions(type_id)]

    return handler


def _epoch_ms(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def legacy_property(prop: dict[str, Any]) -> dict[str, Any]:
    """A v3 Property dict in the legacy (v1/v2) shape: epoch-ms timestamps, flat read-only flags."""
    meta = prop["modificationMetadata"]
    user = prop.get("createdUserId")
    out: dict[str, Any] = {
        "name": prop["name"],
        "label": prop["label"],
        "description": prop["description"],
        "groupName": prop["groupName"],
        "type": prop["type"],
        "fieldType": prop["fieldType"],
        "options": [
            {
                "label": option["label"],
                "value": option["value"],
                "displayOrder": option["displayOrder"],
                "hidden": option["hidden"],
                "description": option["description"],
                "readOnly": False,
            }
            for option in prop["options"]
        ],
        "displayOrder": prop["displayOrder"],
        "calculated": prop["calculated"],
        "externalOptions": prop["externalOptions"],
        "hasUniqueValue": prop["hasUniqueValue"],
        "hidden": prop["hidden"],
        "hubspotDefined": prop["hubspotDefined"],
        "formField": prop["formField"],
        "readOnlyValue": meta["readOnlyValue"],
        "readOnlyDefinition": meta["readOnlyDefinition"],
        "mutableDefinitionNotDeletable": prop["hubspotDefined"],
        "favorited": False,
        "favoritedOrder": -1,
        "displayMode": "current_value",
        "deleted": False,
        "createdAt": _epoch_ms(prop.get("createdAt")),
        "updatedAt": _epoch_ms(prop.get("updatedAt")),
        "createdUserId": None if user is None else int(user),
        "updatedUserId": None if prop.get("updatedUserId") is None else int(prop["updatedUserId"]),
    }
    for key in ("showCurrencySymbol", "numberDisplayHint", "referencedObjectType"):
        if key in prop:
            out[key] = prop[key]
    return out


# -- standard types the account does not model -----------------------------------------------------

# (name, label, kind): what every HubSpot object type carries before anyone adds a property.
_SYSTEM_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("hs_object_id", "Record ID", "object_id"),
    ("hs_createdate", "Create date", "createdate"),
    ("hs_lastmodifieddate", "Last modified date", "lastmodified"),
    ("hs_merged_object_ids", "Merged record IDs", "merged_ids"),
    ("hs_created_by_user_id", "Created by user ID", "int"),
    ("hs_updated_by_user_id", "Updated by user ID", "int"),
    ("hs_object_source", "Record source", "text"),
    ("hs_object_source_id", "Record source ID", "text"),
    ("hs_object_source_label", "Record source label", "text"),
)


def unmodelled_property_definitions(ctx: RequestContext, known: KnownType) -> list[dict[str, Any]]:
    """The definitions of a type the account has but holds no custom properties or records of:
    HubSpot's system properties only, dated at the account's creation, all read-only."""
    created_ms = ctx.account.first_ms - 60 * DAY_MS  # when the model's portal was created
    out = []
    for order, (name, label, kind) in enumerate(_SYSTEM_PROPERTIES):
        spec = make_spec(known.type_id or known.name, Prop(name, label, kind, 0.0, f"{known.singular}information"),
                         order, created_ms)  # fmt: skip
        prop = property_dict(spec)
        prop["formField"] = False
        prop["modificationMetadata"] = {**prop["modificationMetadata"], "readOnlyValue": True}
        out.append(prop)
    return out


def unmodelled_properties(known: KnownType) -> Any:
    """`GET /crm/v3/properties/{objectType}` for one unmodelled standard type."""

    def handler(ctx: RequestContext) -> dict[str, Any]:
        if ctx.arg_bool("archived"):
            return {"results": []}
        return {"results": unmodelled_property_definitions(ctx, known)}

    return handler


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
