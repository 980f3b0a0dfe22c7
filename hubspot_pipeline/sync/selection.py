"""Sync settings (`HUBSPOT_SYNC_SETTINGS`): which object types, properties and records are exported.

HubSpot's data-sync settings let a user leave out object types and properties, rename property
columns and filter records; this module holds the same choices, their parsing and their resolution
against the account's object types:

    {"object_types": {
       "contacts": {"properties": {"exclude": ["hs_ssn"]},
                    "rename": {"firstname": "first_name"},
                    "records": [{"property": "email", "operator": "HAS_PROPERTY"}]},
       "0-7": {"sync": false},
       "deals": {"properties": {"include": ["dealname", "amount"]}}}}

The variable holds a path to a JSON file or the JSON itself (starting with `{`); unset or empty means
every type, every property, every record, no renames. Shape errors are raised when parsing; names
are checked against the account's definitions by `Selection.check` (the plan and the export call
it), since only the definitions say which types and properties exist.

What is fetched and what is exported differ: a property a record filter needs is fetched even when
it is not exported, and records are filtered at export time (the index keeps them), so changing a
filter needs no re-sync. A value is "present" when it is neither null nor the empty string.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline import settings as deployment_settings
from hubspot_pipeline.sync.index_reader import AsOfBatch
from hubspot_pipeline.sync.object_types import STANDARD_OBJECT_TYPES, ObjectTypeInfo

ENV_VAR = "HUBSPOT_SYNC_SETTINGS"
# operator -> which value key it takes (None: no value)
OPERATORS: dict[str, str | None] = {
    "HAS_PROPERTY": None,
    "NOT_HAS_PROPERTY": None,
    "EQ": "value",
    "NEQ": "value",
    "IN": "values",
    "NOT_IN": "values",
}
# a renamed property becomes the column PROPERTY_<NAME>: keep it a plain identifier
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class SyncSettingsError(ValueError):
    """HUBSPOT_SYNC_SETTINGS is unreadable, malformed, or names what the account does not have."""


# -- the settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One record filter: `property` `operator` [`values`]; values are compared as text."""

    property: str
    operator: str
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.operator in ("EQ", "NEQ"):
            return f"{self.property} {self.operator} {self.values[0]!r}"
        if self.operator in ("IN", "NOT_IN"):
            return f"{self.property} {self.operator} ({', '.join(repr(v) for v in self.values)})"
        return f"{self.property} {self.operator}"

    def holds(self, values: pa.Array) -> pa.Array:
        """Per record, whether the condition holds for its value (null: the record has none)."""
        if self.operator == "HAS_PROPERTY":
            return pc.is_valid(values)
        if self.operator == "NOT_HAS_PROPERTY":
            return pc.is_null(values)
        if self.operator == "EQ":
            return pc.fill_null(pc.equal(values, self.values[0]), False)
        if self.operator == "NEQ":  # a record without a value differs from any value
            return pc.fill_null(pc.not_equal(values, self.values[0]), True)
        found = pc.is_in(values, value_set=pa.array(self.values, pa.string()))
        return found if self.operator == "IN" else pc.invert(found)


@dataclass(frozen=True)
class TypeSettings:
    """The settings of one object type, as written under its key."""

    key: str
    sync: bool = True
    include: tuple[str, ...] | None = None  # None: every property
    exclude: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()
    records: tuple[Condition, ...] = ()

    def matches(self, info: ObjectTypeInfo) -> bool:
        """A key names a type by id (`0-1`), name (plural or singular) or fully qualified name."""
        if self.key == info.type_id:
            return True
        names = (info.name, info.singular, info.fully_qualified_name)
        return self.key.lower() in {n.lower() for n in names}

    def exports(self, name: str) -> bool:
        return (self.include is None or name in self.include) and name not in self.exclude

    def mentioned(self) -> list[tuple[str, str]]:
        """(where, property name) of every property the settings name, for the account check."""
        found = [("properties.include", n) for n in self.include or ()]
        found += [("properties.exclude", n) for n in self.exclude]
        found += [("rename", old) for old, _ in self.rename]
        return found + [("records", c.property) for c in self.records]


@dataclass(frozen=True)
class Selection:
    """The parsed settings; the default (no entries) selects every type, property and record."""

    types: tuple[TypeSettings, ...] = ()
    origin: str = ENV_VAR  # where the settings came from, for error messages

    @property
    def selects_everything(self) -> bool:
        return not self.types

    def _settings(self, info: ObjectTypeInfo) -> TypeSettings | None:
        return next((s for s in self.types if s.matches(info)), None)

    # -- what a type gets -------------------------------------------------------------------------

    def syncs(self, info: ObjectTypeInfo) -> bool:
        settings = self._settings(info)
        return settings is None or settings.sync

    def exported(self, info: ObjectTypeInfo, names: Iterable[str]) -> list[str]:
        """The property names of `names` that are exported, in their order (original names)."""
        settings = self._settings(info)
        return [n for n in names if settings is None or settings.exports(n)]

    def column_name(self, info: ObjectTypeInfo, name: str) -> str:
        """The name a property is exported under (its rename, else itself)."""
        return self.renames(info).get(name, name)

    def renames(self, info: ObjectTypeInfo) -> dict[str, str]:
        settings = self._settings(info)
        return dict(settings.rename) if settings is not None else {}

    def fetched(self, info: ObjectTypeInfo, names: Iterable[str], needed: Iterable[str] = ()) -> list[str]:
        """The property names of `names` to fetch, sorted: the exported ones, those the record filter
        needs, and `needed` (what the pipeline itself reads, e.g. the modified date) unless the settings
        exclude them by name."""
        settings = self._settings(info)
        names = list(names)
        if settings is None:
            return sorted(names)
        wanted = {c.property for c in settings.records} | (set(needed) - set(settings.exclude))
        return sorted(n for n in names if settings.exports(n) or n in wanted)

    def filters(self, info: ObjectTypeInfo) -> bool:
        settings = self._settings(info)
        return settings is not None and bool(settings.records)

    def restricts(self, info: ObjectTypeInfo) -> bool:
        """Whether the export leaves out some records of the type (not synced, or filtered)."""
        return not self.syncs(info) or self.filters(info)

    def keep(self, info: ObjectTypeInfo, batch: AsOfBatch) -> np.ndarray:
        """Per record of `batch` (its `values` as of the day needed), whether every condition holds."""
        if self.conditions(info):
            assert batch.values is not None, "the record filter needs the batch's values"
        return self.first_unmet(info, batch) < 0

    def conditions(self, info: ObjectTypeInfo) -> tuple[Condition, ...]:
        settings = self._settings(info)
        return settings.records if settings is not None else ()

    def first_unmet(self, info: ObjectTypeInfo, batch: AsOfBatch) -> np.ndarray:
        """Per record of `batch`, the position in `conditions(info)` of the first condition it does not
        meet, -1 for a record kept: why the settings leave a record out (SYNC_ISSUES)."""
        unmet = np.full(batch.records.num_rows, -1, dtype=np.int64)
        for position, condition in enumerate(self.conditions(info)):
            holds = condition.holds(_record_values(batch, condition.property)).to_numpy(zero_copy_only=False)
            unmet[(unmet < 0) & ~holds] = position
        return unmet

    def notes(self, info: ObjectTypeInfo, names: Sequence[str]) -> list[str]:
        """What the settings change for a type with property names `names`, for manifest notes."""
        settings = self._settings(info)
        if settings is None:
            return []
        label = f"{info.name} ({info.type_id})"
        if not settings.sync:
            return [f"{label}: not synced (sync settings)"]
        parts = []
        if settings.records:
            parts.append("records filtered: " + " AND ".join(c.describe() for c in settings.records))
        left_out = len(names) - len(self.exported(info, names))
        if left_out:
            parts.append(f"{left_out} propert{'y' if left_out == 1 else 'ies'} excluded")
        if settings.rename:
            pairs = ", ".join(f"{old} as {new}" for old, new in settings.rename)
            parts.append(f"{len(settings.rename)} renamed ({pairs})")
        return [f"{label}: " + "; ".join(parts) + " (sync settings)"] if parts else []

    # -- against the account ------------------------------------------------------------------------

    def check(
        self,
        types: Sequence[ObjectTypeInfo],
        definitions: Mapping[str, Sequence[dict]],
        known: Sequence[ObjectTypeInfo] = STANDARD_OBJECT_TYPES,
    ) -> None:
        """Raise SyncSettingsError unless every type key and property name exists in the account
        (`definitions`: property definitions per type id, archived ones included). A key naming a
        `known` type that is not present (HubSpot's types and the account's custom objects the token
        cannot read: SYNC_HEALTH says why) is accepted and does nothing."""
        claimed: dict[str, str] = {}
        for settings in self.types:
            if not any(settings.matches(t) for t in types) and any(settings.matches(t) for t in known):
                continue
            info = _resolve_type(settings, types, self.origin)
            if info.type_id in claimed:
                raise SyncSettingsError(
                    f"{self.origin}: object_types {claimed[info.type_id]!r} and {settings.key!r} both "
                    f"name {info.name} ({info.type_id}): keep one entry per type"
                )
            claimed[info.type_id] = settings.key
            _check_properties(settings, [p["name"] for p in definitions.get(info.type_id, [])], self.origin)


def _record_values(batch: AsOfBatch, name: str) -> pa.Array:
    """Each record's value of one property as of the day (null when it has none, or "")."""
    assert batch.values is not None
    values = batch.values
    rows = values.filter(pc.and_(pc.equal(values.column("name"), name), pc.is_valid(values.column("value"))))
    rows = rows.filter(pc.not_equal(rows.column("value"), ""))
    out = np.full(batch.records.num_rows, None, dtype=object)
    at = np.searchsorted(batch.records.column("object_id").to_numpy(), rows.column("object_id").to_numpy())
    out[at] = rows.column("value").to_pylist()
    return pa.array(out, pa.string())


def _resolve_type(settings: TypeSettings, types: Sequence[ObjectTypeInfo], origin: str) -> ObjectTypeInfo:
    found = [t for t in types if settings.matches(t)]
    if not found:
        known = ", ".join(f"{t.name} ({t.type_id})" for t in types)
        raise SyncSettingsError(
            f"{origin}: object_types {settings.key!r} matches no object type of the account; "
            f"use a type id, name or fully qualified name of: {known}"
        )
    return found[0]


def _check_properties(settings: TypeSettings, names: list[str], origin: str) -> None:
    where = f"{origin}: object_types.{settings.key}"
    known = set(names)
    for place, name in settings.mentioned():
        if name not in known:
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SyncSettingsError(f"{where}.{place}: {name!r} is not a property of {settings.key}{hint}")
    targets: dict[str, str] = {}
    lowered = {n.lower() for n in names}
    for old, new in settings.rename:
        if not settings.exports(old):
            raise SyncSettingsError(f"{where}.rename: {old!r} is not exported, so it cannot be renamed")
        if new.lower() in targets:
            raise SyncSettingsError(
                f"{where}.rename: {targets[new.lower()]!r} and {old!r} are both renamed to {new!r}"
            )
        if new.lower() in lowered:  # columns are upper-cased: compare without case
            raise SyncSettingsError(
                f"{where}.rename: {old!r} is renamed to {new!r}, an existing property of {settings.key}"
            )
        targets[new.lower()] = old


# -- parsing ----------------------------------------------------------------------------------------


def load_selection(environ: Mapping[str, str] | None = None) -> Selection:
    """The settings of HUBSPOT_SYNC_SETTINGS as the environment holds them now (a path or inline JSON)."""
    text = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not text:
        return Selection()
    return selection_from(*deployment_settings.json_setting(ENV_VAR, text, "{", SyncSettingsError))


def parse_selection(text: str, origin: str = ENV_VAR) -> Selection:
    """Parse the settings' JSON; raise SyncSettingsError naming what to fix."""
    return selection_from(deployment_settings.parse_json(text, origin, SyncSettingsError), origin)


def selection_from(data: Any, origin: str) -> Selection:
    top = _mapping(data, origin, {"object_types"})
    types = _mapping(top.get("object_types", {}), f"{origin}: object_types", None)
    return Selection(
        tuple(_type_settings(k, v, f"{origin}: object_types.{k}") for k, v in types.items()), origin
    )


def _mapping(value: Any, where: str, allowed: set[str] | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SyncSettingsError(f"{where}: expected a JSON object, got {_kind(value)}")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise SyncSettingsError(
                f"{where}: unknown key {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
    return value


def _type_settings(key: str, value: Any, where: str) -> TypeSettings:
    entry = _mapping(value, where, {"sync", "properties", "rename", "records"})
    sync = entry.get("sync", True)
    if not isinstance(sync, bool):
        raise SyncSettingsError(f"{where}.sync: expected true or false, got {_kind(sync)}")
    if not sync and len(entry) > 1:
        raise SyncSettingsError(f'{where}: a type with "sync": false takes no other settings')
    props = _mapping(entry.get("properties", {}), f"{where}.properties", {"include", "exclude"})
    if "include" in props and "exclude" in props:
        raise SyncSettingsError(f"{where}.properties: give either include or exclude, not both")
    include = _names(props["include"], f"{where}.properties.include") if "include" in props else None
    rename = _renames(entry.get("rename", {}), f"{where}.rename")
    records = entry.get("records", [])
    if not isinstance(records, list):
        raise SyncSettingsError(f"{where}.records: expected a list of conditions, got {_kind(records)}")
    conditions = tuple(_condition(c, f"{where}.records[{i}]") for i, c in enumerate(records))
    exclude = _names(props.get("exclude", []), f"{where}.properties.exclude")
    return TypeSettings(key, sync, include, exclude, rename, conditions)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SyncSettingsError(f"{where}: expected a list of property names")
    return tuple(dict.fromkeys(value))


def _renames(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    pairs = _mapping(value, where, None)
    for old, new in pairs.items():
        if not isinstance(new, str) or not _NAME.match(new):
            raise SyncSettingsError(
                f"{where}.{old}: the new name must be letters, digits and _ (it becomes PROPERTY_<NAME>), "
                f"got {new!r}"
            )
    return tuple(pairs.items())


def _condition(value: Any, where: str) -> Condition:
    entry = _mapping(value, where, {"property", "operator", "value", "values"})
    prop, operator = entry.get("property"), entry.get("operator")
    if not isinstance(prop, str) or not prop:
        raise SyncSettingsError(f'{where}: missing "property" (the property name to filter on)')
    if operator not in OPERATORS:
        raise SyncSettingsError(f"{where}: unknown operator {operator!r}; use one of {', '.join(OPERATORS)}")
    takes = OPERATORS[operator]
    extra = sorted({"value", "values"} & set(entry) - {takes})
    if extra:
        wanted = f'takes "{takes}"' if takes else "takes no value"
        raise SyncSettingsError(f"{where}: {operator} {wanted}, not {', '.join(map(repr, extra))}")
    if takes is None:
        return Condition(prop, operator)
    if takes not in entry:
        raise SyncSettingsError(f'{where}: {operator} needs "{takes}" (missing value)')
    raw = entry[takes]
    if takes == "value":
        return Condition(prop, operator, (_text(raw, f"{where}.value"),))
    if not isinstance(raw, list) or not raw:
        raise SyncSettingsError(f"{where}.values: {operator} needs a non-empty list of values")
    return Condition(prop, operator, tuple(_text(v, f"{where}.values") for v in raw))


def _text(value: Any, where: str) -> str:
    """A filter value as HubSpot stores it: text (numbers as written, booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise SyncSettingsError(f"{where}: expected a string, number or boolean, got {_kind(value)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


EVERYTHING = Selection()  # no settings: every type, property and record
