"""Every snapshot source: its name, the sources its fetch needs, and the fetcher.

A fetcher returns JSON data, or `Rows` for sources with one row per record; `tables.context` stores the
answer as the day's snapshot (see `sync.snapshots`).

`CADENCE` names the sources whose answer rarely changes: they are refetched every
`HUBSPOT_DEFINITIONS_REFRESH_DAYS` days, or sooner when what they were built from (their basis) changes.
A basis function takes the source's dependencies (today's snapshots of its `needs`) and the source's data
(just fetched, or the earlier snapshot considered for reuse) and returns a JSON value, never None, that
costs no API call to compute: equal bases mean the earlier answer was asked about the same things.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync import definitions as d
from hubspot_pipeline.sync import event_types as ev
from hubspot_pipeline.sync import lists, other_objects
from hubspot_pipeline.sync.other_types import OTHER_TYPES
from hubspot_pipeline.sync.type_access import unavailable

Fetcher = Callable[[HubSpotClient, Mapping[str, Any]], Any]

SOURCES: dict[str, tuple[tuple[str, ...], Fetcher]] = {
    "account": ((), d.fetch_account),
    "schemas": ((), d.fetch_schemas),
    "type_access": (("schemas", "owners"), d.fetch_type_access),
    "properties": (("schemas", "type_access"), d.fetch_properties),
    "association_labels": (("schemas", "properties"), d.fetch_association_labels),
    "owners": ((), d.fetch_owners),
    "teams": ((), d.fetch_teams),
    "pipelines": (("schemas", "properties"), d.fetch_pipelines),
    "event_types": ((), ev.fetch_event_types),
    # event_types is only needed for the basis (the definitions endpoint does not take it)
    "event_definitions": (("event_types",), ev.fetch_event_definitions),
    "lists": ((), lists.fetch_lists),
    "list_memberships": (("lists",), lists.fetch_list_memberships),
    # owners: the user ids whose sequences are read
    "other_objects": (("type_access", "owners"), other_objects.fetch_other_objects),
}

Basis = Callable[[Mapping[str, Any], Any], Any]

# Sources whose fetcher builds on the latest earlier snapshot: it gets `previous` (that snapshot's data),
# `previous_fetched_at`, `previous_<need>` (the data of each of its needs on that snapshot's day), `day`,
# `refresh_days`, `selection` (the sync settings: a type they do not sync is not read) and `index` (a
# function giving the CRM index as it stands, an `IndexReader`, or None before its first sync).
INCREMENTAL: frozenset[str] = frozenset({"list_memberships", "other_objects"})


def object_type_basis(schemas: list[dict], properties: Mapping[str, Any]) -> list[str]:
    """The object type ids a snapshot is built from: the present types (whose properties were read),
    standard ones first, then the custom ones by id."""
    return [t.type_id for t in d.present_types(schemas, properties)]


def _available_basis(deps: Mapping[str, Any], data: Any) -> list[str]:
    missing = unavailable(deps["type_access"])
    other = [t.type_id for t in OTHER_TYPES if t.type_id not in missing]
    return [t.type_id for t in d.available_types(deps["schemas"], deps["type_access"])] + other


CADENCE: dict[str, Basis] = {
    # the types found readable (type_access is probed every day): a scope added refetches at once
    "properties": _available_basis,
    "association_labels": lambda deps, data: object_type_basis(deps["schemas"], deps["properties"]),
    "pipelines": lambda deps, data: object_type_basis(deps["schemas"], deps["properties"]),
    "event_types": lambda deps, data: [],
    # a new custom event type is listed by event_types: refetch its definition with it
    "event_definitions": lambda deps, data: sorted(deps["event_types"]),
}
