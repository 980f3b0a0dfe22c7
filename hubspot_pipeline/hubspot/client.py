"""`HubSpotClient`: one pooled session to HubSpot with auth, pacing, retries and call counting.

    client = HubSpotClient(base_url, token, rate_limit_per_10s=100, pace_file="/tmp/hubspot.pace")
    client.get("/crm/v3/properties/contacts")                  -> parsed JSON
    client.post("/crm/v3/objects/contacts/batch/read", body)   -> parsed JSON (200 and 207 alike)
    for page in client.paginate("/crm/v3/objects/contacts", {"properties": "email"}): ...
    for page in client.paginate_search("contacts", {"filterGroups": [...], "sorts": [...]}): ...
    for page in client.paginate_offset("/crm/v3/lists/search", {"query": ""}): ...
    for chunk in client.batch("/crm/v3/objects/contacts/batch/read", [{"id": "1"}], chunk=100): ...
    client.calls    Counter "METHOD /route/{template}" -> HTTP attempts (retries included)
    client.retries  Counter reason ("503", "429_ten_secondly", "reset", "timeout", ...) -> retries
    client.replaced_text  Counter "METHOD /route" -> lone UTF-16 surrogates in answers, made U+FFFD

Every request waits for the shared rate budget (`pacing.Pacer`), is retried on transient failures
(`retry.RetryPolicy`: 429 except DAILY, 423, 477, 5xx, resets, timeouts, truncated or invalid JSON)
up to `max_retries` times, and otherwise fails at once with a typed error (`errors`). The client is
safe to share between a few threads. The token is sent only in the Authorization header; it is
redacted from every log line and error message, and `repr(client)` does not show it.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from http.client import IncompleteRead
from typing import Any

import requests
import requests.auth
from requests.adapters import HTTPAdapter

from hubspot_pipeline import text
from hubspot_pipeline.hubspot import paging
from hubspot_pipeline.hubspot.endpoints import endpoint_template, is_search
from hubspot_pipeline.hubspot.errors import HubSpotTransientError
from hubspot_pipeline.hubspot.failures import error_for_response
from hubspot_pipeline.hubspot.pacing import FilePaceState, MemoryPaceState, Pacer
from hubspot_pipeline.hubspot.retry import Retry, RetryPolicy

DEFAULT_BASE_URL = "https://api.hubapi.com"
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


# Transport failures worth resending: the pipeline only reads, so every request is idempotent.
_TRANSPORT_FAULTS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    IncompleteRead,
)


class _BearerAuth(requests.auth.AuthBase):
    """Sets the Authorization header per request. As the session's `auth` it also keeps requests
    from substituting ~/.netrc credentials, and its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


class _Anonymous(requests.auth.AuthBase):
    """No Authorization header: a pre-signed URL or the OAuth token endpoint must not get the bearer."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


@dataclass(frozen=True)
class _Send:
    """What one request sends besides its method and URL."""

    params: Mapping[str, Any] | None
    body: Any
    form: Mapping[str, str] | None
    auth: requests.auth.AuthBase | None  # None: the session's bearer


@dataclass(frozen=True)
class _Answer:
    value: Any


def _fault_reason(exc: Exception) -> str:
    """A short name for a transport failure (retry counter key)."""
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | IncompleteRead):
        return "truncated"
    text = str(exc).lower()
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return "reset"
    return "connection"


def _parse_json(resp: requests.Response) -> tuple[Any, int]:
    """The body's JSON, with lone surrogates made U+FFFD (`text`), and how many were replaced."""
    if not resp.content.strip():
        return None, 0
    value = json.loads(resp.content)
    return text.clean_json(value) if text.might_hold_surrogates(resp.content) else (value, 0)


def _error_body(resp: requests.Response) -> Any:
    try:
        return _parse_json(resp)[0]
    except ValueError:
        return None  # HTML 404 pages, proxies' 502 pages: categorised by status alone


class HubSpotClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        rate_limit_per_10s: int = 100,
        search_per_second: int = 5,
        max_retries: int = 8,
        timeout: float = 60.0,
        pace_file: str | os.PathLike[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
        account_timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        pool_size: int = 8,
    ) -> None:
        """`rate_limit_per_10s` is the deployment's share of the burst budget; `pace_file` shares it
        between processes. `timeout` applies to connect and to each read. `account_timezone` (IANA
        name) dates the daily-quota reset. `sleep`, `clock` and `rng` are injectable for tests: inject
        `clock` together with a `sleep` that does not really sleep (see `pacing.ManualClock`), else
        pacing waits would spin on the wall clock."""
        if not token:
            raise ValueError("a HubSpot access token is required: set HUBSPOT_ACCESS_TOKEN")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.account_timezone = account_timezone
        self.sleep = sleep
        self.log = logger or logging.getLogger(__name__)
        self.policy = RetryPolicy(max_retries, rng=rng)
        self.pacer = Pacer(
            rate_limit_per_10s=rate_limit_per_10s,
            search_per_second=search_per_second,
            state=FilePaceState(pace_file) if pace_file is not None else MemoryPaceState(),
            clock=clock,
            sleep=sleep,
        )
        self.calls: collections.Counter[str] = collections.Counter()
        self.retries: collections.Counter[str] = collections.Counter()
        # lone surrogates HubSpot sent, made U+FFFD (`hubspot_pipeline.text`), per endpoint
        self.replaced_text: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()

        self._session = requests.Session()
        # Retries are ours (they must see HubSpot's bodies); urllib3's would hide attempts from the counters.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.auth = _BearerAuth(token)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "hubspot_pipeline"})

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.base_url!r}, token=<redacted>)"

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def redact(self, text: str) -> str:
        """`text` with the token and any bearer credential masked."""
        return _BEARER.sub(r"\1<redacted>", text.replace(self._token, "<redacted>"))

    def total_calls(self) -> int:
        with self._count_lock:
            return sum(self.calls.values())

    # -- requests ------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` (relative to base_url) and return the parsed JSON body."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        """POST `body` as JSON and return the parsed JSON body (None for an empty 2xx)."""
        return self.request("POST", path, params=params, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        anonymous: bool = False,
        endpoint: str | None = None,
    ) -> Any:
        """One call, paced, retried and counted. `path` may be a whole URL (a pre-signed file: give
        `endpoint`, the counter key, so each file's own path is not a key); `form` is sent
        form-encoded instead of `body` as JSON; `anonymous` sends no Authorization header."""
        whole = path.startswith(("http://", "https://"))
        endpoint = endpoint or endpoint_template(method, path)
        search = not whole and is_search(method, path)
        url = path if whole else self.base_url + (path if path.startswith("/") else "/" + path)
        send = _Send(params, body, form, _Anonymous() if anonymous else None)
        # another call of the deployment failed through every retry: one try, not minutes of them
        circuit = self.pacer.open_circuit()
        attempts = 1 if circuit is not None else 1 + self.policy.max_retries
        last: Retry | None = None
        for attempt in range(1, attempts + 1):
            self.pacer.acquire(search)
            with self._count_lock:
                self.calls[endpoint] += 1
            outcome = self._attempt(method, url, endpoint, send, attempt, search)
            if isinstance(outcome, _Answer):
                if circuit is not None:
                    self.pacer.reset_circuit()
                return outcome.value
            retry = last = outcome
            if attempt == attempts:
                break
            with self._count_lock:
                self.retries[retry.reason] += 1
            if retry.rate_limited:
                self.pacer.hold(retry.wait, search=search)
            self.log.info(
                "HubSpot %s: %s on attempt %d/%d; retrying in %.2f s",
                endpoint,
                retry.detail,
                attempt,
                attempts,
                retry.wait,
            )
            self.sleep(retry.wait)
        message = f"HubSpot {endpoint} still failing after {attempts} attempts; last: {last.detail if last else '-'}"
        if circuit is None:
            self.pacer.trip(message)
        else:
            message = f"HubSpot is failing every call (tried once): {circuit.message}"
        raise HubSpotTransientError(
            message,
            attempts=attempts,
            status=last.status if last else None,
            endpoint=endpoint,
        )

    def _attempt(
        self,
        method: str,
        url: str,
        endpoint: str,
        send: _Send,
        attempt: int,
        search: bool,
    ) -> _Answer | Retry:
        """Send once: the parsed answer, a decision to retry, or a typed error raised at once."""
        try:
            resp = self._session.request(
                method,
                url,
                params=send.params,
                json=None if send.form is not None else send.body,
                data=send.form,
                auth=send.auth,
                timeout=self.timeout,
            )
        except _TRANSPORT_FAULTS as exc:
            reason = _fault_reason(exc)
            detail = f"{reason} ({type(exc).__name__}: {self.redact(str(exc))})"
            return replace(self.policy.for_fault(reason, attempt), detail=detail)
        self.pacer.observe(resp.headers)
        status = resp.status_code
        if 200 <= status < 300:
            try:
                value, replaced = _parse_json(resp)
            except ValueError:  # JSONDecodeError and UnicodeDecodeError: a cut or mangled body
                detail = f"invalid_json (HTTP {status} body cut short or not JSON)"
                return replace(self.policy.for_fault("invalid_json", attempt), status=status, detail=detail)
            if replaced:
                with self._count_lock:
                    self.replaced_text[endpoint] += replaced
            return _Answer(value)
        error_body = _error_body(resp)
        decision = self.policy.for_status(status, resp.headers, error_body, attempt, search=search)
        if decision is None:
            raise error_for_response(
                status,
                resp.headers,
                error_body,
                endpoint=endpoint,
                account_timezone=self.account_timezone,
                redact=self.redact,
            )
        category = (
            error_body.get("policyName") or error_body.get("category")
            if isinstance(error_body, dict)
            else None
        )
        detail = f"HTTP {status}" + (f" {category}" if category else "")
        return replace(decision, status=status, detail=detail)

    # -- paging (see paging.py for the contract of each style) --------------------------------

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        results_key: str = "results",
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        return paging.paginate_cursor(self, path, params, results_key=results_key, page_size=page_size)

    def paginate_search(
        self, object_type: str, body: Mapping[str, Any], *, page_size: int = 200
    ) -> Iterator[list[dict[str, Any]]]:
        return paging.paginate_search(self, object_type, body, page_size=page_size)

    def paginate_offset(
        self, path: str, body: Mapping[str, Any], *, items_key: str = "lists", count: int = 500
    ) -> Iterator[list[dict[str, Any]]]:
        return paging.paginate_offset(self, path, body, items_key=items_key, count=count)

    def batch(
        self,
        path: str,
        inputs: Sequence[Any],
        *,
        chunk: int,
        body_extra: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[paging.BatchResult]:
        return paging.batch(self, path, inputs, chunk=chunk, body_extra=body_extra, params=params)
