"""HTTP responses and HubSpot's JSON envelopes (paged collections, batch results, timestamps)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json;charset=utf-8"
HTML_TYPE = "text/html;charset=iso-8859-1"

# One encoder: compact like HubSpot, UTF-8 kept raw (no \u escapes), keys in insertion order so
# equal inputs give equal bytes.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@dataclass
class Response:
    """What the server sends back; `transport` and `delay` let faults damage the delivery itself."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    transport: str | None = None  # "reset" (RST, no answer) or "truncate" (short body, then close)
    delay: float = 0.0


class RawJson(bytes):
    """JSON already encoded (UTF-8). `json_bytes` splices it in verbatim when it is the payload or a
    member of a top-level object: record pages are built as text, not as dicts encoded afterwards,
    and joined as bytes, so one non-ASCII value never widens a whole page's string."""


def json_text(value: Any) -> str:
    """Compact JSON text of a plain value (the one encoder of every answer)."""
    return _ENCODER.encode(value)


def json_bytes(payload: Any) -> bytes:
    if isinstance(payload, RawJson):
        return bytes(payload)
    if isinstance(payload, dict) and any(isinstance(value, RawJson) for value in payload.values()):
        members = (
            _ENCODER.encode(key).encode("utf-8")
            + b":"
            + (value if isinstance(value, RawJson) else _ENCODER.encode(value).encode("utf-8"))
            for key, value in payload.items()
        )
        return b"{" + b",".join(members) + b"}"
    return _ENCODER.encode(payload).encode("utf-8")


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json_bytes(payload))


def iso_ms(moment: dt.datetime) -> str:
    """HubSpot's timestamp format: ISO 8601 UTC with milliseconds, e.g. 2024-01-17T19:55:04.281Z."""
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def paged(
    results: list[Any] | RawJson, next_after: str | None, link: str | None = None, **extra: Any
) -> dict:
    """A paged collection: `paging.next` only when more remain (clients stop on its absence)."""
    body: dict[str, Any] = dict(extra)
    body["results"] = results
    if next_after is not None:
        nxt: dict[str, str] = {"after": next_after}
        if link is not None:
            nxt["link"] = link
        body["paging"] = {"next": nxt}
    return body


def batch_response(results: list[Any] | RawJson, errors: list[dict], clock: dt.datetime) -> Response:
    """A batch answer: 200 when every input succeeded, else 207 with `numErrors` and `errors`.

    The timestamps come from the sandbox clock, never the wall clock, to keep bodies reproducible.
    """
    stamp = iso_ms(clock)
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body.update(requestedAt=stamp, startedAt=stamp, completedAt=stamp)
    return json_response(body, 207 if errors else 200)


def batch_error(category: str, message: str, context: dict[str, list[str]], **extra: Any) -> dict:
    """One per-item error of a 207 (the spec's StandardError, every required field present)."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
        **extra,
    }
