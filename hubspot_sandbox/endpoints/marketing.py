"""Marketing and content APIs outside the CRM objects API: marketing emails, campaigns, CMS landing and
site pages, blog posts, forms, form submissions, sequences and deal splits (`model/marketing.py`).

Lists answer `{"total", "results", "paging"}` (submissions: no `total`) with opaque cursors (base64 of
an offset, as HubSpot's look; submissions: of a position in the form's history, so new submissions
arriving between pages shift nothing). README "Marketing and content" cites the docs and marks what
is inferred.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubspot_sandbox.auth import scopes
from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.endpoints.paging import page_limit
from hubspot_sandbox.errors import limit_exceeded, resource_not_found, validation_error
from hubspot_sandbox.model.marketing import Asset, decode_cursor, default_order, encode_cursor
from hubspot_sandbox.model.timefmt import parse_time_ms
from hubspot_sandbox.responses import batch_error, batch_response, paged

if TYPE_CHECKING:
    from hubspot_sandbox.model.marketing import Marketing
    from hubspot_sandbox.routes import Route

DEFAULT_LIMIT = 10  # inferred: the docs give no default for these lists
MAX_LIMIT = 100  # inferred: the docs give no maximum; larger limits are clamped
SUBMISSIONS_DEFAULT_LIMIT = 20  # the submissions reference: default 20, at most 50
SUBMISSIONS_MAX_LIMIT = 50
SPLITS_MAX_INPUTS = 100
# `sort` fields per kind (a `-` prefix sorts descending) and the record time or field each reads.
CMS_SORTS = ("name", "createdAt", "updatedAt", "publishDate")
CAMPAIGN_SORTS = ("hs_name", "createdAt", "updatedAt")
# Filters on record times the CMS and email lists take (`updatedAfter` keeps updatedAt > value).
TIME_FILTERS: dict[str, tuple[str, Callable[[int, int], bool]]] = {
    "createdAt": ("created", lambda t, v: t == v),
    "createdAfter": ("created", lambda t, v: t > v),
    "createdBefore": ("created", lambda t, v: t < v),
    "updatedAt": ("updated", lambda t, v: t == v),
    "updatedAfter": ("updated", lambda t, v: t > v),
    "updatedBefore": ("updated", lambda t, v: t < v),
}


def _marketing(ctx: RequestContext) -> Marketing:
    return ctx.account.marketing


def _limit(ctx: RequestContext) -> int:
    """`limit`, clamped to the maximum (inferred: no documented maximum, so no 400)."""
    return min(ctx.arg_int("limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT)


def _offset(ctx: RequestContext) -> int:
    after = ctx.arg("after")
    if not after:
        return 0
    position = decode_cursor(after)
    if position is None:
        raise validation_error(f"after is not a valid paging cursor: {after!r}", after=[after])
    return position


def _time_filters(ctx: RequestContext, assets: list[Asset]) -> list[Asset]:
    for name, (column, keep) in TIME_FILTERS.items():
        value = ctx.arg(name)
        if not value:
            continue
        try:
            ms = parse_time_ms(value)
        except ValueError:
            raise validation_error(
                f"{name} must be an ISO-8601 date-time, but was {value!r}", **{name: [value]}
            ) from None
        assets = [a for a in assets if keep(a.created_ms if column == "created" else a.updated_ms, ms)]
    return assets


def _sorted(ctx: RequestContext, kind: str, assets: list[Asset], allowed: tuple[str, ...]) -> list[Asset]:
    assets = sorted(assets, key=default_order(kind))
    sort = ctx.arg("sort")
    if not sort:
        return assets
    field = sort.removeprefix("-")
    if field not in allowed:
        raise validation_error(f"sort must be one of {', '.join(allowed)} (optionally prefixed with -), but was {sort!r}",
                               sort=[sort])  # fmt: skip

    def key(a: Asset) -> Any:
        if field == "createdAt":
            return a.created_ms
        if field == "updatedAt":
            return a.updated_ms
        if field == "publishDate":
            return a.body.get("publishDate") or 0
        return str(a.body.get(field) or "")

    return sorted(assets, key=key, reverse=sort.startswith("-"))  # stable: ties keep the default order


def _rendered_page(
    ctx: RequestContext,
    mk: Marketing,
    kind: str,
    assets: list[Asset],
    limit: int,
    properties: list[str] | None = None,
) -> dict[str, Any]:
    """The page of `assets` the request's cursor points at, rendered as the API's dicts."""
    offset = _offset(ctx)
    rows = [mk.render(kind, a, properties) for a in assets[offset : offset + limit]]
    return _page(ctx, rows, len(assets), offset, limit)


def _page(ctx: RequestContext, rows: list[Any], total: int, offset: int, limit: int) -> dict[str, Any]:
    end = offset + limit
    after = encode_cursor(end) if end < total else None
    return paged(rows, after, ctx.next_link(after) if after else None, total=total)


def _asset_list(
    ctx: RequestContext, kind: str, *, times: bool, sorts: tuple[str, ...] | None
) -> dict[str, Any]:
    mk = _marketing(ctx)
    limit = _limit(ctx)
    assets = mk.live(kind, ctx.arg_bool("archived"))
    if times:
        assets = _time_filters(ctx, assets)
    assets = _sorted(ctx, kind, assets, sorts or ())
    return _rendered_page(ctx, mk, kind, assets, limit)


def list_emails(ctx: RequestContext) -> dict[str, Any]:
    return _asset_list(ctx, "marketing_emails", times=True, sorts=CMS_SORTS)


def list_landing_pages(ctx: RequestContext) -> dict[str, Any]:
    return _asset_list(ctx, "landing_pages", times=True, sorts=CMS_SORTS)


def list_site_pages(ctx: RequestContext) -> dict[str, Any]:
    return _asset_list(ctx, "site_pages", times=True, sorts=CMS_SORTS)


def list_blog_posts(ctx: RequestContext) -> dict[str, Any]:
    return _asset_list(ctx, "blog_posts", times=True, sorts=CMS_SORTS)


def list_forms(ctx: RequestContext) -> dict[str, Any]:
    mk = _marketing(ctx)
    limit = _limit(ctx)
    wanted = {t.lower() for t in ctx.arg_list("formTypes") or ["hubspot"]}
    assets = [
        a
        for a in mk.live("forms", ctx.arg_bool("archived"))
        if "all" in wanted or a.body["formType"] in wanted
    ]
    assets = sorted(assets, key=default_order("forms"))
    return _rendered_page(ctx, mk, "forms", assets, limit)


def list_campaigns(ctx: RequestContext) -> dict[str, Any]:
    """Campaigns: `properties` chooses the properties; without it `properties` is empty (inferred)."""
    mk = _marketing(ctx)
    limit = _limit(ctx)
    assets = mk.live("campaigns")
    name = ctx.arg("name")
    if name:
        assets = [a for a in assets if name.lower() in str(a.body["hs_name"] or "").lower()]
    assets = _sorted(ctx, "campaigns", assets, CAMPAIGN_SORTS)
    return _rendered_page(ctx, mk, "campaigns", assets, limit, ctx.arg_list("properties") or [])


def list_sequences(ctx: RequestContext) -> dict[str, Any]:
    """A user's sequences; `userId` is required (400 without it), an unknown user has none."""
    user_id = ctx.arg("userId")
    if not user_id:
        raise validation_error("userId is required", userId=["missing"])
    mk = _marketing(ctx)
    limit = _limit(ctx)
    assets = [a for a in mk.live("sequences") if a.body["userId"] == user_id]
    name = ctx.arg("name")
    if name:
        assets = [a for a in assets if name.lower() in a.body["name"].lower()]
    assets = sorted(assets, key=default_order("sequences"))
    return _rendered_page(ctx, mk, "sequences", assets, limit)


def list_submissions(ctx: RequestContext) -> dict[str, Any]:
    """A form's submissions newest first; the cursor is the position (in time order) of the next one."""
    mk = _marketing(ctx)
    form_id = ctx.params["formGuid"]
    subs = mk.form_submissions.get(form_id)
    if subs is None:
        raise resource_not_found(f"Form {form_id} does not exist")  # inferred: the docs give no body
    limit = page_limit(ctx, SUBMISSIONS_DEFAULT_LIMIT, SUBMISSIONS_MAX_LIMIT)
    n = len(subs.times)
    after = ctx.arg("after")
    top = n - 1
    if after:
        position = decode_cursor(after)
        if position is None or position >= n:
            raise validation_error(f"after is not a valid paging cursor: {after!r}", after=[after])
        top = position
    ks = range(top, max(top - limit, -1), -1)
    rows = [mk.submission(form_id, k) for k in ks]
    nxt = encode_cursor(top - limit) if top - limit >= 0 else None
    return paged(rows, nxt, ctx.next_link(nxt) if nxt else None)


def batch_read_splits(ctx: RequestContext) -> Any:
    """Deal splits by deal id: a result per live deal (`splits` [] without any), unknown or archived deals
    as 207 `OBJECT_NOT_FOUND` errors (inferred, as the objects batch read answers)."""
    body = ctx.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error('inputs must be a list of {"id": "<dealId>"}')
    if len(inputs) > SPLITS_MAX_INPUTS:
        raise limit_exceeded("inputs", len(inputs), SPLITS_MAX_INPUTS)
    acct = ctx.account
    deals = acct.tables["0-3"]
    results, missing = [], []
    for item in inputs:
        raw = str(item.get("id") if isinstance(item, dict) else item)
        idx = deals.index_of(int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if idx is None or deals.archived[idx]:
            missing.append(raw)
            continue
        results.append({"id": raw, "splits": acct.marketing.deal_splits(int(raw))})
    errors = []
    if missing:
        ids = list(dict.fromkeys(missing))
        errors.append(batch_error("OBJECT_NOT_FOUND", f"Could not get deal splits for deal ids: {', '.join(ids)}",
                                  {"ids": ids}))  # fmt: skip
    return batch_response(results, errors, acct.now)


def routes(route: Callable[..., Route]) -> list[Route]:
    """This module's routes, built with `route` (`routes.Route`, passed in: this module must not import routes)."""
    content = scopes("content")
    emails = scopes("content", "marketing-email", "transactional-email")  # any one, as the docs list them
    forms = scopes("forms")
    splits = scopes("crm.dealsplits.read_write")
    return [
        route("GET", "/marketing/v3/emails", list_emails, emails),
        route("GET", "/marketing/v3/campaigns", list_campaigns, scopes("marketing.campaigns.read")),
        route("GET", "/cms/v3/pages/landing-pages", list_landing_pages, content),
        route("GET", "/cms/v3/pages/site-pages", list_site_pages, content),
        route("GET", "/cms/v3/blogs/posts", list_blog_posts, content),
        route("GET", "/marketing/v3/forms", list_forms, forms),
        route("GET", "/form-integrations/v1/submissions/forms/{formGuid}", list_submissions,
              scopes("forms", "forms-uploaded-files")),
        route("GET", "/automation/v4/sequences", list_sequences, scopes("automation.sequences.read")),
        # the guide and changelog spell it /crm/v3/objects/...; the legacy reference /crm/objects/v3/...
        route("POST", "/crm/v3/objects/deals/splits/batch/read", batch_read_splits, splits),
        route("POST", "/crm/objects/v3/deals/splits/batch/read", batch_read_splits, splits),
    ]  # fmt: skip
