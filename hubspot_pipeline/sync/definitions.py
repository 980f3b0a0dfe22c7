"""Fetchers for HubSpot's definition endpoints, one per snapshot source.

Each fetcher takes the client and the snapshots it depends on and returns plain JSON data. They are the
only code that reads these endpoints; tables are projections of the snapshots they return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hubspot_pipeline.hubspot import HubSpotClient, HubSpotRequestError
from hubspot_pipeline.sync import type_access
from hubspot_pipeline.sync.object_types import STANDARD_OBJECT_TYPES, ObjectTypeInfo, custom_object_type
from hubspot_pipeline.sync.other_types import OTHER_TYPES, UNREACHABLE_TYPES, sequence_users


def _get_if_supported(client: HubSpotClient, path: str, params: Mapping[str, str] | None = None) -> Any:
    """GET, or None when HubSpot answers 400/404: the type or pair has no such thing in this account."""
    try:
        return client.get(path, params)
    except HubSpotRequestError as exc:
        if exc.status in (400, 404):
            return None
        raise


def fetch_schemas(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    body = client.get("/crm-object-schemas/v3/schemas", {"archived": "false"})
    return list(body.get("results", []))


def fetch_type_access(client: HubSpotClient, deps: Mapping[str, Any]) -> dict[str, dict[str, object]]:
    """Which candidate types the token can read, and why not the others (`sync.type_access`)."""
    users = sequence_users(deps.get("owners"))  # whose sequences the probe may read (none: not probed)
    return type_access.fetch_type_access(client, candidate_types(deps["schemas"]), users)


def fetch_properties(client: HubSpotClient, deps: Mapping[str, Any]) -> dict[str, list[dict]]:
    """Property definitions per present type id, archived ones included (flagged by `archived`).

    Only the types `type_access` found readable are asked; one that still answers 400/404 is left out.
    The export's other types that are readable get the definitions of their fields, at no call
    (`sync.other_types`).
    """
    out: dict[str, list[dict]] = {}
    missing = type_access.unavailable(deps["type_access"])
    for info in available_types(deps["schemas"], deps["type_access"]):
        live = _get_if_supported(client, f"/crm/v3/properties/{info.type_id}", {"archived": "false"})
        if live is None:
            continue
        archived = client.get(f"/crm/v3/properties/{info.type_id}", {"archived": "true"})
        props = list(live.get("results", []))
        names = {p["name"] for p in props}
        props += [dict(p, archived=True) for p in archived.get("results", []) if p["name"] not in names]
        out[info.type_id] = props
    out.update({t.type_id: t.property_definitions() for t in OTHER_TYPES if t.type_id not in missing})
    return out


def fetch_association_labels(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    """Every directed association type between present object types, in (from, to) type order.

    HubSpot defines association types in inverse pairs: each default type has its inverse (contact to
    company 279, company to contact 280; hubspot-api.md §6.4) and a label is created with both
    directions. So a pair whose one direction has no types has none the other way: the reverse is asked
    only when the forward answered some, about N(N+1)/2 calls for N types instead of N².
    """
    types = present_types(deps["schemas"], deps["properties"])
    found: dict[tuple[str, str], list[dict]] = {}
    for i, src in enumerate(types):
        for dst in types[i:]:
            forward = _labels(client, src.type_id, dst.type_id)
            found[(src.type_id, dst.type_id)] = forward or []
            if src is not dst and forward != []:  # types, or a 4xx that says nothing of the reverse
                found[(dst.type_id, src.type_id)] = _labels(client, dst.type_id, src.type_id) or []
    return [
        {"fromObjectTypeId": src.type_id, "toObjectTypeId": dst.type_id, **item}
        for src in types
        for dst in types
        for item in found.get((src.type_id, dst.type_id), [])
    ]


def _labels(client: HubSpotClient, from_type: str, to_type: str) -> list[dict] | None:
    """The direction's association types; None when HubSpot answers 400/404 for the pair."""
    body = _get_if_supported(client, f"/crm/v4/associations/{from_type}/{to_type}/labels")
    return None if body is None else list(body.get("results", []))


def fetch_owners(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    """Active and archived owners (HubSpot lists them separately)."""
    owners: dict[str, dict] = {}
    for archived in ("false", "true"):
        for page in client.paginate("/crm/v3/owners", {"archived": archived}, page_size=100):
            for owner in page:
                owners.setdefault(str(owner["id"]), owner)
    return [owners[k] for k in sorted(owners, key=_numeric_first)]


def fetch_teams(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    return list(client.get("/settings/v3/users/teams").get("results", []))


def fetch_pipelines(client: HubSpotClient, deps: Mapping[str, Any]) -> dict[str, list[dict]]:
    """Pipelines per present type that has them (deals, tickets, and any other type HubSpot answers for)."""
    out: dict[str, list[dict]] = {}
    for info in present_types(deps["schemas"], deps["properties"]):
        body = _get_if_supported(client, f"/crm/v3/pipelines/{info.type_id}")
        if body and body.get("results"):
            out[info.type_id] = list(body["results"])
    return out


def fetch_account(client: HubSpotClient, deps: Mapping[str, Any]) -> dict:
    """Portal id (every manifest names it) and time zone (the daily quota resets at its midnight)."""
    return dict(client.get("/account-info/v3/details"))


def candidate_types(schemas: list[dict]) -> list[ObjectTypeInfo]:
    """HubSpot's standard types, then the account's live custom objects by id.

    A custom object named like a standard type (a custom "projects" beside HubSpot's projects, 0-970)
    is known by its fully qualified name instead (`p<portal>_project`, OBJECTS_P<portal>_PROJECT), so
    each OBJECTS_<PLURAL> table and sync settings key names one type and the standard types' names
    never depend on the account."""
    custom = sorted(
        (custom_object_type(s) for s in schemas if not s.get("archived")),
        key=lambda t: _numeric_first(t.type_id),
    )
    taken = {n for t in STANDARD_OBJECT_TYPES for n in (t.name, t.singular)}
    custom = [
        dataclasses.replace(t, name=t.fully_qualified_name.lower(), singular=t.fully_qualified_name.lower())
        if {t.name, t.singular} & taken
        else t
        for t in custom
    ]
    return [*STANDARD_OBJECT_TYPES, *custom]


def available_types(schemas: list[dict], access: Mapping[str, Any] | None) -> list[ObjectTypeInfo]:
    """The candidate types the `type_access` snapshot did not find unavailable."""
    missing = type_access.unavailable(access)
    return [t for t in candidate_types(schemas) if t.type_id not in missing]


def present_types(schemas: list[dict], properties: Mapping[str, Any]) -> list[ObjectTypeInfo]:
    """The objects API's types the account has (those the CRM index syncs): those whose properties
    call answered."""
    return [t for t in candidate_types(schemas) if t.type_id in properties]


def export_types(schemas: list[dict], properties: Mapping[str, Any]) -> list[ObjectTypeInfo]:
    """Every object type the export holds: the present ones, then the readable other types."""
    return [*present_types(schemas, properties), *(t.info for t in OTHER_TYPES if t.type_id in properties)]


def known_types(schemas: list[dict]) -> list[ObjectTypeInfo]:
    """Every type the export knows of, readable or not: the sync settings may name any of them."""
    return [*candidate_types(schemas), *(t.info for t in OTHER_TYPES), *(i for i, _ in UNREACHABLE_TYPES)]


def _numeric_first(value: str) -> tuple:
    parts = str(value).replace("-", " ").split()
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)
