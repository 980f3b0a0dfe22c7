"""One request as the endpoint handlers see it: parsed query, path parameters, JSON body, helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from hubspot_sandbox.errors import invalid_json, limit_exceeded, validation_error

if TYPE_CHECKING:
    from hubspot_sandbox.model import Account, ObjectType
    from hubspot_sandbox.service import Sandbox


@dataclass
class RequestContext:
    """A parsed request plus the sandbox serving it."""

    sandbox: Sandbox
    method: str
    path: str
    query: dict[str, list[str]]
    raw_body: bytes
    origin: str  # "http://<Host header>": paging links point back at whatever address the client used
    params: dict[str, str] = field(default_factory=dict)

    @property
    def account(self) -> Account:
        return self.sandbox.account

    # -- query parameters -------------------------------------------------------------------------

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def arg_list(self, name: str) -> list[str] | None:
        """A list parameter, sent comma-separated or repeated (the SDK repeats it); None if absent."""
        values = self.query.get(name)
        if values is None:
            return None
        return [item for value in values for item in value.split(",") if item]

    def arg_bool(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise validation_error(f"{name} must be true or false, but was {value!r}", **{name: [value]})

    def arg_int(self, name: str, default: int, maximum: int | None = None, minimum: int = 0) -> int:
        value = self.arg(name)
        return default if value in (None, "") else checked_int(name, value, maximum, minimum)

    # -- body -------------------------------------------------------------------------------------

    def json_body(self, default: Any = None) -> Any:
        if not self.raw_body.strip() and default is not None:
            return default
        try:
            return json.loads(self.raw_body.decode("utf-8") or "")
        except UnicodeDecodeError as exc:
            raise validation_error(f"Invalid input JSON: {exc.reason}") from exc
        except json.JSONDecodeError as exc:
            raise invalid_json(exc) from exc

    def json_object(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected an object")
        return body

    # -- helpers ----------------------------------------------------------------------------------

    def object_type(self, param: str = "objectType") -> ObjectType:
        """Resolve a path's type reference: plural or singular name, type id, or custom fqn."""
        return self.sandbox.resolve_type(self.params[param])

    def next_link(self, after: str) -> str:
        """The `paging.next.link`: this request again with `after` replaced, on this sandbox."""
        query = [(k, v) for k, values in self.query.items() if k != "after" for v in values]
        query.append(("after", after))
        return f"{self.origin}{quote(self.path)}?{urlencode(query)}"


def checked_int(name: str, value: Any, maximum: int | None = None, minimum: int = 0) -> int:
    """An integer parameter, with HubSpot's 400 VALIDATION_ERROR when malformed or above its maximum."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error(
            f"{name} must be an integer, but was {value!r}", **{name: [str(value)]}
        ) from None
    if number < minimum:
        raise validation_error(
            f"{name} must be at least {minimum}, but was {number}", **{name: [str(number)]}
        )
    if maximum is not None and number > maximum:
        raise limit_exceeded(name, number, maximum)
    return number
