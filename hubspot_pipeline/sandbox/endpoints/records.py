"""Record serialisation shared by the object endpoints (list, read, batch read, search)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hubspot_pipeline.sandbox.responses import iso_from_ms

if TYPE_CHECKING:
    from hubspot_pipeline.sandbox.context import RequestContext
    from hubspot_pipeline.sandbox.model import ObjectType, RecordView


def requested_properties(object_type: ObjectType, names: list[str] | None) -> list[str] | None:
    """The property names to return: None (the type's default set) when none were asked for.

    HubSpot always adds the create date, the id and the modified date to an explicit list.
    """
    if not names:
        return None
    modified = "lastmodifieddate" if object_type.type_id == "0-1" else "hs_lastmodifieddate"
    return list(dict.fromkeys([*names, "createdate", "hs_object_id", modified]))


def record_json(
    view: RecordView,
    *,
    with_history: bool = False,
    associations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SimplePublicObject(WithAssociations): `id` a string, property values strings or null."""
    body: dict[str, Any] = {"id": str(view.id), "properties": view.properties}
    if with_history:
        body["propertiesWithHistory"] = view.history
    if associations:
        body["associations"] = associations
    body["createdAt"] = iso_from_ms(view.created_ms)
    body["updatedAt"] = iso_from_ms(view.updated_ms)
    body["archived"] = view.archived
    if view.archived_ms is not None:
        body["archivedAt"] = iso_from_ms(view.archived_ms)
    return body


def _snake(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


class V3Associations:
    """The `associations` parameter of the v3 object reads: associated ids with v3 type names.

    HubSpot names a pair's primary type `contact_to_company` and its plain one
    `contact_to_company_unlabeled`; custom labels appear under their own snake-cased name.
    """

    def __init__(self, ctx: RequestContext, from_type: ObjectType, refs: list[str] | None) -> None:
        self._ctx = ctx
        self._from = from_type
        self._targets: list[tuple[ObjectType, dict[int, str]]] = []
        for ref in dict.fromkeys(refs or []):
            to_type = ctx.account.resolve_type(ref)
            if to_type is None:
                continue  # unknown types are ignored silently, as HubSpot does
            self._targets.append((to_type, self._type_names(to_type)))

    def _type_names(self, to_type: ObjectType) -> dict[int, str]:
        labels = self._ctx.account.association_labels(self._from.type_id, to_type.type_id)
        base = f"{self._from.singular}_to_{to_type.singular}"
        has_primary = any((label.get("label") or "").lower() == "primary" for label in labels)
        names: dict[int, str] = {}
        for label in labels:
            text = label.get("label")
            if text is None:
                names[label["typeId"]] = f"{base}_unlabeled" if has_primary else base
            else:
                names[label["typeId"]] = base if text.lower() == "primary" else _snake(text)
        return names

    def of(self, record_id: int) -> dict[str, Any] | None:
        if not self._targets:
            return None
        out: dict[str, Any] = {}
        for to_type, names in self._targets:
            rows = [
                {
                    "id": str(to_id),
                    "type": names.get(kind["typeId"], f"{self._from.singular}_to_{to_type.singular}"),
                }
                for to_id, kinds in self._ctx.account.associations(
                    self._from.type_id, record_id, to_type.type_id
                )
                for kind in kinds
            ]
            if rows:
                out[to_type.name] = {"results": rows}
        return out
