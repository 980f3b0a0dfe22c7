"""A session on a sandbox in a clean state (no rate limits, no pending faults), for the HTTP tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests

from hubspot_sandbox import Sandbox


@contextlib.contextmanager
def clean_session(sb: Sandbox) -> Iterator[requests.Session]:
    sb.set_rate_limits(enabled=False)
    sb.set_failure_rate(0.0)
    with sb.session() as session:
        yield session
    sb.set_rate_limits(enabled=False)
