"""HubSpotClient against the sandbox over real HTTP: retries, fail-fast errors, pacing, paging, secrecy.

Waits are observed through an injected `ManualClock` (its `sleep` records and advances fake time),
so a 10-second backoff costs nothing; the two tests that need HubSpot's real 10-second window are
marked slow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from hubspot_pipeline.hubspot import (
    HubSpotAuthError,
    HubSpotClient,
    HubSpotDailyLimitError,
    HubSpotRequestError,
    HubSpotScopeError,
    HubSpotTransientError,
    SearchWindowExceeded,
)
from hubspot_pipeline.hubspot.endpoints import endpoint_template, is_search
from hubspot_pipeline.hubspot.failures import error_for_response, next_midnight
from hubspot_pipeline.hubspot.pacing import CIRCUIT_OPEN_S, ManualClock
from hubspot_pipeline.hubspot.paging import paginate_search
from hubspot_pipeline.hubspot.retry import Retry, RetryPolicy
from hubspot_pipeline_tests.fake_http import json_server
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.routes import LEGACY_ROUTE_KEYS, ROUTES

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
CONTACTS = "/crm/v3/objects/contacts"
LIST_ROUTE = "GET /crm/v3/objects/{objectType}"
SEARCH_PATH = "/crm/v3/objects/contacts/search"
SEED = 7  # jitter seed shared by the client and the expected backoffs
BY_ID = {"sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "properties": ["email"]}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=1, scale="tiny", token=TOKEN, slow_seconds=1.0)) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    sandbox.set_rate_limits(enabled=False, retry_after=None)
    sandbox.reset_calls()
    return sandbox


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_client(sb: Sandbox, clock: ManualClock, **kwargs: Any) -> HubSpotClient:
    kwargs.setdefault("token", TOKEN)
    return HubSpotClient(
        sb.base_url, kwargs.pop("token"), sleep=clock.sleep, clock=clock, rng=random.Random(SEED), **kwargs
    )


def backoffs(n: int) -> list[float]:
    """The first n jittered backoffs a client seeded with SEED waits."""
    policy = RetryPolicy(rng=random.Random(SEED))
    return [policy.backoff(attempt) for attempt in range(1, n + 1)]


def live_contact_ids(sb: Sandbox) -> list[str]:
    return [str(i) for i in sb.account.record_ids("0-1", archived=False, after=None, limit=10**9)]


def ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [record["id"] for page in pages for record in page]


# -- plain calls and counting ------------------------------------------------------------------


def test_get_returns_parsed_json_and_counts_the_call(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    page = client.get(CONTACTS, {"limit": 3})
    assert [r["id"] for r in page["results"]] == live_contact_ids(sb)[:3]
    assert client.calls == Counter({LIST_ROUTE: 1})
    assert client.total_calls() == sb.total_calls() == 1
    assert clock.sleeps == []


def test_endpoint_templates_keep_the_counter_small() -> None:
    assert (
        endpoint_template("get", "/crm/v3/objects/0-1/123") == "GET /crm/v3/objects/{objectType}/{objectId}"
    )
    assert endpoint_template("POST", "/crm/v3/objects/p123_cars/batch/read") == (
        "POST /crm/v3/objects/{objectType}/batch/read"
    )
    assert endpoint_template("GET", "/crm/v3/owners/") == "GET /crm/v3/owners"
    assert endpoint_template("GET", "/crm/v4/objects/deals/9/associations/contacts") == (
        "GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"
    )
    assert endpoint_template("GET", "/settings/v3/users/teams") == "GET /settings/v3/users/teams"
    assert (
        endpoint_template("GET", "/crm/v3/lists/42/memberships") == "GET /crm/v3/lists/{listId}/memberships"
    )
    assert endpoint_template("GET", "/unknown/v1/thing/2-77/55") == "GET /unknown/v1/thing/{id}/{id}"
    assert is_search("POST", SEARCH_PATH)
    assert not is_search("POST", "/crm/v3/lists/search")


def test_endpoint_templates_match_the_sandbox_route_keys() -> None:
    """Same keys on both sides, so a test can compare `client.calls` with `Sandbox.calls` directly."""
    # the legacy endpoints are the sandbox's for other clients: the pipeline never calls them
    # and the journal's files are fetched from the pre-signed URL an entry gives, not from a route
    api_routes = [
        r
        for r in ROUTES
        if not r.control and r.key not in LEGACY_ROUTE_KEYS and not r.key.startswith("GET /_journal/")
    ]
    assert len(api_routes) > 30
    for route in api_routes:
        path = re.sub(r"\{\w+\}", "7", route.template)
        assert endpoint_template(route.method, path + "/") == route.key
        assert is_search(route.method, path) == route.search


# -- retried failures ---------------------------------------------------------------------------


def test_429_without_retry_after_waits_out_the_ten_second_window(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    sb.inject_fault("429", path_prefix=CONTACTS)
    assert client.get(CONTACTS, {"limit": 2})["results"]
    assert clock.sleeps == [10.0]
    assert client.retries == Counter({"429_ten_secondly": 1})
    assert client.calls == Counter({LIST_ROUTE: 2})
    assert sb.total_calls() == 2


def test_429_with_retry_after_honours_the_header(sb: Sandbox, clock: ManualClock) -> None:
    sb.set_rate_limits(enabled=False, retry_after=3)
    client = make_client(sb, clock)
    sb.inject_fault("429", path_prefix=CONTACTS)
    client.get(CONTACTS, {"limit": 2})
    assert clock.sleeps == [3.0]
    assert client.retries == Counter({"429": 1})
    assert sb.total_calls() == 2


def test_search_429_waits_about_a_second(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    sb.inject_fault("429_search", path_prefix=SEARCH_PATH)
    page = client.post(SEARCH_PATH, {**BY_ID, "limit": 5})
    assert [r["id"] for r in page["results"]] == live_contact_ids(sb)[:5]
    assert clock.sleeps == [1.0]
    assert client.retries == Counter({"429_search": 1})
    assert sb.total_calls() == 2


@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_server_errors_are_retried_with_jittered_backoff(
    sb: Sandbox, clock: ManualClock, status: str
) -> None:
    client = make_client(sb, clock)
    sb.inject_fault(status, path_prefix=CONTACTS)
    assert [r["id"] for r in client.get(CONTACTS, {"limit": 4})["results"]] == live_contact_ids(sb)[:4]
    assert clock.sleeps == backoffs(1)
    assert 0.25 <= clock.sleeps[0] <= 0.5
    assert client.retries == Counter({status: 1})
    assert sb.total_calls() == 2


@pytest.mark.parametrize(("fault", "reason"), [("reset", "reset"), ("truncate", "truncated")])
def test_broken_connections_and_bodies_are_retried(
    sb: Sandbox, clock: ManualClock, fault: str, reason: str
) -> None:
    client = make_client(sb, clock)
    sb.inject_fault(fault, path_prefix=CONTACTS)
    assert [r["id"] for r in client.get(CONTACTS, {"limit": 4})["results"]] == live_contact_ids(sb)[:4]
    assert client.retries == Counter({reason: 1})
    assert clock.sleeps == backoffs(1)
    assert client.total_calls() == 2


def test_slow_answer_within_the_timeout_is_awaited(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock, timeout=5.0)
    sb.inject_fault("slow", path_prefix=CONTACTS)
    started = time.monotonic()
    assert client.get(CONTACTS, {"limit": 1})["results"]
    assert time.monotonic() - started >= 0.9  # the sandbox held the answer for slow_seconds=1
    assert client.retries == Counter()
    assert sb.total_calls() == 1


def test_slow_answer_past_the_timeout_is_retried(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock, timeout=0.3)
    sb.inject_fault("slow", path_prefix=CONTACTS)
    assert client.get(CONTACTS, {"limit": 1})["results"]
    assert client.retries == Counter({"timeout": 1})
    assert client.total_calls() == 2


def test_retries_exhausted_after_exactly_one_plus_max_retries_calls(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock, max_retries=3)
    sb.inject_fault("503", count=4, path_prefix=CONTACTS)
    with pytest.raises(HubSpotTransientError) as caught:
        client.get(CONTACTS)
    err = caught.value
    assert sb.total_calls() == 4
    assert err.attempts == 4
    assert err.status == 503
    assert err.endpoint == LIST_ROUTE
    assert "GET /crm/v3/objects/{objectType} still failing after 4 attempts" in str(err)
    assert "HTTP 503" in str(err)
    assert clock.sleeps == backoffs(3)
    assert client.retries == Counter({"503": 3})


def test_retry_policy_waits_by_status() -> None:
    assert RetryPolicy(rng=random.Random(SEED)).for_status(524, {}, None, 1) == Retry("524", backoffs(1)[0])
    policy = RetryPolicy(rng=random.Random(SEED))
    assert policy.for_status(423, {}, None, 1) == Retry("423", 2.0)  # "wait at least 2 s"
    assert policy.for_status(477, {"Retry-After": "120"}, None, 1) == Retry("477", 120.0)
    in_90s = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    dated = policy.for_status(429, {"Retry-After": in_90s}, {"policyName": "TEN_SECONDLY_ROLLING"}, 1)
    assert dated is not None and 88 <= dated.wait <= 90 and dated.rate_limited
    interval = {"X-HubSpot-RateLimit-Interval-Milliseconds": "1000"}
    assert policy.for_status(429, interval, {"policyName": "TEN_SECONDLY_ROLLING"}, 3).wait == 1.0
    secondly = {"message": "You have reached your secondly limit."}
    assert policy.for_status(429, {}, secondly, 3, search=True) == Retry("429_search", 3.0, rate_limited=True)
    assert policy.for_status(429, {"Retry-After": "5"}, {"policyName": "DAILY"}, 1) is None
    assert policy.for_status(400, {}, None, 1) is None
    assert policy.for_status(404, {}, None, 1) is None
    assert all(5.0 <= policy.backoff(attempt) <= 10.0 for attempt in (6, 7, 8, 50))  # capped at max_delay


# -- fail at once -------------------------------------------------------------------------------


def test_invalid_token_fails_at_once(sb: Sandbox, clock: ManualClock) -> None:
    bad = "pat-na1-bogus-0000-token"
    client = make_client(sb, clock, token=bad)
    with pytest.raises(HubSpotAuthError) as caught:
        client.get(CONTACTS)
    err = caught.value
    assert sb.total_calls() == 1
    assert (err.status, err.category) == (401, "INVALID_AUTHENTICATION")
    assert err.correlation_id
    assert "invalid or revoked; check HUBSPOT_ACCESS_TOKEN" in str(err)
    assert err.correlation_id in str(err)
    for text in (str(err), repr(err), repr(err.args), repr(client)):
        assert bad not in text


def test_missing_scope_fails_at_once_naming_the_scope(sb: Sandbox, clock: ManualClock) -> None:
    sb.add_token("pat-contacts-only", scopes={"crm.objects.contacts.read"})
    client = make_client(sb, clock, token="pat-contacts-only")
    assert client.get(CONTACTS, {"limit": 1})["results"]
    with pytest.raises(HubSpotScopeError) as caught:
        client.get("/crm/v3/objects/companies")
    err = caught.value
    assert sb.total_calls() == 2
    assert (err.status, err.category) == (403, "MISSING_SCOPES")
    assert err.missing_scopes == ["crm.objects.companies.read"]
    assert "crm.objects.companies.read" in str(err)
    assert "private app" in str(err)


def test_expired_token_says_to_refresh_it(sb: Sandbox, clock: ManualClock) -> None:
    sb.add_token("pat-expired", scopes=None, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    client = make_client(sb, clock, token="pat-expired")
    with pytest.raises(HubSpotAuthError) as caught:
        client.get(CONTACTS)
    assert sb.total_calls() == 1
    assert caught.value.category == "EXPIRED_AUTHENTICATION"
    assert "the access token expired" in str(caught.value)
    assert "refresh it" in str(caught.value)


def test_daily_limit_fails_at_once_and_says_when_it_resets(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock, account_timezone="America/New_York")
    sb.inject_fault("429_daily", path_prefix=CONTACTS)
    before = next_midnight(dt.datetime.now(dt.UTC), "America/New_York")
    with pytest.raises(HubSpotDailyLimitError) as caught:
        client.get(CONTACTS)
    after = next_midnight(dt.datetime.now(dt.UTC), "America/New_York")
    err = caught.value
    assert sb.total_calls() == 1
    assert clock.sleeps == []
    assert (err.status, err.category) == (429, "DAILY")
    assert err.resets_at in (before, after)
    assert err.resets_at.tzinfo == ZoneInfo("America/New_York")
    assert (err.resets_at.hour, err.resets_at.minute) == (0, 0)
    assert f"daily API quota is exhausted; it resets at {err.resets_at.isoformat()}" in str(err)


def test_unknown_route_is_a_request_error_without_retry(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    with pytest.raises(HubSpotRequestError) as caught:
        client.get("/crm/v3/no-such-api/things")
    assert caught.value.status == 404
    assert client.total_calls() == 1  # the sandbox counts no unknown route
    assert client.retries == Counter()


def test_too_long_url_says_to_use_a_post_body(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    properties = ",".join(f"custom_property_number_{i}" for i in range(1000))
    with pytest.raises(HubSpotRequestError) as caught:
        client.get(CONTACTS, {"properties": properties})
    assert caught.value.status == 414
    assert "POST body" in str(caught.value)
    assert client.total_calls() == 1
    assert client.retries == Counter()


# -- pacing ---------------------------------------------------------------------------------------


def test_calls_over_the_budget_wait_for_the_window(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock, rate_limit_per_10s=4)
    for _ in range(10):
        client.get(CONTACTS, {"limit": 1})
    assert clock.sleeps == [10.5, 10.5]  # HubSpot's 10 s and the pacer's 5 % margin
    assert sb.total_calls() == 10


def test_real_ten_secondly_429_then_paced_from_headers(
    sb: Sandbox, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another integration spends the burst; the client waits out the 429, then adopts the server's
    Max. The sandbox's rate window runs on the client's manual clock: nothing really sleeps."""
    monkeypatch.setattr(sb.limiter, "clock", clock)
    sb.set_rate_limits(enabled=True, burst=3)
    for _ in range(3):  # the neighbour: same token, not our client
        answer = requests.get(
            f"{sb.base_url}{CONTACTS}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        assert answer.status_code == 200
    client = make_client(sb, clock)
    client.get(CONTACTS, {"limit": 1})
    assert client.retries == Counter({"429_ten_secondly": 1})
    assert clock.sleeps == [10.0]  # X-HubSpot-RateLimit-Interval-Milliseconds: 10000, no Retry-After
    client.get(CONTACTS, {"limit": 1})
    assert client.pacer.general_limit == 3  # X-HubSpot-RateLimit-Max caps the configured 100
    assert client.retries == Counter({"429_ten_secondly": 1})
    assert sb.total_calls() == 3 + 2 + 1


def test_pace_file_shares_the_budget_between_clients(sb: Sandbox, clock: ManualClock, tmp_path: Path) -> None:
    """Two clients (as two step processes would) on one pace file: 2 calls per 10 s for the pair.
    Processes sharing the file are covered in test_hubspot_pacing."""
    pace = tmp_path / "hubspot.pace"
    first, second = (make_client(sb, clock, rate_limit_per_10s=2, pace_file=pace) for _ in range(2))
    started = clock.now
    for client in (first, second, first, second):
        client.get(CONTACTS, {"limit": 1})
    assert sb.total_calls() == 4
    assert clock.sleeps == [pytest.approx(10.5)]  # the third call waited for the first to roll off
    assert clock.now - started == pytest.approx(10.5)


# -- paging -----------------------------------------------------------------------------------------


def test_paginate_yields_every_id_once_in_order(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    pages = list(client.paginate(CONTACTS, {"properties": "email"}, page_size=10))
    expected = live_contact_ids(sb)
    assert ids(pages) == expected
    assert len(pages) == math.ceil(len(expected) / 10) == sb.total_calls()
    assert client.calls == sb.calls


def test_one_client_serves_several_threads(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    expected = live_contact_ids(sb)
    with ThreadPoolExecutor(max_workers=4) as pool:
        pages = list(pool.map(lambda i: client.get(CONTACTS, {"limit": 1, "after": expected[i]}), range(20)))
    assert [p["results"][0]["id"] for p in pages] == expected[:20]
    assert client.calls == sb.calls == Counter({LIST_ROUTE: 20})


def test_paginate_search_pages_through_the_window(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    pages = list(client.paginate_search("contacts", BY_ID, page_size=7))
    expected = live_contact_ids(sb)
    assert ids(pages) == expected
    assert len(pages) == math.ceil(len(expected) / 7) == sb.total_calls()


def test_paginate_search_refuses_a_window_wider_than_the_cap(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    total = len(live_contact_ids(sb))
    with pytest.raises(SearchWindowExceeded) as caught:
        next(paginate_search(client, "contacts", BY_ID, page_size=4, result_cap=total - 1))
    assert caught.value.total == total
    assert sb.total_calls() == 1


def test_paginate_search_never_asks_past_10000(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    # A window resumed at offset 9,990 may only ask for 10 more; 200 would be HubSpot's 400.
    assert list(client.paginate_search("contacts", {**BY_ID, "after": "9990"}, page_size=200)) == [[]]
    assert sb.total_calls() == 1


def test_paginate_search_stops_when_results_grow_past_the_cap() -> None:
    class Growing:
        """Every page says there is more: paging must stop at the cap, not ask past it."""

        def __init__(self) -> None:
            self.bodies: list[dict[str, Any]] = []

        def get(self, path: str, params: Any = None) -> Any:
            raise AssertionError("search pages by POST")

        def post(self, path: str, body: Any, params: Any = None) -> Any:
            self.bodies.append(body)
            start = int(body.get("after", 0))
            rows = [{"id": str(start + i)} for i in range(body["limit"])]
            return {"total": 5, "results": rows, "paging": {"next": {"after": str(start + body["limit"])}}}

    fake = Growing()
    pages = paginate_search(fake, "contacts", {}, page_size=4, result_cap=10)
    assert ids([next(pages), next(pages), next(pages)]) == [str(i) for i in range(10)]
    with pytest.raises(SearchWindowExceeded):
        next(pages)
    assert [(b.get("after"), b["limit"]) for b in fake.bodies] == [(None, 4), ("4", 4), ("8", 2)]


def test_paginate_offset_walks_the_lists(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    expected = sorted(str(item["listId"]) for item in sb.account.lists())
    assert len(expected) > 2
    pages = list(client.paginate_offset("/crm/v3/lists/search", {"query": ""}, count=2))
    got = [str(item["listId"]) for page in pages for item in page]
    assert sorted(got) == expected
    assert len(got) == len(set(got))
    assert sb.total_calls() == len(pages) == math.ceil(len(expected) / 2)


def test_batch_splits_into_chunks_and_returns_207_errors(sb: Sandbox, clock: ManualClock) -> None:
    client = make_client(sb, clock)
    wanted = live_contact_ids(sb)[:5]
    inputs = [{"id": i} for i in [*wanted, "999999999"]]
    chunks = list(
        client.batch(f"{CONTACTS}/batch/read", inputs, chunk=2, body_extra={"properties": ["email"]})
    )
    assert len(chunks) == 3 == sb.total_calls()
    assert sorted(r["id"] for c in chunks for r in c.results) == sorted(wanted)
    assert [len(c.errors) for c in chunks] == [0, 0, 1]
    assert chunks[2].errors[0]["category"] == "OBJECT_NOT_FOUND"
    assert client.calls == Counter({"POST /crm/v3/objects/{objectType}/batch/read": 3})


# -- the token stays secret -----------------------------------------------------------------------


def test_token_never_appears_in_logs_errors_or_repr(
    sb: Sandbox, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(sb, clock, max_retries=2)
    sb.inject_fault("503", path_prefix=CONTACTS)
    sb.inject_fault("reset", path_prefix=CONTACTS)
    client.get(CONTACTS, {"limit": 1})
    sb.inject_fault("502", count=3, path_prefix=CONTACTS)
    with pytest.raises(HubSpotTransientError) as transient:
        client.get(CONTACTS)
    retry_lines = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retry_lines) == 4
    assert "GET /crm/v3/objects/{objectType}: HTTP 503 SERVICE_UNAVAILABLE on attempt 1/3" in retry_lines[0]
    assert retry_lines[1].startswith("HubSpot GET /crm/v3/objects/{objectType}: reset (")
    texts = [caplog.text, str(transient.value), repr(transient.value), repr(client)]
    texts += [repr(r.args) for r in caplog.records]
    assert all(TOKEN not in text for text in texts)
    echoed = error_for_response(
        400, {}, {"message": f"bad header Bearer {TOKEN}"}, endpoint="GET /x", redact=client.redact
    )
    assert TOKEN not in str(echoed) and "Bearer <redacted>" in str(echoed)
    assert client.redact(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer <redacted>"
    assert client.redact(f"Authorization: bearer other-{TOKEN[:8]}") == "Authorization: bearer <redacted>"


# -- a dead API ------------------------------------------------------------------------------------


def test_once_a_call_fails_through_every_retry_the_deployment_tries_each_call_once(
    sb: Sandbox, clock: ManualClock, tmp_path: Path
) -> None:
    """The circuit lives in the pace file, so the other steps of the run (other processes) fail fast
    with the first one's message; the first call that succeeds closes it again."""
    pace = tmp_path / "hubspot.pace"
    sb.set_failure_rate(1.0, kinds=["503"])
    first = make_client(sb, clock, pace_file=pace)
    with pytest.raises(HubSpotTransientError, match="still failing after 9 attempts") as failed:
        first.get(CONTACTS, {"limit": 1})
    assert sb.total_calls() == 9
    second = make_client(sb, clock, pace_file=pace)
    with pytest.raises(HubSpotTransientError) as fast:
        second.get("/crm/v3/owners")
    assert str(fast.value) == f"HubSpot is failing every call (tried once): {failed.value}"
    assert sb.total_calls() == 10 and second.retries == Counter()
    sb.set_failure_rate(0.0)
    third = make_client(sb, clock, pace_file=pace)
    third.get(CONTACTS, {"limit": 1})  # HubSpot answers again: the circuit closes
    sb.set_failure_rate(1.0, kinds=["503"])
    with pytest.raises(HubSpotTransientError, match="after 9 attempts"):
        make_client(sb, clock, pace_file=pace).get(CONTACTS, {"limit": 1})
    assert sb.total_calls() == 11 + 9


def test_an_old_circuit_no_longer_cuts_retries_short(sb: Sandbox, clock: ManualClock, tmp_path: Path) -> None:
    pace = tmp_path / "hubspot.pace"
    sb.set_failure_rate(1.0, kinds=["503"])
    with pytest.raises(HubSpotTransientError):
        make_client(sb, clock, pace_file=pace).get(CONTACTS, {"limit": 1})
    clock.now += CIRCUIT_OPEN_S + 1
    sb.set_failure_rate(0.3, kinds=["503"])  # flaky, not dead: retries recover
    client = make_client(sb, clock, pace_file=pace)
    for _ in range(5):
        client.get(CONTACTS, {"limit": 1})
    assert sum(client.retries.values()) > 0


# -- text UTF-8 cannot encode ----------------------------------------------------------------------


def test_lone_surrogates_in_an_answer_become_replacement_characters(clock: ManualClock) -> None:
    """HubSpot's JSON may escape half of a UTF-16 pair; nothing after the client could store it."""
    body = (
        b'{"results":[{"id":"1","properties":{"firstname":"lone \\ud800 surrogate",'
        b'"lastname":"pair \\ud83d\\ude00 kept","note":"low \\udc00 alone","\\udbff":"key"}}]}'
    )

    with json_server(lambda _: body) as base_url:
        client = HubSpotClient(base_url, TOKEN, clock=clock, sleep=clock.sleep)
        (record,) = client.get(CONTACTS)["results"]
    assert record["properties"] == {
        "firstname": "lone \ufffd surrogate",
        "lastname": "pair \U0001f600 kept",
        "note": "low \ufffd alone",
        "\ufffd": "key",
    }
    assert client.replaced_text == Counter({"GET /crm/v3/objects/{objectType}": 3})
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # storable now
