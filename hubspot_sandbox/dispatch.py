"""The request pipeline: 414, routing (HTML 404), auth (401/403), rate limits (429), faults, handler."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from hubspot_sandbox.context import RequestContext
from hubspot_sandbox.errors import CORRELATION_HEADER, ApiError, HtmlError, HttpError, error_body
from hubspot_sandbox.faults import fault_response
from hubspot_sandbox.responses import Response, json_response
from hubspot_sandbox.routes import Route, Router, split_path

if TYPE_CHECKING:
    from hubspot_sandbox.service import Sandbox

log = logging.getLogger(__name__)

# HubSpot rejects request targets beyond about 16 KB with 414 (a third party measured ~16.2k
# characters of URL); we measure the target in bytes as sent.
MAX_REQUEST_TARGET_BYTES = 16 * 1024


class Dispatcher:
    """Turns (method, target, headers, body) into a Response; never raises."""

    def __init__(self, sandbox: Sandbox, router: Router) -> None:
        self._sandbox = sandbox
        self._router = router

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        correlation_id = str(uuid.uuid4())
        rate_headers: list[tuple[str, str]] = []
        try:
            response = self._handle(method, target, headers, body, correlation_id, rate_headers)
        except HttpError as err:
            response = err.to_response(correlation_id)
        except Exception:
            log.exception("sandbox handler failed for %s %s", method, target.split("?")[0])
            response = ApiError(500, error_body("internal error", "INTERNAL_ERROR")).to_response(
                correlation_id
            )
        response.headers[:0] = rate_headers
        response.headers.append((CORRELATION_HEADER, correlation_id))
        return response

    def _handle(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        correlation_id: str,
        rate_headers: list[tuple[str, str]],
    ) -> Response:
        sb = self._sandbox
        url = urlsplit(target)
        if len(target.encode("latin-1", "replace")) > MAX_REQUEST_TARGET_BYTES:
            raise HtmlError(414, url.path)
        matched = self._router.match(method, [unquote(s) for s in split_path(url.path)])
        if matched is None:
            raise HtmlError(404, url.path)
        route, params = matched
        if not route.control:
            sb.record_call(route.key)  # every request a route receives, whatever its answer
        try:
            token = "" if route.public else sb.tokens.authenticate(headers.get("authorization"))
            ctx = RequestContext(
                sandbox=sb,
                method=method,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                raw_body=body,
                origin=f"http://{headers.get('host') or sb.address}",
                params=params,
            )
            if route.control:
                return self._serve(route, ctx)
            if not route.public:
                sb.tokens.authorize(token, route.scopes(ctx))
            if route.limited:
                rate_headers.extend(sb.limiter.admit(token, search=route.search))
        except ApiError as err:
            sb.record_rejection(f"{err.status} {route.key}")
            raise
        kind = sb.faults.draw(url.path)
        if kind is None:
            return self._serve(route, ctx)
        sb.record_rejection(f"{kind} {route.key}")
        return fault_response(
            kind,
            lambda: self._serve(route, ctx),
            correlation_id,
            portal_id=sb.account.portal_id,
            slow_seconds=sb.config.slow_seconds,
            retry_after=sb.limiter.settings.retry_after,
        )

    def _serve(self, route: Route, ctx: RequestContext) -> Response:
        if route.control:
            result = route.handler(ctx)  # control handlers take the write lock themselves
        else:
            with self._sandbox.lock.read():
                result = route.handler(ctx)
        return result if isinstance(result, Response) else json_response(result)
