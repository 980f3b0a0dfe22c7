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

Unavailable types are not synced and do not fail the run: SYNC_HEALTH and SYNC_ISSUES give a row per
type with the reason, and every CRM table's manifest notes them. Being daily, a scope removed (or a type
deactivated) leaves its types out from that day on instead of failing the sync, and a scope added brings
them in the next day (the properties snapshot's basis is the readable types, so they are read at once).
A day's tables read the `type_access` snapshot of the day their `properties` snapshot was taken, never
fetch one (a day exported before this source existed reports no unavailable type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.hubspot import (
    HubSpotClient,
    HubSpotRequestError,
    HubSpotScopeError,
    HubSpotTransientError,
)
from hubspot_pipeline.sync.object_types import CUSTOM_READ_SCOPE, STANDARD_OBJECT_TYPES, ObjectTypeInfo

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
    objects = [t.read_scope for t in STANDARD_OBJECT_TYPES if t.read_scope]
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
    client: HubSpotClient, candidates: Sequence[ObjectTypeInfo]
) -> dict[str, dict[str, object]]:
    """The snapshot data: `{"enablement": {type id: bool}, "unavailable": {type id: Unavailable json}}`."""
    enablement = _enablement(client) if any(t.activatable for t in candidates) else {}
    unavailable: dict[str, object] = {}
    for info in candidates:
        reason = _reason(client, info, enablement)
        if reason is not None:
            unavailable[info.type_id] = reason.to_json()
    return {"enablement": dict(enablement), "unavailable": unavailable}


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
    try:
        client.get(f"/crm/v3/objects/{info.type_id}", {"limit": "1", "properties": "hs_object_id"})
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
