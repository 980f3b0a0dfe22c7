"""The object library's enablement endpoints: which activatable object types the account has activated.

`GET .../enablement` answers `{"enablementByObjectTypeId": {"0-162": true, ...}}` (activatable types
only); `GET .../enablement/{objectTypeId}` answers `{"enablement": true}`. Both are served under the
v3 path and the date-versioned one; any object read scope opens them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubspot_sandbox.auth import ANY_OBJECT_READ_SCOPE, scopes
from hubspot_sandbox.errors import resource_not_found

if TYPE_CHECKING:
    from hubspot_sandbox.context import RequestContext
    from hubspot_sandbox.routes import Route

PREFIXES = ("/crm/v3/object-library/enablement", "/crm/object-library/2026-03/enablement")


def list_enablement(ctx: RequestContext) -> dict[str, Any]:
    return {"enablementByObjectTypeId": ctx.sandbox.enablement()}


def read_enablement(ctx: RequestContext) -> dict[str, Any]:
    ref = ctx.params["objectTypeId"]
    object_type = ctx.account.resolve_type(ref)
    enablement = ctx.sandbox.enablement()
    if object_type is None or object_type.type_id not in enablement:
        # Inferred: HubSpot documents no answer for a type that cannot be activated.
        raise resource_not_found(f"Object type {ref} cannot be activated or deactivated")
    return {"enablement": enablement[object_type.type_id]}


def routes(route: Callable[..., Route]) -> list[Route]:
    """This module's routes, built with `route` (`routes.Route`, passed in: this module must not import routes)."""
    rule = scopes(*ANY_OBJECT_READ_SCOPE)
    return [
        r
        for prefix in PREFIXES
        for r in (
            route("GET", prefix, list_enablement, rule),
            route("GET", f"{prefix}/{{objectTypeId}}", read_enablement, rule),
        )
    ]
