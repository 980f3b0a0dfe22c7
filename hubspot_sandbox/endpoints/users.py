"""Settings users, teams and roles (§7.5)."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import offset_page
from hubspot_sandbox.errors import resource_not_found, validation_error

DEFAULT_LIMIT = 100
MAX_LIMIT = 100


def list_users(ctx: RequestContext) -> dict[str, Any]:
    return offset_page(ctx, ctx.account.users(), DEFAULT_LIMIT, MAX_LIMIT)


def read_user(ctx: RequestContext) -> dict[str, Any]:
    user_id = ctx.params["userId"]
    id_property = (ctx.arg("idProperty") or "USER_ID").upper()
    if id_property not in ("USER_ID", "EMAIL"):
        raise validation_error(f"idProperty must be USER_ID or EMAIL, but was {id_property!r}")
    key = "id" if id_property == "USER_ID" else "email"
    for user in ctx.account.users():
        if str(user.get(key)).lower() == user_id.lower():
            return user
    raise resource_not_found(f"Unable to find user {user_id}")


def list_teams(ctx: RequestContext) -> dict[str, Any]:
    return {"results": ctx.account.teams()}


def list_roles(ctx: RequestContext) -> dict[str, Any]:
    """Roles derived from the users' role ids (the model keeps no role table)."""
    role_ids = sorted(
        {
            str(r)
            for user in ctx.account.users()
            for r in [user.get("roleId"), *(user.get("roleIds") or [])]
            if r
        }
    )
    return {
        "results": [{"id": rid, "name": f"Role {rid}", "requiresBillingWrite": False} for rid in role_ids]
    }
