"""Bearer-token authentication and scopes, failing the way HubSpot does (hubspot-api.md §10)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubspot_sandbox.errors import ApiError, error_body
from hubspot_sandbox.responses import iso_ms

if TYPE_CHECKING:
    from hubspot_sandbox.context import RequestContext
    from hubspot_sandbox.model import ObjectType

_AUTH_FAILURE_HEADER = ("X-HubSpot-Auth-Failure", "401 Unauthorized")
_NOT_FOUND_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_MISSING_SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
    "here: https://developers.hubspot.com/scopes."
)
_SCOPES_LINK = "https://developers.hubspot.com/scopes"

# Read scopes of §10.1 per standard object type (the object library's from HubSpot's pages, README
# "Object library"). Engagements, communications and postal mail are readable with the contacts scope.
_OBJECT_SCOPES: dict[str, str] = {
    "0-1": "crm.objects.contacts.read",
    "0-2": "crm.objects.companies.read",
    "0-3": "crm.objects.deals.read",
    "0-5": "tickets",
    "0-7": "e-commerce",
    "0-8": "e-commerce",
    "0-14": "crm.objects.quotes.read",
    "0-18": "crm.objects.contacts.read",
    "0-19": "crm.objects.feedback_submissions.read",
    "0-27": "crm.objects.contacts.read",
    "0-46": "crm.objects.contacts.read",
    "0-47": "crm.objects.contacts.read",
    "0-48": "crm.objects.contacts.read",
    "0-49": "crm.objects.contacts.read",
    "0-53": "crm.objects.invoices.read",
    "0-54": "crm.objects.marketing_events.read",
    "0-69": "crm.objects.subscriptions.read",
    "0-74": "crm.objects.goals.read",
    "0-84": "e-commerce",
    "0-85": "e-commerce",
    "0-86": "e-commerce",
    "0-101": "crm.objects.commercepayments.read",
    "0-115": "crm.objects.users.read",
    "0-116": "crm.objects.contacts.read",
    "0-123": "crm.objects.orders.read",
    "0-136": "crm.objects.leads.read",
    "0-142": "crm.objects.carts.read",
    "0-162": "crm.objects.services.read",
    "0-410": "crm.objects.courses.read",
    "0-420": "crm.objects.listings.read",
    "0-421": "crm.objects.appointments.read",
    "0-970": "crm.objects.projects.read",
}
_SCHEMA_SCOPES: dict[str, str] = {
    "0-1": "crm.schemas.contacts.read",
    "0-2": "crm.schemas.companies.read",
    "0-3": "crm.schemas.deals.read",
    "0-5": "tickets",
    "0-970": "crm.schemas.projects.read",
}
# Any one object read scope opens the object library's enablement endpoints.
ANY_OBJECT_READ_SCOPE: frozenset[str] = frozenset({*_OBJECT_SCOPES.values(), "crm.objects.custom.read"})

ScopeRule = Callable[["RequestContext"], frozenset[str]]


@dataclass(frozen=True)
class Token:
    """A known token: `scopes` None grants everything; `expires_at` is checked against the wall clock."""

    scopes: frozenset[str] | None = None
    expires_at: dt.datetime | None = None


class TokenRegistry:
    """The tokens a sandbox accepts."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def add(
        self, token: str, scopes: Iterable[str] | None = None, expires_at: dt.datetime | None = None
    ) -> None:
        if expires_at is not None and expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=dt.UTC)
        with self._lock:
            self._tokens[token] = Token(None if scopes is None else frozenset(scopes), expires_at)

    def authenticate(self, authorization: str | None) -> str:
        """The bearer token of a request, or 401 (unknown, missing, not Bearer, or expired)."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        with self._lock:
            known = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if known is None:
            raise ApiError(
                401, error_body(_NOT_FOUND_MESSAGE, "INVALID_AUTHENTICATION"), [_AUTH_FAILURE_HEADER]
            )
        if known.expires_at is not None:
            ago = int((dt.datetime.now(dt.UTC) - known.expires_at).total_seconds())
            if ago >= 0:
                message = f"The OAuth token used to make this call expired {ago} second(s) ago."
                body = error_body(
                    message, "EXPIRED_AUTHENTICATION", context={"expire time": [iso_ms(known.expires_at)]}
                )
                raise ApiError(401, body, [_AUTH_FAILURE_HEADER])
        return token

    def authorize(self, token: str, accepted: frozenset[str]) -> None:
        """403 MISSING_SCOPES unless the token holds one of the `accepted` scopes (none needed if empty)."""
        with self._lock:
            granted = self._tokens[token].scopes
        if granted is None or not accepted or granted & accepted:
            return
        detail = {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredScopes": sorted(accepted)},
        }
        body = error_body(
            _MISSING_SCOPES_MESSAGE, "MISSING_SCOPES", errors=[detail], links={"scopes": _SCOPES_LINK}
        )
        # HubSpot puts `category` last in this body; keep its order.
        body["category"] = body.pop("category")
        raise ApiError(403, body)


def object_read_scopes(object_type: ObjectType) -> frozenset[str]:
    if object_type.custom:
        return frozenset({"crm.objects.custom.read"})
    return frozenset({_OBJECT_SCOPES.get(object_type.type_id, "crm.objects.contacts.read")})


def schema_read_scopes(object_type: ObjectType) -> frozenset[str]:
    if object_type.custom:
        return frozenset({"crm.schemas.custom.read"})
    # The object's read scope also opens its definitions (properties, pipelines).
    scope = _SCHEMA_SCOPES.get(object_type.type_id)
    return object_read_scopes(object_type) | ({scope} if scope else set())


def scopes(*names: str) -> ScopeRule:
    """A route family with fixed scopes (any one of `names` suffices)."""
    accepted = frozenset(names)
    return lambda ctx: accepted


def object_scopes(param: str = "objectType") -> ScopeRule:
    """A route family whose scope follows the object type named in the path."""
    return lambda ctx: object_read_scopes(ctx.object_type(param))


def schema_scopes(param: str = "objectType") -> ScopeRule:
    return lambda ctx: schema_read_scopes(ctx.object_type(param))
