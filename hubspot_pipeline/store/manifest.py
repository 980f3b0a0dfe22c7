"""`_manifest.json`: the list of a table's parts, written last so readers never see half a table."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hubspot_pipeline.store.csv_format import CSV_FORMAT, Column, format_timestamp
from hubspot_pipeline.store.errors import ManifestError
from hubspot_pipeline.store.keys import MANIFEST_NAME, check_day, manifest_key

if TYPE_CHECKING:
    from hubspot_pipeline.store.destination import Destination
    from hubspot_pipeline.store.table_writer import PartInfo


def build_manifest(
    *,
    table: str,
    day: str,
    columns: Sequence[Column],
    parts: Sequence[PartInfo],
    run_id: str,
    as_of: dt.datetime,
    account_id: str | int,
    written_at: dt.datetime,
    notes: Sequence[str],
) -> dict[str, Any]:
    return {
        "table": table,
        "day": day,
        "columns": [{"name": c.header, "type": c.type} for c in columns],
        "rows": sum(p.rows for p in parts),
        "parts": [{"key": p.key, "bytes": p.bytes, "sha256": p.sha256, "rows": p.rows} for p in parts],
        "run_id": run_id,
        "as_of": format_timestamp(as_of),
        "account_id": str(account_id),  # one type whatever the caller passed (HubSpot portal ids are ints)
        "written_at": format_timestamp(written_at),
        "format": dict(CSV_FORMAT),
        "notes": list(notes),
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Compact JSON laid out for reading: one top-level field per line, one list item per line."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    fields = []
    for name, value in manifest.items():
        if isinstance(value, list) and value:
            value_text = "[\n    " + ",\n    ".join(dump(item) for item in value) + "\n  ]"
        else:
            value_text = dump(value)
        fields.append(f"  {dump(name)}: {value_text}")
    return ("{\n" + ",\n".join(fields) + "\n}\n").encode("utf-8")


def read_manifest(dest: Destination, day: str, table: str) -> dict[str, Any] | None:
    """The table's manifest, or None when the table was never completely written that day."""
    data = dest.get_bytes(manifest_key(day, table))
    if data is None:
        return None
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ManifestError(f"{dest.url_for(manifest_key(day, table))} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{dest.url_for(manifest_key(day, table))} is not a JSON object")
    return manifest


def list_tables(dest: Destination, day: str) -> list[str]:
    """Tables of a day that have a manifest, sorted."""
    prefix = check_day(day) + "/"
    tables = []
    for info in dest.list(prefix):
        parts = info.key[len(prefix) :].split("/")
        if len(parts) == 2 and parts[1] == MANIFEST_NAME:
            tables.append(parts[0])
    return sorted(tables)
