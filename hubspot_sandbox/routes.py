"""Route templates and matching: `{objectType}` and friends, trailing slashes tolerated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubspot_sandbox.auth import ScopeRule
    from hubspot_sandbox.context import RequestContext

Handler = Callable[["RequestContext"], Any]


@dataclass(frozen=True)
class Route:
    """One endpoint. `key` ("GET /crm/v3/objects/{objectType}") is what the calls counter counts."""

    method: str
    template: str
    handler: Handler
    scopes: ScopeRule
    search: bool = False  # own per-second bucket, exempt from the burst bucket, no rate headers
    control: bool = False  # /_sandbox/*: bearer token needed, but no scopes, limits, faults or counting
    public: bool = False  # no bearer token (the OAuth token endpoint, pre-signed journal files)
    limited: bool = True  # meets the rate limits (the journal's reads are exempt)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def split_path(path: str) -> list[str]:
    """Path segments; a trailing slash is dropped (clients call both `/crm/v3/owners` and `/crm/v3/owners/`)."""
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


class Router:
    """Matches (method, segments) to a route; where templates overlap, literal segments win.

    E.g. `/crm/v3/properties/{objectType}/groups` beats `/crm/v3/properties/{objectType}/{propertyName}`.
    """

    def __init__(self, routes: list[Route]) -> None:
        self._table: dict[tuple[str, int], list[tuple[Route, list[str | None], list[str]]]] = {}
        seen: set[str] = set()
        for route in routes:
            if route.key in seen:
                raise ValueError(f"duplicate route {route.key}")
            seen.add(route.key)
            segments = split_path(route.template)
            literals = [None if s.startswith("{") else s for s in segments]
            names = [s[1:-1] if s.startswith("{") else "" for s in segments]
            self._table.setdefault((route.method, len(segments)), []).append((route, literals, names))
        for candidates in self._table.values():
            # Most literal-first at the earliest differing position: the first match is the best one.
            candidates.sort(key=lambda c: [lit is None for lit in c[1]])

    @property
    def routes(self) -> list[Route]:
        return [route for candidates in self._table.values() for route, _, _ in candidates]

    def match(self, method: str, segments: list[str]) -> tuple[Route, dict[str, str]] | None:
        for route, literals, names in self._table.get((method, len(segments)), ()):
            if all(lit is None or lit == seg for lit, seg in zip(literals, segments, strict=True)):
                params = {name: seg for name, seg in zip(names, segments, strict=True) if name}
                return route, params
        return None


def _routes() -> list[Route]:
    # Imported here: the endpoint modules import the request context, which must not import routes.
    from hubspot_sandbox.auth import object_scopes, schema_scopes, scopes
    from hubspot_sandbox.endpoints import (
        account_info,
        associations,
        control,
        events,
        journal,
        legacy_definitions,
        legacy_records,
        lists,
        marketing,
        object_library,
        objects,
        owners,
        pipelines,
        properties,
        users,
    )

    crm_read = scopes(
        "crm.objects.contacts.read",
        "crm.objects.companies.read",
        "crm.objects.deals.read",
        "tickets",
        "crm.objects.custom.read",
    )
    custom_schemas = scopes("crm.schemas.custom.read")
    from_type = object_scopes("fromObjectType")
    table: list[Route] = [
        Route("GET", "/crm/v3/objects/{objectType}", objects.list_objects, object_scopes()),
        Route("GET", "/crm/v3/objects/{objectType}/{objectId}", objects.read_object, object_scopes()),
        Route("POST", "/crm/v3/objects/{objectType}/batch/read", objects.batch_read_objects, object_scopes()),
        Route("POST", "/crm/v3/objects/{objectType}/search", objects.search_objects, object_scopes(), search=True),
        Route("GET", "/crm/v3/properties/{objectType}", properties.list_properties, schema_scopes()),
        Route("GET", "/crm/v3/properties/{objectType}/groups", properties.list_groups, schema_scopes()),
        Route("GET", "/crm/v3/properties/{objectType}/groups/{groupName}", properties.read_group, schema_scopes()),
        Route("GET", "/crm/v3/properties/{objectType}/{propertyName}", properties.read_property, schema_scopes()),
        Route("POST", "/crm/v3/properties/{objectType}/batch/read", properties.batch_read_properties, schema_scopes()),
        Route("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
              associations.record_associations, object_scopes()),
        Route("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
              associations.batch_read_associations, from_type),
        Route("GET", "/crm/v3/pipelines/{objectType}", pipelines.list_pipelines, schema_scopes()),
        Route("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", pipelines.read_pipeline, schema_scopes()),
        Route("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", pipelines.list_stages, schema_scopes()),
        Route("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}", pipelines.read_stage,
              schema_scopes()),
        Route("GET", "/crm/v3/owners", owners.list_owners, scopes("crm.objects.owners.read")),
        Route("GET", "/crm/v3/owners/{ownerId}", owners.read_owner, scopes("crm.objects.owners.read")),
        Route("POST", "/crm/v3/lists/search", lists.search_lists, scopes("crm.lists.read")),
        Route("GET", "/crm/v3/lists", lists.lists_by_id, scopes("crm.lists.read")),
        Route("GET", "/crm/v3/lists/{listId}", lists.read_list, scopes("crm.lists.read")),
        Route("GET", "/crm/v3/lists/{listId}/memberships", lists.memberships, scopes("crm.lists.read")),
        Route("GET", "/crm/v3/lists/{listId}/memberships/join-order", lists.memberships_join_order,
              scopes("crm.lists.read")),
        Route("POST", "/crm/v3/lists/records/memberships/batch/read", lists.record_memberships_batch,
              scopes("crm.lists.read")),
        Route("GET", "/events/v3/events", events.list_occurrences, scopes("oauth")),
        Route("GET", "/events/v3/events/event-types", events.event_types, scopes("oauth")),
        Route("GET", "/events/v3/event-definitions", events.list_definitions,
              scopes("behavioral_events.event_definitions.read_write")),
        Route("GET", "/events/v3/event-definitions/{eventName}", events.read_definition,
              scopes("behavioral_events.event_definitions.read_write")),
        Route("GET", "/settings/v3/users", users.list_users, scopes("settings.users.read", "crm.objects.users.read")),
        Route("GET", "/settings/v3/users/{userId}", users.read_user,
              scopes("settings.users.read", "crm.objects.users.read")),
        Route("GET", "/settings/v3/users/teams", users.list_teams, scopes("settings.users.teams.read")),
        Route("GET", "/settings/v3/users/roles", users.list_roles, scopes("settings.users.read")),
        Route("GET", "/account-info/v3/details", account_info.details, scopes("oauth")),
        Route("GET", "/account-info/v3/api-usage/daily/private-apps", account_info.daily_usage, scopes("oauth")),
        *legacy_definitions.routes(Route),
        *legacy_records.routes(Route),
        *object_library.routes(Route),
        *marketing.routes(Route),
        *journal.routes(Route),
        Route("POST", "/_sandbox/advance", control.advance, scopes(), control=True),
        Route("GET", "/_sandbox/calls", control.calls, scopes(), control=True),
    ]  # fmt: skip
    # Served under both spellings: the docs and clients use one, HubSpot's current spec the other.
    for prefix in ("/crm-object-schemas/v3/schemas", "/crm/v3/schemas"):
        table += [
            Route("GET", prefix, properties.list_schemas, custom_schemas),
            Route("GET", f"{prefix}/{{objectType}}", properties.read_schema, custom_schemas),
            Route("POST", f"{prefix}/batch/read", properties.batch_read_schemas, custom_schemas),
        ]
    for prefix in ("/crm/v4/associations", "/crm/associations/v4"):
        table += [
            Route("GET", f"{prefix}/{{fromObjectType}}/{{toObjectType}}/labels", associations.labels, from_type),
            Route("GET", f"{prefix}/definitions/configurations/all", associations.all_configurations, crm_read),
            Route("GET", f"{prefix}/definitions/configurations/{{fromObjectType}}/{{toObjectType}}",
                  associations.pair_configurations, from_type),
        ]  # fmt: skip
    return table


ROUTES: list[Route] = _routes()


def _legacy_keys() -> frozenset[str]:
    from hubspot_sandbox.endpoints import legacy_definitions, legacy_records, marketing, object_library

    families = (legacy_definitions, legacy_records, object_library, marketing)
    return frozenset(r.key for family in families for r in family.routes(Route))


# The endpoint families other than the core ones the pipeline reads from the start (the older endpoints
# other clients call, the object library's enablement, the marketing and content APIs), each with a
# golden list of its own.
LEGACY_ROUTE_KEYS: frozenset[str] = _legacy_keys()


def _journal_keys() -> frozenset[str]:
    from hubspot_sandbox.endpoints import journal

    return frozenset(r.key for r in journal.routes(Route))


# The webhooks journal, its subscriptions, the OAuth token and the entry files: answers carry wall-clock
# times (token and URL expiry), so `test_sandbox_journal.py` checks them instead of a golden list.
JOURNAL_ROUTE_KEYS: frozenset[str] = _journal_keys()
