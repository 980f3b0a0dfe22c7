"""Event types: HubSpot's standard ones (`e_visited_page`, ...) and custom behavioural events (`pe<portal>_<name>`).

The event-types endpoint names every type; the event-definitions endpoint adds, for custom events, their
`6-<n>` type id, labels and properties. Standard event types have no id or property list in the API, so
their TYPEID is their name and their event tables take the properties their occurrences carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.hubspot import HubSpotClient


@dataclass(frozen=True)
class EventTypeInfo:
    type_id: str
    event_type: str  # the API's eventType, e.g. "e_visited_page" or "pe123_trial_started"
    name: str  # e.g. "visited_page", "trial_started"
    label_singular: str
    label_plural: str
    custom: bool
    properties: tuple[dict, ...] = field(default=(), compare=False)
    created_at: str | None = None
    updated_at: str | None = None
    primary_object: str | None = None  # custom events: the record type they attach to, e.g. "CONTACT"

    @property
    def table_name(self) -> str:
        return "EVENTS_" + "".join(ch if ch.isalnum() else "_" for ch in self.name.upper())


def fetch_event_types(client: HubSpotClient, deps: Mapping[str, Any]) -> list[str]:
    return list(client.get("/events/v3/events/event-types").get("eventTypes", []))


def fetch_event_definitions(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    out: list[dict] = []
    params = {"includeProperties": "true"}
    for page in client.paginate("/events/v3/event-definitions", params, page_size=100):
        out.extend(page)
    return out


def event_types(names: list[str], definitions: list[dict]) -> list[EventTypeInfo]:
    """One EventTypeInfo per event type the account lists, custom ones described by their definition."""
    by_fqn = {d.get("fullyQualifiedName"): d for d in definitions}
    out = []
    for event_type in names:
        d = by_fqn.get(event_type)
        if d is not None:
            labels = d.get("labels") or {}
            out.append(
                EventTypeInfo(
                    type_id=str(d.get("objectTypeId") or event_type),
                    event_type=event_type,
                    name=str(d["name"]),
                    label_singular=labels.get("singular") or d["name"],
                    label_plural=labels.get("plural") or labels.get("singular") or d["name"],
                    custom=True,
                    properties=tuple(d.get("properties") or ()),
                    created_at=d.get("createdAt"),
                    updated_at=d.get("updatedAt"),
                    primary_object=d.get("primaryObject"),
                )
            )
        else:
            name = event_type[2:] if event_type.startswith("e_") else event_type
            label = name.replace("_", " ").capitalize()
            out.append(EventTypeInfo(event_type, event_type, name, label, label + " events", custom=False))
    return out
