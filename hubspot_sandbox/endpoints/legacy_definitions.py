"""Legacy definition endpoints and definitions of standard types the account does not model.

Property lists (properties v1/v2), pipelines (crm-pipelines v1, deals v1), the v3 association
batch read, and `/crm/v3/properties/{type}` for HubSpot's standard types without a model (deal
splits). Every answer is derived from the same account data as its v3/v4
sibling; the scopes are the sibling's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hubspot_sandbox.auth import object_scopes, schema_read_scopes, schema_scopes, scopes
from hubspot_sandbox.endpoints import associations, pipelines, properties
from hubspot_sandbox.model.types import UNMODELLED_TYPES, known_type_refs

if TYPE_CHECKING:
    from hubspot_sandbox.auth import ScopeRule
    from hubspot_sandbox.context import RequestContext
    from hubspot_sandbox.routes import Route

V1_PROPERTY_TYPES = ("contacts", "companies", "deals")


def _fixed_type_scopes(type_ref: str) -> ScopeRule:
    """The schema scopes of one fixed type (routes whose path names no type)."""

    def rule(ctx: RequestContext) -> frozenset[str]:
        return schema_read_scopes(ctx.sandbox.resolve_type(type_ref))

    return rule


def routes(route: Callable[..., Route]) -> list[Route]:
    """This module's routes, built with `route` (`routes.Route`, passed in: this module must not import routes)."""
    table = [
        route("GET", "/properties/v2/{objectType}/properties", properties.list_legacy_properties, schema_scopes()),
        *(
            route("GET", f"/properties/v1/{name}/properties", properties.legacy_v1_properties(name),
                  _fixed_type_scopes(name))
            for name in V1_PROPERTY_TYPES
        ),
        route("GET", "/crm-pipelines/v1/pipelines/{objectType}", pipelines.legacy_list_pipelines, schema_scopes()),
        route("GET", "/deals/v1/pipelines", pipelines.deals_v1_pipelines, _fixed_type_scopes("deals")),
        route("POST", "/crm/v3/associations/{fromObjectType}/{toObjectType}/batch/read",
              associations.v3_batch_read_associations, object_scopes("fromObjectType")),
    ]  # fmt: skip
    # Literal paths beat `/crm/v3/properties/{objectType}` (which would answer "Unable to infer").
    for known in UNMODELLED_TYPES:
        handler = properties.unmodelled_properties(known)
        table += [
            route("GET", f"/crm/v3/properties/{ref}", handler, scopes(known.read_scope))
            for ref in known_type_refs(known)
        ]
    return table
