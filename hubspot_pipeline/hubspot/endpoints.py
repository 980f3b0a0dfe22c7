"""Route templates for call counting, and which routes belong to which rate bucket.

`endpoint_template("GET", "/crm/v3/objects/contacts/123")` -> "GET /crm/v3/objects/{objectType}/{objectId}".
Object types, ids and names are replaced by placeholders so a counter keyed by template stays small
(one key per route, not one per record). Unknown paths keep their literal segments except for
numeric ids and object type ids, which become `{id}`.
"""

from __future__ import annotations

import re
from functools import lru_cache

# One line per HubSpot route the pipeline may call (hubspot-api.md §3-§7). `{x}` matches one segment.
# Placeholder names follow the sandbox's route keys, so `client.calls` and `Sandbox.calls` compare.
ROUTES: tuple[str, ...] = (
    "/crm/v3/objects/{objectType}",
    "/crm/v3/objects/{objectType}/{objectId}",
    "/crm/v3/objects/{objectType}/batch/read",
    "/crm/v3/objects/{objectType}/search",
    "/crm/v3/properties/{objectType}",
    "/crm/v3/properties/{objectType}/{propertyName}",
    "/crm/v3/properties/{objectType}/groups",
    "/crm/v3/properties/{objectType}/groups/{groupName}",
    "/crm/v3/properties/{objectType}/batch/read",
    "/crm-object-schemas/v3/schemas",
    "/crm-object-schemas/v3/schemas/{objectType}",
    "/crm-object-schemas/v3/schemas/batch/read",
    "/crm/v3/schemas",
    "/crm/v3/schemas/{objectType}",
    "/crm/v3/schemas/batch/read",
    "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
    "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
    "/crm/v4/associations/{fromObjectType}/{toObjectType}/labels",
    "/crm/v4/associations/definitions/configurations/all",
    "/crm/v4/associations/definitions/configurations/{fromObjectType}/{toObjectType}",
    "/crm/associations/v4/{fromObjectType}/{toObjectType}/batch/read",
    "/crm/associations/v4/{fromObjectType}/{toObjectType}/labels",
    "/crm/associations/v4/definitions/configurations/all",
    "/crm/associations/v4/definitions/configurations/{fromObjectType}/{toObjectType}",
    "/crm/v3/pipelines/{objectType}",
    "/crm/v3/pipelines/{objectType}/{pipelineId}",
    "/crm/v3/pipelines/{objectType}/{pipelineId}/stages",
    "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}",
    "/crm/v3/pipelines/{objectType}/{pipelineId}/audit",
    "/crm/v3/owners",
    "/crm/v3/owners/{ownerId}",
    "/crm/v3/lists",
    "/crm/v3/lists/search",
    "/crm/v3/lists/{listId}",
    "/crm/v3/lists/{listId}/memberships",
    "/crm/v3/lists/{listId}/memberships/join-order",
    "/crm/v3/lists/records/{objectTypeId}/{recordId}/memberships",
    "/crm/v3/lists/records/memberships/batch/read",
    "/events/v3/events",
    "/events/v3/events/event-types",
    "/events/v3/event-definitions",
    "/events/v3/event-definitions/{eventName}",
    "/settings/v3/users",
    "/settings/v3/users/{userId}",
    "/settings/v3/users/teams",
    "/settings/v3/users/roles",
    "/account-info/v3/details",
    "/account-info/v3/api-usage/daily/private-apps",
    "/crm/v3/object-library/enablement",
    # the export's types served outside the objects API (sync.other_types)
    "/marketing/v3/emails",
    "/marketing/v3/campaigns",
    "/cms/v3/pages/landing-pages",
    "/cms/v3/pages/site-pages",
    "/cms/v3/blogs/posts",
    "/marketing/v3/forms",
    "/form-integrations/v1/submissions/forms/{formGuid}",
    "/automation/v4/sequences",
    "/crm/v3/objects/deals/splits/batch/read",
    # the webhooks journal (sync.journal), its subscriptions and the token of the app that reads it
    "/oauth/v1/token",
    "/webhooks-journal/subscriptions/2026-03",
    "/webhooks-journal/subscriptions/2026-03/{subscriptionId}",
    "/webhooks-journal/subscriptions/2026-03/portals/{portalId}",
    *(
        f"/webhooks-journal/{family}/2026-03/{route}"
        for family in ("journal", "journal-local")
        for route in (
            "earliest",
            "latest",
            "offset/{offset}/next",
            "batch/earliest/{count}",
            "batch/latest/{count}",
            "batch/{offset}/next/{count}",
            "batch/read",
        )
    ),
)

_PLACEHOLDER = re.compile(r"^\{\w+\}$")
_ID_LIKE = re.compile(r"^(\d+|\d+-\d+)$")  # record ids and object type ids such as 0-1 or 2-123


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


_ROUTE_SEGMENTS: tuple[tuple[str, list[str]], ...] = tuple((r, _segments(r)) for r in ROUTES)


@lru_cache(maxsize=4096)
def route_template(path: str) -> str:
    """The route template of a path (query string and trailing slash ignored)."""
    segments = _segments(path.split("?", 1)[0])
    best: tuple[int, str] | None = None
    for route, pattern in _ROUTE_SEGMENTS:
        if len(pattern) != len(segments):
            continue
        literals = 0
        for want, got in zip(pattern, segments, strict=True):
            if _PLACEHOLDER.match(want):
                continue
            if want != got:
                break
            literals += 1
        else:
            # The most literal match wins, so ".../search" beats ".../{objectId}".
            if best is None or literals > best[0]:
                best = (literals, route)
    if best is not None:
        return best[1]
    return "/" + "/".join("{id}" if _ID_LIKE.match(s) else s for s in segments)


def endpoint_template(method: str, path: str) -> str:
    """Counter key for a request: "METHOD /route/{template}"."""
    return f"{method.upper()} {route_template(path)}"


def is_search(method: str, path: str) -> bool:
    """CRM search has its own per-second bucket and is exempt from the 10-second one (api §9.1)."""
    return method.upper() == "POST" and route_template(path) == "/crm/v3/objects/{objectType}/search"
