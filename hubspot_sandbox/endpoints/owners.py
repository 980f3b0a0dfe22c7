"""Owners (§7.2): a paged collection with `archived` and `email` filters, and one owner."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import offset_page
from hubspot_sandbox.errors import resource_not_found, validation_error

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def list_owners(ctx: RequestContext) -> dict[str, Any]:
    owners = ctx.account.owners(ctx.arg_bool("archived"))
    email = ctx.arg("email")
    if email:
        owners = [o for o in owners if (o.get("email") or "").lower() == email.lower()]
    return offset_page(ctx, owners, DEFAULT_LIMIT, MAX_LIMIT)


def read_owner(ctx: RequestContext) -> dict[str, Any]:
    owner_id = ctx.params["ownerId"]
    id_property = ctx.arg("idProperty") or "id"
    if id_property not in ("id", "userId"):
        raise validation_error(f"idProperty must be id or userId, but was {id_property!r}")
    for owner in ctx.account.owners(ctx.arg_bool("archived")):
        if str(owner.get(id_property)) == owner_id:
            return owner
    raise resource_not_found(f"Unable to find owner {owner_id}")
