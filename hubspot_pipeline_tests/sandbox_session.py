"""A session on a sandbox in a clean state (no rate limits, no pending faults), for the HTTP tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.other_types import object_id
from hubspot_sandbox import Sandbox


@contextlib.contextmanager
def clean_session(sb: Sandbox) -> Iterator[requests.Session]:
    sb.set_rate_limits(enabled=False)
    sb.set_failure_rate(0.0)
    with sb.session() as session:
        yield session
    sb.set_rate_limits(enabled=False)


class Killed(RuntimeError):
    """The process dying mid-run."""


def killed_after(client: HubSpotClient, posts: int | None) -> HubSpotClient:
    """`client`, made to die (raise `Killed`) at its POST after the first `posts` (None: never)."""
    if posts is None:
        return client
    post, count = client.post, [0]

    def failing(*args: object, **kwargs: object) -> object:
        count[0] += 1
        if count[0] > posts:
            raise Killed("killed")
        return post(*args, **kwargs)  # type: ignore[arg-type]

    client.post = failing  # type: ignore[method-assign]
    return client


def served_types(sb: Sandbox) -> list:
    """The account's object types HubSpot serves records of: every type but those it has not activated."""
    return [t for t in sb.account.object_types() if sb.is_activated(t.type_id)]


# the sandbox's record kinds of the export's types read outside the objects API (sync.other_types)
OTHER_KINDS = {"0-29": "marketing_emails", "0-35": "campaigns", "0-25": "landing_pages", "0-38": "site_pages",
               "0-39": "blog_posts", "0-28": "forms", "0-58": "sequences"}  # fmt: skip


def other_type_ids(sb: Sandbox) -> dict[str, set[int]]:
    """The sandbox's live records of each type read outside the objects API, as OBJECTIDs (form
    submissions: of every form HubSpot lists, archived ones included)."""
    market = sb.account.marketing
    found = {tid: {object_id(r["id"]) for r in market.records(kind)} for tid, kind in OTHER_KINDS.items()}
    forms = [r["id"] for r in market.records("forms", archived=None)]
    found["0-15"] = {object_id(s["conversionId"]) for f in forms for s in market.submissions(f)}
    found["0-72"] = {object_id(s["id"]) for d in market.split_deal_ids() for s in market.deal_splits(d)}
    return found


def other_objects_rows(sb: Sandbox) -> set[tuple[str, str]]:
    """`other_type_ids` as OBJECTS' (OBJECTTYPEID, OBJECTID) rows."""
    return {(tid, str(oid)) for tid, ids in other_type_ids(sb).items() for oid in ids}
