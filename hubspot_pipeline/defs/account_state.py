"""The account state: which per-type tables the account has (OBJECTS_<PLURAL>, the per-pair
ASSOCIATIONS_<FROM>_TO_<TO>, EVENTS_<NAME>), so each can be its own asset.

Which tables exist depends on the account (its custom object types, event types and associated
pairs), while Dagster needs the asset list when the code location loads. So a refresh writes the
account's description to a JSON file and the code location builds its assets from that file
(Dagster's state-backed definitions, `account_component`). The refresh reads what the daily run keeps
in the export store (definition snapshots and the CRM index), so it makes no HubSpot call once a day
has been exported; on an empty store it fetches the definitions it needs. Without a state file the
code location has the fixed tables only, and the per-type tables are still written each day by their
combined table's step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.registry import TABLES

STATE_FORMAT = 1


class AccountStateError(ValueError):
    """The state file is not one this version wrote: refresh it."""


@dataclass(frozen=True)
class AccountState:
    # combined table name -> the per-type tables its step writes, in the order it writes them
    tables: dict[str, tuple[str, ...]]
    day: str = ""  # the day the description is of
    refreshed_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def per_type(self, table: str) -> tuple[str, ...]:
        return self.tables.get(table, ())

    def to_json(self) -> str:
        body = {
            "format": STATE_FORMAT,
            "day": self.day,
            "refreshed_at": self.refreshed_at,
            "tables": self.tables,
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "the account state") -> AccountState:
        try:
            body = json.loads(text)
            if body.get("format") != STATE_FORMAT:
                raise AccountStateError(f"{source} has format {body.get('format')!r}, not {STATE_FORMAT}")
            tables = {str(k): tuple(str(t) for t in v) for k, v in body["tables"].items()}
            return cls(tables, str(body.get("day", "")), str(body.get("refreshed_at", "")))
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            raise AccountStateError(f"{source} is not a valid account state ({exc}): refresh it") from None


def describe_account(ctx: ExportContext) -> AccountState:
    """The per-type tables each spec writes for the account as `ctx` sees it on `ctx.day`."""
    tables = {spec.name: tuple(spec.per_type_tables(ctx)) for spec in TABLES if spec.per_type_tables}
    return AccountState(tables, ctx.day.isoformat())


def read_state(path: Path | None) -> AccountState | None:
    if path is None or not path.exists():
        return None
    return AccountState.from_json(path.read_text(encoding="utf-8"), str(path))
