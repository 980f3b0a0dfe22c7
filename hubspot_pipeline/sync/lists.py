"""Fetchers for lists (segments) and their memberships.

The v3 lists search pages by offset (500 lists a page); memberships page by cursor (250 a page) and
come back as rows of a Parquet snapshot, one page at a time, so a list of millions stays out of memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.rows import Rows
from hubspot_pipeline.sync.timestamps import iso_ms

LIST_PROPERTIES = ["hs_list_size", "hs_last_record_added_at", "hs_last_record_removed_at"]
MEMBERSHIP_SCHEMA = pa.schema(
    [("list_id", pa.string()), ("record_id", pa.int64()), ("added_at", pa.string())]
)


def fetch_lists(client: HubSpotClient, deps: Mapping[str, Any]) -> list[dict]:
    body = {"query": "", "additionalProperties": LIST_PROPERTIES}
    lists: dict[str, dict] = {}
    for page in client.paginate_offset("/crm/v3/lists/search", body, items_key="lists", count=500):
        for item in page:
            lists.setdefault(str(item["listId"]), item)
    return [lists[k] for k in sorted(lists, key=int)]


def fetch_list_memberships(client: HubSpotClient, deps: Mapping[str, Any]) -> Rows:
    def batches() -> Iterator[pa.RecordBatch]:
        for item in deps["lists"]:
            list_id = str(item["listId"])
            for page in client.paginate(f"/crm/v3/lists/{list_id}/memberships", page_size=250):
                yield pa.RecordBatch.from_pydict(
                    {
                        "list_id": [list_id] * len(page),
                        "record_id": [int(m["recordId"]) for m in page],
                        # normalised so that text order is time order for the as-of filter
                        "added_at": [iso_ms(m.get("membershipTimestamp")) for m in page],
                    },
                    schema=MEMBERSHIP_SCHEMA,
                )

    return Rows(MEMBERSHIP_SCHEMA, batches())
