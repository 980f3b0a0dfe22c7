"""Every snapshot source: its name, the sources its fetch needs, and the fetcher.

A fetcher returns JSON data, or `Rows` for sources with one row per record; `tables.context` stores the
answer as the day's snapshot (see `sync.snapshots`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync import definitions as d
from hubspot_pipeline.sync import event_types as ev
from hubspot_pipeline.sync import lists

Fetcher = Callable[[HubSpotClient, Mapping[str, Any]], Any]

SOURCES: dict[str, tuple[tuple[str, ...], Fetcher]] = {
    "account": ((), d.fetch_account),
    "schemas": ((), d.fetch_schemas),
    "properties": (("schemas",), d.fetch_properties),
    "association_labels": (("schemas", "properties"), d.fetch_association_labels),
    "owners": ((), d.fetch_owners),
    "teams": ((), d.fetch_teams),
    "pipelines": (("schemas", "properties"), d.fetch_pipelines),
    "event_types": ((), ev.fetch_event_types),
    "event_definitions": ((), ev.fetch_event_definitions),
    "lists": ((), lists.fetch_lists),
    "list_memberships": (("lists",), lists.fetch_list_memberships),
}
