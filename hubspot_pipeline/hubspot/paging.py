"""The three paging styles of HubSpot's API, and batch calls (hubspot-api.md §2, §3.4, §7.3).

- `paginate_cursor`: GET list endpoints with an `after` cursor in `paging.next.after`; the last
  page has no `paging.next`.
- `paginate_search`: POST CRM search with a numeric `after` offset. HubSpot refuses
  `after + limit > 10,000`, so this never asks for it: it raises `SearchWindowExceeded` before the
  first page when `total` says the window is too wide, and again if the results grow past the cap
  while paging. The caller narrows its window (e.g. `hs_object_id GT <last id>`) and asks again.
- `paginate_offset`: POST with `offset`/`count` and `hasMore` (the v3 lists search).
- `batch`: splits inputs into chunks and POSTs `{"inputs": chunk, **body_extra}`; 200 and 207 are
  both answers (207 carries per-input `errors`). Continuing a per-input `paging` (associations v4)
  is the caller's business.

Each helper yields one page (a list of dicts) per call, so memory stays bounded by a page. A cursor
or offset that does not advance raises instead of looping forever (pitfall 3).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hubspot_pipeline.hubspot.errors import HubSpotError, SearchWindowExceeded

SEARCH_RESULT_CAP = 10_000  # HubSpot answers 400 for after + limit beyond this (api §3.4)


class Requester(Protocol):
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class BatchResult:
    """One chunk's answer: the records found and the per-input errors of a 207."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _next_after(page: Any) -> str | None:
    paging = page.get("paging") if isinstance(page, Mapping) else None
    nxt = paging.get("next") if isinstance(paging, Mapping) else None
    after = nxt.get("after") if isinstance(nxt, Mapping) else None
    return str(after) if after not in (None, "") else None


def _stuck(path: str, position: object) -> HubSpotError:
    return HubSpotError(f"paging did not advance past {position!r} on {path}; stopping instead of looping")


def paginate_cursor(
    client: Requester,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    results_key: str = "results",
    page_size: int = 100,
) -> Iterator[list[dict[str, Any]]]:
    for page, _ in cursor_pages(client, path, params, results_key=results_key, page_size=page_size):
        yield page


def cursor_pages(
    client: Requester,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    results_key: str = "results",
    page_size: int = 100,
    after: str | None = None,
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """`paginate_cursor` from the cursor `after` (None: the first page), each page with the cursor of
    the next one (None after the last), so a reader can checkpoint where it is and resume there."""
    query: dict[str, Any] = {**(params or {}), "limit": page_size}
    if after is not None:
        query["after"] = after
    seen: set[str] = set()
    while True:
        page = client.get(path, query)
        nxt = _next_after(page)
        yield list(page.get(results_key) or []), nxt
        if nxt is None:
            return
        if nxt in seen:
            raise _stuck(path, nxt)
        seen.add(nxt)
        query["after"] = nxt


def paginate_search(
    client: Requester,
    object_type: str,
    body: Mapping[str, Any],
    *,
    page_size: int = 200,
    result_cap: int = SEARCH_RESULT_CAP,
) -> Iterator[list[dict[str, Any]]]:
    path = f"/crm/v3/objects/{object_type}/search"
    request: dict[str, Any] = {k: v for k, v in body.items() if k != "after"}
    offset = int(body.get("after") or 0)
    first = True
    while True:
        limit = min(page_size, result_cap - offset)
        if limit <= 0:
            raise SearchWindowExceeded(
                f"search on {object_type} reaches HubSpot's {result_cap:,}-result cap at offset "
                f"{offset:,}; narrow the window (e.g. hs_object_id GT the last id seen)",
                total=None,
                endpoint=f"POST {path}",
            )
        page = client.post(path, {**request, "limit": limit, **({"after": str(offset)} if offset else {})})
        total = page.get("total")
        if first and isinstance(total, int) and total > result_cap:
            # Fail before yielding anything: the caller would otherwise hold a partial window.
            raise SearchWindowExceeded(
                f"search on {object_type} matches {total:,} records, more than the {result_cap:,} "
                "one query can page through; narrow the window (e.g. hs_object_id GT the last id seen)",
                total=total,
                endpoint=f"POST {path}",
            )
        first = False
        yield list(page.get("results") or [])
        after = _next_after(page)
        if after is None:
            return
        if int(after) <= offset:
            raise _stuck(path, after)
        offset = int(after)


def paginate_offset(
    client: Requester, path: str, body: Mapping[str, Any], *, items_key: str = "lists", count: int = 500
) -> Iterator[list[dict[str, Any]]]:
    offset = int(body.get("offset") or 0)
    while True:
        page = client.post(path, {**body, "offset": offset, "count": count})
        yield list(page.get(items_key) or [])
        if not page.get("hasMore"):
            return
        nxt = int(page.get("offset") or 0)
        if nxt <= offset:
            raise _stuck(path, nxt)
        offset = nxt


def batch(
    client: Requester,
    path: str,
    inputs: Sequence[Any],
    *,
    chunk: int,
    body_extra: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Iterator[BatchResult]:
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    for start in range(0, len(inputs), chunk):
        answer = client.post(
            path, {**(body_extra or {}), "inputs": list(inputs[start : start + chunk])}, params
        )
        answer = answer if isinstance(answer, Mapping) else {}
        yield BatchResult(results=list(answer.get("results") or []), errors=list(answer.get("errors") or []))
