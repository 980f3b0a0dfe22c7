"""Record serialisation shared by the object endpoints (list, read, batch read, search)."""

from __future__ import annotations

import re
from functools import lru_cache
from json.encoder import encode_basestring as _json_str  # what the encoder itself uses for strings
from typing import TYPE_CHECKING, Any

from hubspot_sandbox.model.timefmt import iso_ms
from hubspot_sandbox.model.types import History, Source, source_dict
from hubspot_sandbox.responses import RawJson, json_text

if TYPE_CHECKING:
    from hubspot_sandbox.context import RequestContext
    from hubspot_sandbox.model import ObjectType, RecordView


def requested_properties(object_type: ObjectType, names: list[str] | None) -> list[str] | None:
    """The property names to return: None (the type's default set) when none were asked for.

    HubSpot always adds the create date, the id and the modified date to an explicit list.
    """
    if not names:
        return None
    modified = "lastmodifieddate" if object_type.type_id == "0-1" else "hs_lastmodifieddate"
    return list(dict.fromkeys([*names, "createdate", "hs_object_id", modified]))


def records_json(texts: list[str]) -> RawJson:
    """A JSON array of records already encoded by `record_text`."""
    return RawJson(b"[" + b",".join([text.encode("utf-8") for text in texts]) + b"]")


def record_text(
    view: RecordView,
    *,
    with_history: bool = False,
    associations: dict[str, Any] | None = None,
) -> str:
    """A SimplePublicObject(WithAssociations) as JSON text: `id` a string, property values strings or null.

    Written directly rather than through dicts: a batch read with every property's history holds
    thousands of history entries, whose source part is encoded once per distinct source.
    """
    parts = ['{"id":"', str(view.id), '","properties":', json_text(view.properties)]
    if with_history:
        parts += [',"propertiesWithHistory":', _history_text(view.entries)]
    if associations:
        parts += [',"associations":', json_text(associations)]
    parts += [',"createdAt":"', iso_ms(view.created_ms), '","updatedAt":"', iso_ms(view.updated_ms)]
    parts.append('","archived":true' if view.archived else '","archived":false')
    if view.archived_ms is not None:
        parts += [',"archivedAt":"', iso_ms(view.archived_ms), '"']
    parts.append("}")
    return "".join(parts)


def _history_text(entries: dict[str, History]) -> str:
    """`{name: [entry, ...]}`, each entry as `history_dict` gives it, encoded."""
    # Most properties of most records were never set: their member is just `"name":[]`.
    members = [
        f"{_member_head(name)}{_entries_text(found) if found else ''}]" for name, found in entries.items()
    ]
    return "{" + ",".join(members) + "}"


def _entries_text(found: History) -> str:
    return ",".join(
        [
            f'{{"value":{_json_str(v)},"timestamp":"{iso_ms(ts)}",{_SOURCE_TEXT.get(s) or _source_text(s)}'
            for v, ts, s in found
        ]
    )


@lru_cache(maxsize=4096)
def _member_head(name: str) -> str:
    """`"name":[`, encoded once per property name."""
    return _json_str(name) + ":["


_SOURCE_TEXT: dict[Source, str] = {}


def _source_text(source: Source) -> str:
    """The tail of an encoded history entry, `"sourceType":...}`, kept: a handful of sources exist."""
    _SOURCE_TEXT[source] = json_text(source_dict(source))[1:]
    return _SOURCE_TEXT[source]


def v3_type_names(labels: list[dict], from_type: ObjectType, to_type: ObjectType) -> dict[int, str]:
    """typeId -> v3 association type name: the primary type is `contact_to_company`, the plain one
    beside it `contact_to_company_unlabeled` (plain `contact_to_deal` where the pair has no primary),
    any other label its snake-cased text (the v3 object reads and the v3 association batch read)."""
    base = f"{from_type.singular}_to_{to_type.singular}"
    has_primary = any((label.get("label") or "").lower() == "primary" for label in labels)
    names: dict[int, str] = {}
    for label in labels:
        text = label.get("label")
        if text is None:
            names[label["typeId"]] = f"{base}_unlabeled" if has_primary else base
        else:
            names[label["typeId"]] = base if text.lower() == "primary" else _snake(text)
    return names


def _snake(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


INLINE_ASSOCIATIONS_MAX = 100  # associated ids per type inlined in a v3 object read; `paging` beyond


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
            if to_type is None or not ctx.sandbox.is_activated(to_type.type_id):
                continue  # unknown (and deactivated) types are ignored silently, as HubSpot does
            self._targets.append((to_type, self._type_names(to_type)))

    def _type_names(self, to_type: ObjectType) -> dict[int, str]:
        return v3_type_names(
            self._ctx.account.association_labels(self._from.type_id, to_type.type_id), self._from, to_type
        )

    def of(self, record_ids: list[int]) -> list[dict[str, Any] | None]:
        """The `associations` member of each record (None when none was asked for), looked up together."""
        if not self._targets:
            return [None] * len(record_ids)
        out: list[dict[str, Any]] = [{} for _ in record_ids]
        for to_type, names in self._targets:
            fallback = f"{self._from.singular}_to_{to_type.singular}"
            found = self._ctx.account.associations_of(self._from.type_id, record_ids, to_type.type_id)
            for record_id, members, pairs in zip(record_ids, out, found, strict=True):
                rows = [
                    {"id": str(to_id), "type": names.get(kind["typeId"], fallback)}
                    for to_id, kinds in pairs[:INLINE_ASSOCIATIONS_MAX]
                    for kind in kinds
                ]
                if not rows:
                    continue
                members[to_type.name] = {"results": rows}
                if len(pairs) > INLINE_ASSOCIATIONS_MAX:
                    members[to_type.name]["paging"] = self._next(record_id, to_type, pairs)
        return list(out)

    def _next(self, record_id: int, to_type: ObjectType, pairs: list[tuple[int, list[dict]]]) -> dict:
        """`paging` of a truncated association list: the rest is on the v4 per-record endpoint, whose
        cursor is the next `toObjectId`."""
        after = str(pairs[INLINE_ASSOCIATIONS_MAX][0])
        path = f"/crm/v4/objects/{self._from.name}/{record_id}/associations/{to_type.name}"
        return {"next": {"after": after, "link": f"{self._ctx.origin}{path}?after={after}"}}
