"""Paging shared by the endpoints: cursors, page-size maxima, offset pages of in-memory collections."""

from __future__ import annotations

from typing import Any

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.responses import paged


def page_limit(ctx: RequestContext, default: int, maximum: int) -> int:
    """`limit` from the query: default when absent, HubSpot's 400 above the endpoint's maximum."""
    return ctx.arg_int("limit", default, maximum, minimum=1)


def cursor(name: str, value: Any) -> int:
    """A numeric `after` cursor (record ids, search offsets, list offsets); 400 when it is not one."""
    return checked_int(name, value)


def offset_window(ctx: RequestContext, default: int, maximum: int) -> tuple[int, int]:
    """(limit, offset) of an offset-paged request; the limit is checked first."""
    limit = page_limit(ctx, default, maximum)
    return limit, cursor("after", ctx.arg("after") or 0)


def window_page(
    ctx: RequestContext, rows: list[Any], limit: int, start: int, size: int, **extra: Any
) -> dict:
    """A page holding `rows`, the items [start, start + limit) of `size`; the cursor is the next offset."""
    end = start + limit
    next_after = str(end) if end < size else None
    link = ctx.next_link(next_after) if next_after else None
    return paged(rows, next_after, link, **extra)


def offset_page(ctx: RequestContext, items: list[Any], default: int, maximum: int, **extra: Any) -> dict:
    """One page of an in-memory collection; the cursor is the offset of the next item."""
    limit, start = offset_window(ctx, default, maximum)
    return window_page(ctx, items[start : start + limit], limit, start, len(items), **extra)
