"""Finding what changed in HubSpot cheaply: the searches and listings an incremental sync asks.

- `windowed_ids`: records modified since a moment, with their modified dates, windowed on
  (timestamp, id) so that neither the 10,000-result search cap nor thousands of records sharing one
  timestamp lose or loop;
- `id_range_scan`: every live record of an id range with a few properties, 200 per call, each page
  a new search after the last id read (never near the cap);
- `archived_listing`: the archived list (ids and dates; the API has no "archived since" filter);
- `reconcile_ids`: the live list (ids and `updatedAt`) against the index (`behind_index`);
- `search_total`: how many records match, in one call: it tells when the index looks inconsistent.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.full_sync import ID_PROPERTY, LIST_PAGE
from hubspot_pipeline.sync.index import to_ms
from hubspot_pipeline.sync.object_types import modified_property

SEARCH_PAGE = 200  # search `limit` maximum
SEARCH_CAP = 10_000  # after + limit may not pass this
MAX_ID = (1 << 63) - 1


def _search_window(
    client: HubSpotClient, type_id: str, filters: list[dict], sort: str, prop: str
) -> tuple[list[dict], int]:
    """Up to 10,000 results of one search, sorted by `sort` ascending, and the search's total."""
    path = f"/crm/v3/objects/{type_id}/search"
    results: list[dict] = []
    total = 0
    while True:
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": [prop],
            "limit": min(SEARCH_PAGE, SEARCH_CAP - len(results)),
            **({"after": str(len(results))} if results else {}),
        }
        page = client.post(path, body)
        total = int(page.get("total") or 0)
        found = page.get("results") or []
        results += found
        if not found or len(results) >= min(total, SEARCH_CAP):
            return results, total


def windowed_ids(
    client: HubSpotClient, type_id: str, since_ms: int, extra: list[dict] | None = None
) -> dict[int, int]:
    """Each record whose modified date is at or after `since_ms` (and that matches `extra`), id to
    that date (epoch ms; -1 when HubSpot shows none), in windows on (timestamp, id) that never ask
    past the 10,000-result cap (module docstring)."""
    prop = modified_property(type_id)
    ids: dict[int, int] = {}

    def add(results: list[dict]) -> None:
        for r in results:
            stamp = to_ms((r.get("properties") or {}).get(prop))
            ids[int(r["id"])] = -1 if stamp is None else stamp

    lower, operator = since_ms, "GTE"
    while True:
        filters = [{"propertyName": prop, "operator": operator, "value": str(lower)}, *(extra or [])]
        results, total = _search_window(client, type_id, filters, prop, prop)
        add(results)
        if len(results) >= total:
            return ids
        stamp = to_ms((results[-1].get("properties") or {}).get(prop))
        if stamp is None:  # sorted last: nothing dated is left past the cap
            return ids
        last_id = 0
        while True:  # every record at exactly `stamp`, by id
            tie = [
                {"propertyName": prop, "operator": "EQ", "value": str(stamp)},
                {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(last_id)},
                *(extra or []),
            ]
            found, tie_total = _search_window(client, type_id, tie, ID_PROPERTY, prop)
            add(found)
            if len(found) >= tie_total or not found:
                break
            last_id = int(found[-1]["id"])
        lower, operator = stamp, "GT"


def archived_listing(client: HubSpotClient, type_id: str) -> list[dict]:
    """Every archived record of a type as the list endpoint gives it (id, createdAt, updatedAt,
    archivedAt; one property), sorted by id."""
    listing = client.paginate(
        f"/crm/v3/objects/{type_id}", {"archived": "true", "properties": ID_PROPERTY}, page_size=LIST_PAGE
    )
    found = {int(r["id"]): r for page in listing for r in page}
    return [found[i] for i in sorted(found)]


def reconcile_ids(client: HubSpotClient, type_id: str, ids: np.ndarray, updated: np.ndarray) -> set[int]:
    """Live ids the index lacks or holds older than the account: a cheap scan of the list endpoint
    (ids and `updatedAt`, one property, 100 per call) against the index's live `ids` (sorted) and
    their `updated` (epoch ms). It recovers what the incremental searches missed (late in the search
    index, failed reads); deletes are the archived list's."""
    listing = client.paginate(
        f"/crm/v3/objects/{type_id}", {"archived": "false", "properties": ID_PROPERTY}, page_size=LIST_PAGE
    )
    stale: set[int] = set()
    for page in listing:
        listed = np.array([int(r["id"]) for r in page], dtype=np.int64)
        stamps = np.array([to_ms(r.get("updatedAt")) or 0 for r in page], dtype=np.int64)
        stale.update(int(i) for i in listed[behind_index(ids, updated, listed, stamps)])
    return stale


def behind_index(ids: np.ndarray, updated: np.ndarray, found: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """Which of the records `found` in HubSpot, modified at `stamps`, the index lacks or holds in
    an older version, given its live `ids` (sorted) and their `updated` (epoch ms)."""
    if not len(ids):
        return np.ones(len(found), dtype=bool)
    at = np.clip(np.searchsorted(ids, found), 0, len(ids) - 1)
    return (ids[at] != found) | (updated[at] < stamps)


def id_range_scan(
    client: HubSpotClient, type_id: str, properties: list[str], lo: int, hi: int
) -> Iterator[list[dict]]:
    """Pages of the live records with `lo <= id <= hi`, ascending, with `properties`: each page a
    search for ids past the last one read, so no page comes near the 10,000-result cap."""
    path = f"/crm/v3/objects/{type_id}/search"
    after = lo - 1
    while True:
        filters = [
            {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(after)},
            {"propertyName": ID_PROPERTY, "operator": "LTE", "value": str(hi)},
        ]
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": ID_PROPERTY, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": SEARCH_PAGE,
        }
        page = client.post(path, body)
        found = page.get("results") or []
        if found:
            yield found
        if not found or len(found) >= int(page.get("total") or 0):
            return
        after = int(found[-1]["id"])


def search_total(client: HubSpotClient, type_id: str, filters: list[dict]) -> int:
    """How many live records of a type match `filters`, in one call (search lags writes)."""
    body = {"filterGroups": [{"filters": filters}], "properties": [ID_PROPERTY], "limit": 1}
    return int(client.post(f"/crm/v3/objects/{type_id}/search", body).get("total") or 0)
