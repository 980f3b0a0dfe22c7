"""Legacy record lists (deals v1, companies v2, contacts v1, engagements v1): paged and recently modified.

Served from the same records, values and history as the v3 endpoints. Legacy answers carry
timestamps as epoch milliseconds, and so do the values of `datetime` and `date` properties (v3
gives ISO text for those). The `versions` of a property are its v3 history, newest first: all of
it with `propertiesWithHistory` / `propertyMode=value_and_history` / `includePropertyVersions`,
else only the newest entry. Properties that were never set are left out, as HubSpot does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hubspot_sandbox.auth import object_read_scopes
from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import cursor
from hubspot_sandbox.errors import validation_error
from hubspot_sandbox.model.timefmt import DAY_MS, parse_time_ms
from hubspot_sandbox.model.types import ENGAGEMENT_TYPES, Entry

if TYPE_CHECKING:
    from hubspot_sandbox.model import RecordView
    from hubspot_sandbox.model.properties import PropSpec
    from hubspot_sandbox.routes import Route

PAGED_DEFAULT = 100  # deals, companies and engagements `/paged`: limit default 100, max 250
PAGED_MAX = 250
RECENT_DEFAULT = 20  # the recent endpoints: count default 20, max 100
RECENT_MAX = 100
RECENT_WINDOW_MS = 30 * DAY_MS  # records modified in the last 30 days ...
RECENT_MAX_RECORDS = 10_000  # ... and at most the 10k most recently modified
CONTACTS_DEFAULT = 20
CONTACTS_MAX = 100
# What `/contacts/v1/lists/all/contacts/all` returns when no `property` is asked for.
CONTACT_DEFAULT_PROPERTIES = ("firstname", "lastmodifieddate", "company", "lastname")
ENGAGEMENT_NAMES = {"0-27": "TASK", "0-46": "NOTE", "0-47": "MEETING", "0-48": "CALL", "0-49": "EMAIL"}
BODY_PREVIEW_CHARS = 200


def routes(route: Callable[..., Route]) -> list[Route]:
    """This module's routes, built with `route` (`routes.Route`, passed in: this module must not import routes)."""
    deals, companies, contacts = _scope("0-3"), _scope("0-2"), _scope("0-1")
    return [
        route("GET", "/deals/v1/deal/paged", deals_paged, deals),
        route("GET", "/deals/v1/deal/recent/modified", deals_recent, deals),
        route("GET", "/companies/v2/companies/paged", companies_paged, companies),
        route("GET", "/companies/v2/companies/recent/modified", companies_recent, companies),
        route("GET", "/contacts/v1/lists/all/contacts/all", contacts_all, contacts),
        route("GET", "/contacts/v1/lists/recently_updated/contacts/recent", contacts_recent, contacts),
        # Engagements: the scope of the v3 activity objects (tasks, notes, ...), contacts read.
        route("GET", "/engagements/v1/engagements/paged", engagements_paged, _scope("0-27")),
        route("GET", "/engagements/v1/engagements/recent/modified", engagements_recent, _scope("0-27")),
    ]


def _scope(type_id: str) -> Callable[[RequestContext], frozenset[str]]:
    """The scopes of the v3 sibling (`GET /crm/v3/objects/<type>`)."""
    return lambda ctx: object_read_scopes(ctx.account.tables[type_id].otype)


# -- deals and companies -----------------------------------------------------------------------


def deals_paged(ctx: RequestContext) -> dict[str, Any]:
    limit = ctx.arg_int("limit", PAGED_DEFAULT, PAGED_MAX, minimum=1)
    ids, more = _ids_after(ctx, "0-3", ctx.arg("offset"), limit)
    names, history = _asked(ctx)
    deals = _objects(ctx, "0-3", ids, names, history, ctx.arg_bool("includeAssociations"))
    return {"deals": deals, "hasMore": more, "offset": ids[-1] if ids else _offset(ctx)}


def companies_paged(ctx: RequestContext) -> dict[str, Any]:
    limit = ctx.arg_int("limit", PAGED_DEFAULT, PAGED_MAX, minimum=1)
    ids, more = _ids_after(ctx, "0-2", ctx.arg("offset"), limit)
    names, history = _asked(ctx)
    companies = _objects(ctx, "0-2", ids, names, history, False)
    return {"companies": companies, "has-more": more, "offset": ids[-1] if ids else _offset(ctx)}


def deals_recent(ctx: RequestContext) -> dict[str, Any]:
    return _recent_objects(ctx, "0-3", associations=True)


def companies_recent(ctx: RequestContext) -> dict[str, Any]:
    return _recent_objects(ctx, "0-2", associations=False)


def _recent_objects(ctx: RequestContext, type_id: str, associations: bool) -> dict[str, Any]:
    """Every live property of the window's records, newest modification first; `offset` is a position."""
    count = _count(ctx)
    start = cursor("offset", ctx.arg("offset") or 0)
    window = _recent_window(ctx, [type_id], _since(ctx))
    page = window[start : start + count]
    names = list(ctx.account.tables[type_id].registry.live)
    history = names if ctx.arg_bool("includePropertyVersions") else []
    results = _objects(ctx, type_id, [record_id for _, record_id, _ in page], names, history, associations)
    end = start + len(page)
    return {"results": results, "hasMore": end < len(window), "offset": end, "total": len(window)}


def _objects(
    ctx: RequestContext,
    type_id: str,
    ids: list[int],
    names: list[str],
    history: list[str],
    associations: bool,
) -> list[dict[str, Any]]:
    """Deals (v1) or companies (v2) as the legacy APIs shape them."""
    views = _views(ctx, type_id, ids, [*names, *history])
    with_history = set(history)
    linked = _deal_associations(ctx, ids) if associations else [None] * len(views)
    portal = ctx.account.portal_id
    out = []
    for view, links in zip(views, linked, strict=True):
        properties = _legacy_properties(ctx, type_id, view, with_history)
        if type_id == "0-3":
            deal: dict[str, Any] = {"portalId": portal, "dealId": view.id, "isDeleted": view.archived}
            if links is not None:
                deal["associations"] = links
            deal.update(properties=properties, imports=[], stateChanges=[])
            out.append(deal)
        else:
            out.append(
                {
                    "portalId": portal,
                    "companyId": view.id,
                    "isDeleted": view.archived,
                    "properties": properties,
                    "additionalDomains": [],
                    "stateChanges": [],
                    "mergeAudits": [],
                }
            )
    return out


def _legacy_properties(
    ctx: RequestContext, type_id: str, view: RecordView, with_history: set[str]
) -> dict[str, Any]:
    specs = ctx.account.tables[type_id].registry.live
    out: dict[str, Any] = {}
    for name, found in view.entries.items():
        if not found:
            continue
        spec = specs[name]
        value, ts, (stype, sid, _label, _user) = found[0]
        kept = found if name in with_history else found[:1]
        out[name] = {
            "value": _value(spec, value),
            "timestamp": ts,
            "source": stype,
            "sourceId": sid,
            "versions": [
                {
                    "name": name,
                    "value": _value(spec, v),
                    "timestamp": t,
                    "source": s[0],
                    "sourceId": s[1],
                    "sourceVid": [],
                }
                for v, t, s in kept
            ],
        }
    return out


def _deal_associations(ctx: RequestContext, ids: list[int]) -> list[dict[str, list[int]]]:
    """The `associations` member of legacy deals, every page's ids looked up together per type."""
    members = {
        "associatedVids": "0-1",
        "associatedCompanyIds": "0-2",
        "associatedDealIds": "0-3",
        "associatedTicketIds": "0-5",
    }
    found = {key: ctx.account.associations_of("0-3", ids, to) for key, to in members.items()}
    return [{key: [to_id for to_id, _ in found[key][k]] for key in members} for k in range(len(ids))]


# -- contacts ----------------------------------------------------------------------------------


def contacts_all(ctx: RequestContext) -> dict[str, Any]:
    count = ctx.arg_int("count", CONTACTS_DEFAULT, CONTACTS_MAX, minimum=1)
    vid_offset = ctx.arg("vidOffset")
    ids, more = _ids_after(ctx, "0-1", vid_offset, count)
    contacts = _contacts(ctx, ids)
    last = ids[-1] if ids else cursor("vidOffset", vid_offset or 0)
    return {"contacts": contacts, "has-more": more, "vid-offset": last}


def contacts_recent(ctx: RequestContext) -> dict[str, Any]:
    """Newest modification first; the next page holds what sorts after (`timeOffset`, `vidOffset`)."""
    count = ctx.arg_int("count", CONTACTS_DEFAULT, CONTACTS_MAX, minimum=1)
    window = _recent_window(ctx, ["0-1"], None, cap=None)
    time_offset, vid_offset = ctx.arg("timeOffset"), ctx.arg("vidOffset")
    if time_offset:
        key = (cursor("timeOffset", time_offset), cursor("vidOffset", vid_offset or 0))
        window = [row for row in window if (row[0], row[1]) < key]
    page = window[:count]
    contacts = _contacts(ctx, [record_id for _, record_id, _ in page])
    answer: dict[str, Any] = {"contacts": contacts, "has-more": len(window) > count}
    answer["vid-offset"] = page[-1][1] if page else cursor("vidOffset", vid_offset or 0)
    answer["time-offset"] = page[-1][0] if page else cursor("timeOffset", time_offset or 0)
    return answer


def _contacts(ctx: RequestContext, ids: list[int]) -> list[dict[str, Any]]:
    mode = ctx.arg("propertyMode") or "value_only"
    if mode not in ("value_only", "value_and_history"):
        raise validation_error(
            f"propertyMode must be value_only or value_and_history, but was {mode!r}", propertyMode=[mode]
        )
    names = ctx.arg_list("property") or list(CONTACT_DEFAULT_PROPERTIES)
    views = _views(ctx, "0-1", ids, [*names, "email"])
    specs = ctx.account.tables["0-1"].registry.live
    portal = ctx.account.portal_id
    asked = set(names)
    out = []
    for view in views:
        properties: dict[str, Any] = {}
        for name, found in view.entries.items():
            if not found or name not in asked:
                continue
            spec = specs[name]
            member: dict[str, Any] = {"value": _value(spec, found[0][0])}
            if mode == "value_and_history":
                member["versions"] = [_contact_version(spec, entry) for entry in found]
            properties[name] = member
        email = view.entries.get("email")
        identities = []
        if email and email[0][0]:
            identities.append({"type": "EMAIL", "value": email[0][0], "timestamp": email[0][1]})
        out.append(
            {
                "addedAt": view.created_ms,
                "vid": view.id,
                "canonical-vid": view.id,
                "merged-vids": [],
                "portal-id": portal,
                "is-contact": True,
                "properties": properties,
                "form-submissions": [],
                "identity-profiles": [
                    {
                        "vid": view.id,
                        "saved-at-timestamp": view.created_ms,
                        "deleted-changed-timestamp": 0,
                        "identities": identities,
                    }
                ],
                "merge-audits": [],
            }
        )
    return out


def _contact_version(spec: PropSpec, entry: Entry) -> dict[str, Any]:
    value, ts, (stype, sid, label, user) = entry
    version: dict[str, Any] = {
        "value": _value(spec, value),
        "source-type": stype,
        "source-id": sid,
        "source-label": label,
    }
    if user is not None:
        version["updated-by-user-id"] = user
    version.update(timestamp=ts, selected=False)
    return version


# -- engagements -------------------------------------------------------------------------------

# The v3 properties each engagement type's legacy `metadata` is made of.
_ENGAGEMENT_PROPS: dict[str, tuple[str, ...]] = {
    "0-27": ("hs_task_body", "hs_task_subject", "hs_task_status", "hs_task_priority", "hs_task_type"),
    "0-46": ("hs_note_body", "hs_attachment_ids"),
    "0-47": ("hs_meeting_body", "hs_meeting_title", "hs_meeting_start_time", "hs_meeting_end_time",
             "hs_meeting_location", "hs_meeting_outcome"),
    "0-48": ("hs_call_body", "hs_call_title", "hs_call_duration", "hs_call_direction", "hs_call_status",
             "hs_call_to_number", "hs_call_from_number"),
    "0-49": ("hs_email_subject", "hs_email_text", "hs_email_direction", "hs_email_status",
             "hs_email_sender_email", "hs_email_to_email"),
}  # fmt: skip
_BODY = {"0-27": "hs_task_body", "0-46": "hs_note_body", "0-47": "hs_meeting_body", "0-48": "hs_call_body",
         "0-49": "hs_email_text"}  # fmt: skip


def engagements_paged(ctx: RequestContext) -> dict[str, Any]:
    """Every engagement type together by ascending id (their id ranges do not overlap); `offset` is the
    last id returned."""
    limit = ctx.arg_int("limit", PAGED_DEFAULT, PAGED_MAX, minimum=1)
    raw = ctx.arg("offset")
    after = cursor("offset", raw) if raw else None
    rows: list[tuple[int, str]] = []
    for type_id in sorted(ENGAGEMENT_TYPES, key=lambda t: int(ctx.account.tables[t].ids[0])):
        if len(rows) > limit:
            break
        found = ctx.account.record_ids(type_id, archived=False, after=after, limit=limit + 1 - len(rows))
        rows += [(record_id, type_id) for record_id in found]
    rows.sort()
    page = rows[:limit]
    results = _engagements(ctx, page)
    return {"results": results, "hasMore": len(rows) > limit, "offset": page[-1][0] if page else _offset(ctx)}


def engagements_recent(ctx: RequestContext) -> dict[str, Any]:
    count = _count(ctx)
    start = cursor("offset", ctx.arg("offset") or 0)
    window = _recent_window(ctx, list(ENGAGEMENT_TYPES), _since(ctx))
    page = window[start : start + count]
    results = _engagements(ctx, [(record_id, type_id) for _, record_id, type_id in page])
    end = start + len(page)
    return {"results": results, "hasMore": end < len(window), "offset": end, "total": len(window)}


def _engagements(ctx: RequestContext, rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Legacy engagement objects of (id, type id) rows, in order; each type's records read together."""
    account = ctx.account
    built: dict[int, dict[str, Any]] = {}
    for type_id in ENGAGEMENT_TYPES:
        ids = [record_id for record_id, t in rows if t == type_id]
        if not ids:
            continue
        live = account.tables[type_id].registry.live
        names = [n for n in ("hs_timestamp", "hubspot_owner_id", *_ENGAGEMENT_PROPS[type_id]) if n in live]
        views = account.records(type_id, ids, names)
        links = {
            key: account.associations_of(type_id, ids, to)
            for key, to in (("contactIds", "0-1"), ("companyIds", "0-2"), ("dealIds", "0-3"), ("ticketIds", "0-5"))
        }  # fmt: skip
        for k, view in enumerate(views):
            if view is None:
                continue
            p = view.properties
            engagement: dict[str, Any] = {
                "id": view.id,
                "portalId": account.portal_id,
                "active": not view.archived,
                "createdAt": view.created_ms,
                "lastUpdated": view.updated_ms,
                "type": ENGAGEMENT_NAMES[type_id],
                "timestamp": _ms(p.get("hs_timestamp")) or view.created_ms,
            }
            owner = p.get("hubspot_owner_id")
            if owner and owner.isdigit():
                engagement["ownerId"] = int(owner)
            body = p.get(_BODY[type_id])
            if body:
                engagement["bodyPreview"] = body[:BODY_PREVIEW_CHARS]
                engagement["bodyPreviewIsTruncated"] = len(body) > BODY_PREVIEW_CHARS
            built[view.id] = {
                "engagement": engagement,
                "associations": {
                    "contactIds": [i for i, _ in links["contactIds"][k]],
                    "companyIds": [i for i, _ in links["companyIds"][k]],
                    "dealIds": [i for i, _ in links["dealIds"][k]],
                    "ownerIds": [],
                    "workflowIds": [],
                    "ticketIds": [i for i, _ in links["ticketIds"][k]],
                },
                "attachments": _attachments(p.get("hs_attachment_ids")),
                "metadata": _metadata(type_id, p),
            }
    return [built[record_id] for record_id, _ in rows if record_id in built]


def _metadata(type_id: str, p: dict[str, str | None]) -> dict[str, Any]:
    """The type-specific `metadata` of a legacy engagement, from the record's v3 properties."""
    if type_id == "0-27":
        return {
            "body": p.get("hs_task_body"),
            "subject": p.get("hs_task_subject"),
            "status": p.get("hs_task_status"),
            "forObjectType": "CONTACT",
            "taskType": p.get("hs_task_type"),
            "priority": p.get("hs_task_priority"),
        }
    if type_id == "0-46":
        return {"body": p.get("hs_note_body")}
    if type_id == "0-47":
        return {
            "body": p.get("hs_meeting_body"),
            "startTime": _ms(p.get("hs_meeting_start_time")),
            "endTime": _ms(p.get("hs_meeting_end_time")),
            "title": p.get("hs_meeting_title"),
            "location": p.get("hs_meeting_location"),
            "meetingOutcome": p.get("hs_meeting_outcome"),
        }
    if type_id == "0-48":
        duration = p.get("hs_call_duration")
        return {
            "toNumber": p.get("hs_call_to_number"),
            "fromNumber": p.get("hs_call_from_number"),
            "status": p.get("hs_call_status"),
            "durationMilliseconds": _int(duration),
            "body": p.get("hs_call_body"),
            "title": p.get("hs_call_title"),
            "callDirection": p.get("hs_call_direction"),
        }
    to_email = p.get("hs_email_to_email")
    return {
        "from": {"email": p.get("hs_email_sender_email")},
        "to": [{"email": address} for address in (to_email or "").split(";") if address],
        "cc": [],
        "bcc": [],
        "subject": p.get("hs_email_subject"),
        "text": p.get("hs_email_text"),
        "status": p.get("hs_email_status"),
        "direction": p.get("hs_email_direction"),
    }


def _attachments(value: str | None) -> list[dict[str, int]]:
    return [{"id": int(part)} for part in (value or "").split(";") if part.isdigit()]


# -- shared ------------------------------------------------------------------------------------


def _asked(ctx: RequestContext) -> tuple[list[str], list[str]]:
    """(`properties`, `propertiesWithHistory`) of a deals/companies request; repeated or comma-separated."""
    return ctx.arg_list("properties") or [], ctx.arg_list("propertiesWithHistory") or []


def _views(ctx: RequestContext, type_id: str, ids: list[int], names: list[str]) -> list[RecordView]:
    """The records with the history of every asked property (a legacy value carries its timestamp
    and source, which only the history holds)."""
    names = list(dict.fromkeys(names))
    return [view for view in ctx.account.records(type_id, ids, names, names) if view is not None]


def _ids_after(ctx: RequestContext, type_id: str, raw: str | None, limit: int) -> tuple[list[int], bool]:
    """Up to `limit` live ids above the offset (the last id of the previous page), and whether more remain."""
    name = "vidOffset" if type_id == "0-1" else "offset"
    after = cursor(name, raw) if raw else None
    ids = ctx.account.record_ids(type_id, archived=False, after=after, limit=limit + 1)
    return ids[:limit], len(ids) > limit


def _offset(ctx: RequestContext) -> int:
    raw = ctx.arg("offset")
    return cursor("offset", raw) if raw else 0


def _count(ctx: RequestContext) -> int:
    """`count` of the recent endpoints (companies' docs also name it `limit`: both are accepted)."""
    name = "count" if ctx.arg("count") is not None or ctx.arg("limit") is None else "limit"
    return ctx.arg_int(name, RECENT_DEFAULT, RECENT_MAX, minimum=1)


def _since(ctx: RequestContext) -> int | None:
    raw = ctx.arg("since")
    return cursor("since", raw) if raw else None


def _recent_window(
    ctx: RequestContext, type_ids: list[str], since: int | None, cap: int | None = RECENT_MAX_RECORDS
) -> list[tuple[int, int, str]]:
    """(updatedAt ms, id, type id) of live records modified in the last 30 days (and at or after
    `since`), newest first (ties: higher id first), at most `cap` of them. Column work only."""
    floor = ctx.account.now_ms - RECENT_WINDOW_MS
    if since is not None:
        floor = max(floor, since)
    parts = []
    for type_id in type_ids:
        table = ctx.account.tables[type_id]
        hit = np.flatnonzero((table.archived == 0) & (table.updated >= floor))
        parts += [
            (ts, record_id, type_id)
            for ts, record_id in zip(table.updated[hit].tolist(), table.ids[hit].tolist(), strict=True)
        ]
    parts.sort(reverse=True)
    return parts if cap is None else parts[:cap]


def _value(spec: PropSpec, value: str) -> str:
    """A v3 value as the legacy APIs write it: dates and datetimes as epoch milliseconds."""
    if value and spec.type in ("datetime", "date"):
        try:
            return str(parse_time_ms(value))
        except ValueError:
            return value
    return value


def _ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return parse_time_ms(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None
