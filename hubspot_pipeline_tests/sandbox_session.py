"""A session on a sandbox in a clean state (no rate limits, no pending faults), for the HTTP tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests

from hubspot_pipeline.hubspot import HubSpotClient
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
