"""Which object types this account and token can sync, and why the others cannot.

One snapshot source (`type_access`, read every day: 1 + T calls for T candidate types) answers it for
every candidate type (HubSpot's standard types and the account's custom objects):

1. `GET /crm/v3/object-library/enablement`: the activatable types (appointments, courses, listings,
   services) with whether the account activated them (HubSpot's object library docs:
   https://developers.hubspot.com/docs/api-reference/crm-object-library-v3/guide). A deactivated one is
   NOT_ACTIVATED and is not asked further. An account or token the endpoint refuses leaves every type to
   step 2.
2. A one-record read, `GET /crm/v3/objects/{type}?limit=1`: the call the sync's listing makes, so it needs
   exactly the scope the sync needs (the properties API also accepts a schema scope, which cannot read
   records). A 403 MISSING_SCOPES makes the type MISSING_SCOPES with the scopes HubSpot names (or the
   type's documented read scope); another 400/403/404 makes it NOT_AVAILABLE with HubSpot's message.
3. The export's other types (`sync.other_types`: marketing emails, campaigns, pages, blog posts, forms,
   sequences, deal splits) the same way, each with one read of its own API (deal splits: two, a deal's id
   first); the ones no private app can read (ads, media bridge, sales documents) are NOT_AVAILABLE
   without a call. About 10 calls a day.

Unavailable types are not synced and do not fail the run: SYNC_HEALTH and SYNC_ISSUES give a row per
type with the reason, and every CRM table's manifest notes them. Being daily, a scope removed (or a type
deactivated) leaves its types out from that day on instead of failing the sync, and a scope added brings
them in the next day (the properties snapshot's basis is the readable types, so they are read at once).
A day's tables read the `type_access` snapshot of the day their `properties` snapshot was taken, never
fetch one (a day exported before this source existed reports no unavailable type).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.hubspot import (
    HubSpotClient,
    HubSpotRequestError,
    HubSpotScopeError,
    HubSpotTransientError,
)
from hubspot_pipeline.sync.object_types import CUSTOM_READ_SCOPE, STANDARD_OBJECT_TYPES, ObjectTypeInfo
from hubspot_pipeline.sync.other_types import (
    LISTING,
    OTHER_TYPES,
    PER_DEAL,
    PER_FORM,
    PER_USER,
    UNREACHABLE_TYPES,
    OtherType,
)

ENABLEMENT_PATH = "/crm/v3/object-library/enablement"

# What the private app needs beyond the object read scopes: custom object schemas, owners, lists, users
# and teams, event definitions, and `oauth` (account details and events, hubspot-api.md §10.1).
DEFINITION_SCOPES: tuple[str, ...] = (
    "crm.schemas.custom.read",
    "crm.objects.owners.read",
    "crm.lists.read",
    "settings.users.read",
    "settings.users.teams.read",
    "behavioral_events.event_definitions.read_write",
    "oauth",
)


def required_scopes() -> list[str]:
    """Every scope a whole-account export needs (the README's list): each standard type's read scope,
    custom objects', and the definition scopes. A scope left out only leaves its types unsynced."""
    objects = [t.read_scope for t in (*STANDARD_OBJECT_TYPES, *(o.info for o in OTHER_TYPES)) if t.read_scope]
    return sorted({*objects, CUSTOM_READ_SCOPE, *DEFINITION_SCOPES})


NOT_ACTIVATED = "NOT_ACTIVATED"
MISSING_SCOPES = "MISSING_SCOPES"
NOT_AVAILABLE = "NOT_AVAILABLE"


@dataclass(frozen=True)
class Unavailable:
    """Why one object type is not synced: a category, a message and, for MISSING_SCOPES, the scopes."""

    category: str
    message: str
    scopes: tuple[str, ...] = ()

    @property
    def how_to_fix(self) -> str:
        if self.category == NOT_ACTIVATED:
            return "activate the object in HubSpot (Settings → Objects) if the account uses it; it syncs from the next refresh"
        if self.category == MISSING_SCOPES:
            return (
                f"add {' or '.join(self.scopes)} to the private app's scopes and update HUBSPOT_ACCESS_TOKEN; "
                "it syncs from the next refresh"
            )
        return "HubSpot does not serve this type to the token; it is skipped until it does"

    def to_json(self) -> dict[str, object]:
        return {"category": self.category, "message": self.message, "scopes": list(self.scopes)}


def fetch_type_access(
    client: HubSpotClient, candidates: Sequence[ObjectTypeInfo], users: Sequence[str] = ()
) -> dict[str, dict[str, object]]:
    """The snapshot data: `{"enablement": {type id: bool}, "unavailable": {type id: Unavailable json}}`,
    for the objects API's candidate types, then the export's other types (`sync.other_types`): each
    probed with one read of its own API (sequences need a user id of `users`; deal splits a deal's id),
    form submissions by the forms probe (same API family and scope), and the unreachable ones without a
    call."""
    enablement = _enablement(client) if any(t.activatable for t in candidates) else {}
    unavailable: dict[str, object] = {}
    for info in candidates:
        reason = _reason(client, info, enablement)
        if reason is not None:
            unavailable[info.type_id] = reason.to_json()
    for spec in OTHER_TYPES:
        if spec.read == PER_FORM:
            forms = unavailable.get("0-28")
            if forms is not None:
                unavailable[spec.type_id] = forms
            continue
        reason = _probe(lambda spec=spec: _other_read(client, spec, users), spec.info)
        if reason is not None:
            unavailable[spec.type_id] = reason.to_json()
    for info, why in UNREACHABLE_TYPES:
        unavailable[info.type_id] = Unavailable(
            NOT_AVAILABLE, f"{info.name} ({info.type_id}): {why}"
        ).to_json()
    return {"enablement": dict(enablement), "unavailable": unavailable}


def _other_read(client: HubSpotClient, spec: OtherType, users: Sequence[str]) -> None:
    """The cheapest read of the type's own API that needs the scope its sync needs."""
    if spec.read == LISTING:
        client.get(spec.path, {"limit": "1"})
    elif spec.read == PER_USER and users:
        client.get(spec.path, {"limit": "1", "userId": users[0]})
    elif spec.read == PER_DEAL:
        deals = client.get("/crm/v3/objects/deals", {"limit": "1", "properties": "hs_object_id"})
        first = [str(r["id"]) for r in (deals.get("results") or [])[:1]]
        if first:
            client.post(spec.path, {"inputs": [{"id": first[0]}]})


def _enablement(client: HubSpotClient) -> dict[str, bool]:
    try:
        body = client.get(ENABLEMENT_PATH)
    except (HubSpotRequestError, HubSpotScopeError, HubSpotTransientError):
        return {}  # informational only: the probe of step 2 decides for every type
    found = body.get("enablementByObjectTypeId") if isinstance(body, Mapping) else None
    return {str(k): bool(v) for k, v in (found or {}).items()}


def _reason(
    client: HubSpotClient, info: ObjectTypeInfo, enablement: Mapping[str, bool]
) -> Unavailable | None:
    if enablement.get(info.type_id) is False:
        return Unavailable(
            NOT_ACTIVATED, f"{info.name} ({info.type_id}) is not activated in this HubSpot account"
        )
    path = f"/crm/v3/objects/{info.type_id}"
    return _probe(lambda: client.get(path, {"limit": "1", "properties": "hs_object_id"}), info)


def _probe(read: Callable[[], object], info: ObjectTypeInfo) -> Unavailable | None:
    """None when `read` succeeds, else why the type is unavailable (transient failures raise)."""
    try:
        read()
    except HubSpotScopeError as exc:
        scopes = tuple(exc.missing_scopes) or ((info.read_scope,) if info.read_scope else ())
        return Unavailable(MISSING_SCOPES, exc.message, scopes)
    except HubSpotRequestError as exc:
        if exc.status in (400, 403, 404):
            return Unavailable(NOT_AVAILABLE, exc.message)
        raise
    return None


def unavailable(data: Mapping[str, Any] | None) -> dict[str, Unavailable]:
    """The unavailable types of a `type_access` snapshot, by type id."""
    found = (data or {}).get("unavailable") or {}
    return {
        tid: Unavailable(str(r["category"]), str(r["message"]), tuple(r.get("scopes") or ()))
        for tid, r in found.items()
    }
