"""The webhooks journal's endpoints (2026-03), the client-credentials token and the entry files.

The model is `hubspot_sandbox/journal.py`; the sandbox README ("Webhooks journal") has the contract.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from hubspot_sandbox.context import RequestContext, checked_int
from hubspot_sandbox.errors import ApiError, error_body, validation_error
from hubspot_sandbox.journal import MAX_COUNT, URL_SECONDS, Entry, JournalRequestError
from hubspot_sandbox.responses import Response, iso_ms, json_bytes, json_response

if TYPE_CHECKING:
    from hubspot_sandbox.routes import Route

VERSION = "2026-03"
READ = "developer.webhooks_journal.read"
SUBSCRIPTIONS_READ = "developer.webhooks_journal.subscriptions.read"
SUBSCRIPTIONS_WRITE = "developer.webhooks_journal.subscriptions.write"
FILES = "/_journal/files/{offset}"


# -- the token ---------------------------------------------------------------------------------


def token(ctx: RequestContext) -> Response:
    form = {k: v[-1] for k, v in parse_qs(ctx.raw_body.decode("utf-8", "replace")).items()}
    try:
        access, scopes, seconds = ctx.sandbox.journal.grant(form)
    except JournalRequestError as err:
        status = {"grant_type": "BAD_GRANT_TYPE", "client_id": "BAD_CLIENT_ID",
                  "client_secret": "BAD_CLIENT_SECRET", "scope": "BAD_SCOPES"}[err.field]  # fmt: skip
        body = {"status": status, "message": str(err), "correlationId": str(uuid.uuid4())}
        return Response(400, json_bytes(body))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    ctx.sandbox.tokens.add(access, scopes, expires)
    return json_response(
        {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": seconds,
            "token_use": "client_credentials",
        }
    )


# -- journal reads ---------------------------------------------------------------------------------


def _entries(ctx: RequestContext) -> list[Entry]:
    portal = ctx.arg("installPortalId")
    if portal not in (None, "") and checked_int("installPortalId", portal) != ctx.account.portal_id:
        return []
    return ctx.sandbox.journal.entries()


def _fetched(ctx: RequestContext, entry: Entry) -> dict[str, Any]:
    expires = int(time.time()) + URL_SECONDS
    return {
        "url": f"{ctx.origin}/_journal/files/{entry.offset}?expires={expires}",
        "expiresAt": iso_ms(dt.datetime.fromtimestamp(expires, dt.UTC)),
        "currentOffset": entry.offset,
    }


def _offset(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise validation_error(f"offset must be a UUID, but was {value!r}", offset=[value]) from exc


def _after(ctx: RequestContext, entries: list[Entry]) -> int:
    """The position after the path's offset; 404 when it expired or never existed."""
    offset = _offset(ctx.params["offset"])
    for at, entry in enumerate(entries):
        if entry.offset == offset:
            return at + 1
    message = f"The offset {offset} has expired or does not exist."
    raise ApiError(404, error_body(message, "OBJECT_NOT_FOUND", context={"offset": [offset]}))


def _one(ctx: RequestContext, entry: Entry | None) -> Response:
    return Response(204, b"") if entry is None else json_response(_fetched(ctx, entry))


def earliest(ctx: RequestContext) -> Response:
    entries = _entries(ctx)
    return _one(ctx, entries[0] if entries else None)


def latest(ctx: RequestContext) -> Response:
    entries = _entries(ctx)
    return _one(ctx, entries[-1] if entries else None)


def next_entry(ctx: RequestContext) -> Response:
    entries = _entries(ctx)
    at = _after(ctx, entries)
    return _one(ctx, entries[at] if at < len(entries) else None)


def _count(ctx: RequestContext) -> int:
    return checked_int("count", ctx.params["count"], maximum=MAX_COUNT, minimum=1)


def _batch(ctx: RequestContext, picked: list[Entry], errors: list[dict] | None = None) -> Response:
    now = iso_ms(ctx.account.now)  # the sandbox's server time, as every batch answer's
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [_fetched(ctx, e) for e in picked],
        "requestedAt": now,
        "startedAt": now,
        "completedAt": now,
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return json_response(body, 207 if errors else 200)


def batch_earliest(ctx: RequestContext) -> Response:
    return _batch(ctx, _entries(ctx)[: _count(ctx)])


def batch_latest(ctx: RequestContext) -> Response:
    count, entries = _count(ctx), _entries(ctx)
    return _batch(ctx, entries[-count:])


def batch_next(ctx: RequestContext) -> Response:
    count, entries = _count(ctx), _entries(ctx)
    at = _after(ctx, entries)
    return _batch(ctx, entries[at : at + count])


def batch_read(ctx: RequestContext) -> Response:
    inputs = ctx.json_object().get("inputs")
    if not isinstance(inputs, list) or len(inputs) > MAX_COUNT:
        raise validation_error(f"inputs must be a list of at most {MAX_COUNT} offsets")
    offsets = [_offset(str(v)) for v in inputs]
    by_offset = {e.offset: e for e in _entries(ctx)}
    found = [by_offset[o] for o in offsets if o in by_offset]
    errors = [
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"No journal entry for offset {o}",
         "context": {"offset": [o]}}
        for o in offsets if o not in by_offset
    ]  # fmt: skip
    return _batch(ctx, found, errors)


# -- the entry files (pre-signed: no bearer token) ------------------------------------------------


def _s3_error(status: int, code: str, message: str) -> Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, xml.encode(), content_type="application/xml")


def entry_file(ctx: RequestContext) -> Response:
    expires = ctx.arg("expires") or ""
    if not expires.isdigit():
        return _s3_error(403, "AccessDenied", "Query-string authentication requires the expires parameter")
    if int(expires) <= time.time():
        return _s3_error(403, "AccessDenied", "Request has expired")
    offset = ctx.params["offset"]
    entry = next((e for e in ctx.sandbox.journal.entries() if e.offset == offset), None)
    if entry is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return json_response(ctx.sandbox.journal.file(entry))


# -- subscriptions ----------------------------------------------------------------------------------


def _subscription_dict(ctx: RequestContext, sub: Any) -> dict[str, Any]:
    return sub.as_dict(ctx.sandbox.journal.app_id, ctx.account.portal_id)


def subscribe(ctx: RequestContext) -> dict[str, Any]:
    try:
        sub = ctx.sandbox.journal.subscribe(ctx.json_object())
    except JournalRequestError as err:
        raise validation_error(str(err), **{err.field: ["invalid"]}) from err
    return _subscription_dict(ctx, sub)


def list_subscriptions(ctx: RequestContext) -> dict[str, Any]:
    return {"results": [_subscription_dict(ctx, s) for s in ctx.sandbox.journal.live_subscriptions()]}


def _subscription_id(ctx: RequestContext) -> int:
    return checked_int("subscriptionId", ctx.params["subscriptionId"])


def _not_found(subscription_id: int) -> ApiError:
    return ApiError(404, error_body(f"Subscription {subscription_id} not found", "OBJECT_NOT_FOUND"))


def read_subscription(ctx: RequestContext) -> dict[str, Any]:
    wanted = _subscription_id(ctx)
    sub = next((s for s in ctx.sandbox.journal.live_subscriptions() if s.id == wanted), None)
    if sub is None:
        raise _not_found(wanted)
    return _subscription_dict(ctx, sub)


def delete_subscription(ctx: RequestContext) -> Response:
    wanted = _subscription_id(ctx)
    if not ctx.sandbox.journal.unsubscribe(wanted):
        raise _not_found(wanted)
    return Response(204, b"")


def delete_portal_subscriptions(ctx: RequestContext) -> Response:
    portal = checked_int("portalId", ctx.params["portalId"])
    if portal == ctx.account.portal_id:
        for sub in ctx.sandbox.journal.live_subscriptions():
            ctx.sandbox.journal.unsubscribe(sub.id)
    return Response(204, b"")


def routes(route: type[Route]) -> list[Route]:
    from hubspot_sandbox.auth import scopes

    read = scopes(READ)
    subs_read, subs_write = scopes(SUBSCRIPTIONS_READ, SUBSCRIPTIONS_WRITE), scopes(SUBSCRIPTIONS_WRITE)
    table = [
        route("POST", "/oauth/v1/token", token, scopes(), public=True, limited=False),
        route("GET", FILES, entry_file, scopes(), public=True, limited=False),
        route("POST", f"/webhooks-journal/subscriptions/{VERSION}", subscribe, subs_write),
        route("GET", f"/webhooks-journal/subscriptions/{VERSION}", list_subscriptions, subs_read),
        route("GET", f"/webhooks-journal/subscriptions/{VERSION}/{{subscriptionId}}", read_subscription, subs_read),
        route("DELETE", f"/webhooks-journal/subscriptions/{VERSION}/{{subscriptionId}}", delete_subscription,
              subs_write),
        route("DELETE", f"/webhooks-journal/subscriptions/{VERSION}/portals/{{portalId}}",
              delete_portal_subscriptions, subs_write),
    ]  # fmt: skip
    for family in ("journal", "journal-local"):
        base = f"/webhooks-journal/{family}/{VERSION}"
        table += [
            route("GET", f"{base}/earliest", earliest, read, limited=False),
            route("GET", f"{base}/latest", latest, read, limited=False),
            route("GET", f"{base}/offset/{{offset}}/next", next_entry, read, limited=False),
            route("GET", f"{base}/batch/earliest/{{count}}", batch_earliest, read, limited=False),
            route("GET", f"{base}/batch/latest/{{count}}", batch_latest, read, limited=False),
            route("GET", f"{base}/batch/{{offset}}/next/{{count}}", batch_next, read, limited=False),
            route("POST", f"{base}/batch/read", batch_read, read, limited=False),
        ]
    return table
