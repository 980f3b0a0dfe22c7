"""HubSpot's error answers: the JSON envelope with a fresh correlationId, and HTML error pages."""

from __future__ import annotations

import html
import json
from http import HTTPStatus
from typing import Any

from hubspot_sandbox.responses import HTML_TYPE, Response, json_bytes

CORRELATION_HEADER = "X-HubSpot-Correlation-Id"


class HttpError(Exception):
    """An error answer; the dispatcher turns it into a Response carrying the request's correlation id."""

    def __init__(self, status: int, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or []

    def to_response(self, correlation_id: str) -> Response:
        raise NotImplementedError


class ApiError(HttpError):
    """A JSON error; `body` holds a `correlationId` slot (None) so the id lands where HubSpot puts it."""

    def __init__(self, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None):
        super().__init__(status, headers)
        self.body = body

    def to_response(self, correlation_id: str) -> Response:
        body = {k: (correlation_id if k == "correlationId" else v) for k, v in self.body.items()}
        return Response(self.status, json_bytes(body), headers=list(self.headers))

    def __str__(self) -> str:
        return f"{self.status} {self.body.get('message')}"


class HtmlError(HttpError):
    """An HTML page, as HubSpot's front servers send for unknown routes and oversized request lines."""

    def __init__(self, status: int, path: str) -> None:
        super().__init__(status)
        self.path = path

    def to_response(self, correlation_id: str) -> Response:
        reason = HTTPStatus(self.status).phrase
        page = (
            '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n'
            f"<title>Error {self.status} {reason}</title>\n</head>\n<body><h2>HTTP ERROR {self.status}</h2>\n"
            f"<p>Problem accessing {html.escape(self.path[:200])}. Reason:\n<pre>    {reason}</pre></p>\n"
            "</body>\n</html>\n"
        )
        return Response(self.status, page.encode("latin-1", "replace"), HTML_TYPE, list(self.headers))


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """The §8.1 envelope in HubSpot's field order; correlationId is filled in per response."""
    return {"status": "error", "message": message, "correlationId": None, "category": category, **extra}


def validation_error(message: str, **context: list[str]) -> ApiError:
    extra = {"context": context} if context else {}
    return ApiError(400, error_body(message, "VALIDATION_ERROR", **extra))


def object_not_found(object_id: str) -> ApiError:
    # The two spaces after "found." are HubSpot's own (seen in public fixtures).
    message = "Object not found.  objectId are usually numeric."
    return ApiError(404, error_body(message, "OBJECT_NOT_FOUND", context={"id": [object_id]}))


def resource_not_found(message: str) -> ApiError:
    return ApiError(404, error_body(message, "OBJECT_NOT_FOUND"))


def invalid_json(exc: json.JSONDecodeError) -> ApiError:
    return validation_error(f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}")


def limit_exceeded(name: str, value: int, maximum: int) -> ApiError:
    return validation_error(
        f"{name} must be less than or equal to {maximum}, but was {value}",
        **{name: [str(value)]},
    )


def not_activated(type_id: str, plural: str) -> ApiError:
    """A request naming an object-library type the account has deactivated. HubSpot documents no body
    for it: the status and shape are inferred (README "Object library")."""
    message = (
        f"The {plural} object ({type_id}) is not activated in this account. Activate it in the account's "
        "data model settings before using its records, properties or associations."
    )
    return ApiError(400, error_body(message, "VALIDATION_ERROR", context={"objectTypeId": [type_id]}))
