"""HubSpot CRM search semantics over the account (filters, one sort, free-text query, index lag).

`hs_object_id`, `createdate` and the type's last-modified property are served from numpy
columns (vectorised, fast at `large`); every other property is evaluated record by record on
the candidates the column filters leave.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .properties import PropSpec
from .records import TypeTable
from .timefmt import parse_time_ms

if TYPE_CHECKING:
    from .account import Account

OPERATORS = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
     "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)  # fmt: skip
NO_VALUE_OPS = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
LIST_OPS = frozenset({"IN", "NOT_IN"})
NEGATIVE_OPS = frozenset({"NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN", "NOT_HAS_PROPERTY"})
_TOKEN_SPLIT = re.compile(r"[\s,;:/()\[\]\"'<>|]+")


class SearchError(ValueError):
    """A search request the API would reject with 400 (unknown property, bad operator or value)."""


@dataclass(frozen=True)
class Filter:
    """One parsed filter; `column` is set for the numpy-indexed properties."""

    prop: str
    op: str
    spec: PropSpec | None
    column: str | None  # "ids" | "created" | "updated"
    values: tuple  # typed filter values (one for most ops; all of `values` for IN/NOT_IN; low, high)
    assoc: tuple[str, int] | None = None  # associations.<type> EQ <id>


def _typed(spec: PropSpec | None, column: str | None, raw: object) -> object:
    """A filter value converted to what the property compares as."""
    text = str(raw)
    try:
        if column == "ids":
            return int(float(text))
        if column is not None or (spec is not None and spec.type in ("datetime", "date")):
            return parse_time_ms(text)
        if spec is not None and spec.type == "number":
            return float(text)
    except ValueError as exc:
        raise SearchError(
            f"Invalid filter value {text!r} for property {spec.name if spec else column}"
        ) from exc
    if spec is not None and spec.type == "enumeration":
        return text  # enumeration values match case-sensitively
    return text.lower()


def _record_typed(spec: PropSpec, raw: str) -> object:
    """A record's value converted like a filter value (None when it does not parse)."""
    try:
        if spec.type in ("datetime", "date"):
            return parse_time_ms(raw)
        if spec.type == "number":
            return float(raw)
    except ValueError:
        return None
    return raw if spec.type == "enumeration" else raw.lower()


def _eq(spec: PropSpec, raw: str, want: object) -> bool:
    if spec.type == "enumeration":
        return want in raw.split(";")
    return _record_typed(spec, raw) == want


def _token_match(raw: str, pattern: str) -> bool:
    text = raw.lower()
    if fnmatch.fnmatchcase(text, pattern):
        return True
    return any(fnmatch.fnmatchcase(tok, pattern) for tok in _TOKEN_SPLIT.split(text) if tok)


def match_value(f: Filter, spec: PropSpec, raw: str | None) -> bool:
    """Whether a record value satisfies a (non-column) filter."""
    has = raw is not None and raw != ""
    if f.op == "HAS_PROPERTY":
        return has
    if f.op == "NOT_HAS_PROPERTY":
        return not has
    if not has:
        return f.op in NEGATIVE_OPS
    assert raw is not None
    op, vals = f.op, f.values
    if op == "EQ":
        return _eq(spec, raw, vals[0])
    if op == "NEQ":
        return not _eq(spec, raw, vals[0])
    if op == "IN":
        return any(_eq(spec, raw, v) for v in vals)
    if op == "NOT_IN":
        return not any(_eq(spec, raw, v) for v in vals)
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        found = _token_match(raw, str(vals[0]).lower())
        return found if op == "CONTAINS_TOKEN" else not found
    x = _record_typed(spec, raw)
    if x is None:
        return False
    try:
        if op == "LT":
            return x < vals[0]
        if op == "LTE":
            return x <= vals[0]
        if op == "GT":
            return x > vals[0]
        if op == "GTE":
            return x >= vals[0]
        if op == "BETWEEN":
            return vals[0] <= x <= vals[1]
    except TypeError:
        return False
    raise SearchError(f"Unsupported operator {op}")


def column_mask(col: np.ndarray, f: Filter) -> np.ndarray:
    """Vectorised filter over a numpy column (every record has a value there)."""
    op, vals = f.op, f.values
    if op == "HAS_PROPERTY":
        return np.ones(len(col), dtype=bool)
    if op == "NOT_HAS_PROPERTY":
        return np.zeros(len(col), dtype=bool)
    if op == "EQ":
        return col == vals[0]
    if op == "NEQ":
        return col != vals[0]
    if op == "LT":
        return col < vals[0]
    if op == "LTE":
        return col <= vals[0]
    if op == "GT":
        return col > vals[0]
    if op == "GTE":
        return col >= vals[0]
    if op == "BETWEEN":
        return (col >= vals[0]) & (col <= vals[1])
    if op == "IN":
        return np.isin(col, np.array(vals, dtype=np.int64))
    if op == "NOT_IN":
        return ~np.isin(col, np.array(vals, dtype=np.int64))
    raise SearchError(f"Operator {op} is not supported for this property")


class _View:
    """The table as search sees it at `cutoff` (now minus lag)."""

    def __init__(self, searcher: Searcher, table: TypeTable, cutoff: int) -> None:
        self.searcher = searcher
        self.table = table
        self.cutoff = cutoff
        arch = table.archived
        self.visible = (table.created <= cutoff) & ((arch == 0) | (arch > cutoff))
        lagged = np.flatnonzero(self.visible & (table.updated > cutoff))
        self.lagged = {int(i) for i in lagged}
        self.updated = table.updated
        if len(lagged):
            gen = searcher.account.generator
            spec = table.registry.live[table.registry.lastmodified]
            self.updated = table.updated.copy()
            for i in lagged:
                ctx = gen.ctx(table, int(i))
                earlier = [ts for _, ts, _ in gen.history(ctx, spec) if ts <= cutoff]
                self.updated[i] = earlier[0] if earlier else ctx.created

    def column(self, name: str) -> np.ndarray:
        return {"ids": self.table.ids, "created": self.table.created, "updated": self.updated}[name]

    def value(self, idx: int, spec: PropSpec) -> str | None:
        """A record's value as search sees it (pre-lag state for records written in the lag window)."""
        gen = self.searcher.account.generator
        ctx = gen.ctx(self.table, idx)
        if idx not in self.lagged:
            return gen.value(ctx, spec)
        for value, ts, _ in gen.history(ctx, spec):
            if ts <= self.cutoff:
                return value
        return None


class Searcher:
    """Evaluates search requests against an account."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self._orders: dict[tuple[str, int, str], np.ndarray] = {}
        self._unique: dict[tuple[str, str, int], dict[str, int]] = {}

    # --- parsing ---------------------------------------------------------------------------------

    def _columns(self, table: TypeTable) -> dict[str, str]:
        lastmod = table.registry.lastmodified
        # contacts expose `lastmodifieddate`; `hs_lastmodifieddate` is accepted as its alias in search
        return {
            "hs_object_id": "ids",
            "createdate": "created",
            lastmod: "updated",
            "hs_lastmodifieddate": "updated",
        }

    def _spec(self, table: TypeTable, name: str) -> tuple[PropSpec | None, str | None]:
        column = self._columns(table).get(name)
        spec = table.registry.live.get(name)
        if spec is None and column is None:
            raise SearchError(
                f"There was a problem with the request. Unknown property '{name}' for {table.otype.name}"
            )
        return spec, column

    def parse_filter(self, table: TypeTable, raw: dict) -> Filter:
        """Validate and type one filter dict."""
        if not isinstance(raw, dict):
            raise SearchError("Each filter must be an object")
        name, op = raw.get("propertyName"), raw.get("operator")
        if not isinstance(name, str) or not name:
            raise SearchError("Filter is missing propertyName")
        if op not in OPERATORS:
            raise SearchError(f"Invalid operator {op!r}")
        if name.startswith("associations."):
            other = self.account.resolve_type(name.split(".", 1)[1])
            if other is None or op != "EQ" or "value" not in raw:
                raise SearchError(f"Invalid association filter {name!r}")
            try:
                return Filter(name, op, None, None, (), (other.type_id, int(str(raw["value"]))))
            except ValueError as exc:
                raise SearchError(f"Invalid record id {raw['value']!r}") from exc
        spec, column = self._spec(table, name)
        if column is not None and op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            raise SearchError(f"Operator {op} is not supported for property {name}")
        if op in NO_VALUE_OPS:
            values: tuple = ()
        elif op in LIST_OPS:
            if not isinstance(raw.get("values"), list):
                raise SearchError(f"Operator {op} requires 'values'")
            values = tuple(_typed(spec, column, v) for v in raw["values"])
        elif op == "BETWEEN":
            if "value" not in raw or "highValue" not in raw:
                raise SearchError("Operator BETWEEN requires 'value' and 'highValue'")
            values = (_typed(spec, column, raw["value"]), _typed(spec, column, raw["highValue"]))
        else:
            if "value" not in raw:
                raise SearchError(f"Operator {op} requires 'value'")
            values = (_typed(spec, column, raw["value"]),)
        return Filter(name, op, spec, column, values)

    def _parse_sort(self, table: TypeTable, sorts: list) -> tuple[str, bool] | None:
        if not sorts:
            return None
        if len(sorts) > 1:
            raise SearchError("Only one sort is allowed")
        item = sorts[0]
        if isinstance(item, str):
            name, desc = item.lstrip("-"), item.startswith("-")
        elif isinstance(item, dict) and isinstance(item.get("propertyName"), str):
            name, desc = item["propertyName"], str(item.get("direction", "ASCENDING")).upper() == "DESCENDING"
        else:
            raise SearchError("Invalid sort")
        self._spec(table, name)
        return name, desc

    # --- evaluation ------------------------------------------------------------------------------

    def search(
        self,
        table: TypeTable,
        filter_groups: list[dict],
        sorts: list,
        query: str | None,
        after: int,
        limit: int,
        lag_seconds: float,
    ) -> tuple[int, list[int]]:
        """(total, ids of the page) for one search request."""
        groups = []
        for g in filter_groups:
            filters = g.get("filters", []) if isinstance(g, dict) else None
            if not isinstance(filters, list):
                raise SearchError("Each filterGroup needs a filters list")
            groups.append([self.parse_filter(table, f) for f in filters])
        sort = self._parse_sort(table, sorts)
        view = _View(self, table, self.account.now_ms - round(lag_seconds * 1000))
        if groups:
            mask = np.zeros(len(table), dtype=bool)
            for group in groups:
                mask |= self._group_mask(view, group)
        else:
            mask = view.visible
        if query:
            mask = self._query_mask(view, mask, query)
        sel = self._sorted(view, np.flatnonzero(mask), sort)
        page = sel[max(0, after) : max(0, after) + max(0, limit)]
        return len(sel), [int(i) for i in table.ids[page]]

    def _group_mask(self, view: _View, group: list[Filter]) -> np.ndarray:
        mask = view.visible.copy()
        rest = []
        for f in group:
            if f.assoc is not None:
                mask &= self._assoc_mask(view.table, f.assoc)
            elif f.column is not None:
                mask &= column_mask(view.column(f.column), f)
            else:
                rest.append(f)
        if not view.lagged:  # EQ on a unique property (idProperty lookups): use the lazy unique index
            for f in [f for f in rest if f.op == "EQ" and f.spec is not None and f.spec.unique]:
                rest.remove(f)
                found = self.find_unique(view.table, f.prop, str(f.values[0]))
                only = np.zeros(len(mask), dtype=bool)
                if found is not None:
                    only[view.table.index_of(found)] = True  # type: ignore[index]
                mask &= only
        if rest:
            for i in np.flatnonzero(mask):
                idx = int(i)
                mask[idx] = all(match_value(f, f.spec, view.value(idx, f.spec)) for f in rest)  # type: ignore[arg-type]
        return mask

    def _assoc_mask(self, table: TypeTable, assoc: tuple[str, int]) -> np.ndarray:
        other_type, other_id = assoc
        mask = np.zeros(len(table), dtype=bool)
        other = self.account.tables[other_type]
        found = (
            self.account.associations(other_type, other_id, table.type_id)
            if other.index_of(other_id) is not None
            else []
        )
        for to_id, _ in found:
            idx = table.index_of(to_id)
            if idx is not None:
                mask[idx] = True
        return mask

    def _query_mask(self, view: _View, mask: np.ndarray, query: str) -> np.ndarray:
        needle = query.strip().lower()
        live = view.table.registry.live
        specs = [live[n] for n in self.account.searchable_properties(view.table.type_id) if n in live]
        out = np.zeros_like(mask)
        for i in np.flatnonzero(mask):
            idx = int(i)
            out[idx] = any(needle in (view.value(idx, s) or "").lower() for s in specs)
        return out

    def _sorted(self, view: _View, sel: np.ndarray, sort: tuple[str, bool] | None) -> np.ndarray:
        if sort is None or len(sel) == 0:
            return sel
        name, desc = sort
        table = view.table
        column = self._columns(table).get(name)
        if column == "ids":
            return sel[::-1] if desc else sel
        if column is not None:
            return self._by_column(view, sel, column, desc)
        spec = table.registry.live[name]
        keyed = []
        missing = []
        for i in sel.tolist():
            raw = view.value(i, spec)
            x = None if raw is None or raw == "" else _record_typed(spec, raw)
            (missing if x is None else keyed).append((x, i))
        keyed.sort(key=lambda p: p[0], reverse=desc)  # stable: ties keep ascending id
        return np.array([i for _, i in keyed] + [i for _, i in missing], dtype=np.int64)

    def _by_column(self, view: _View, sel: np.ndarray, column: str, desc: bool) -> np.ndarray:
        """Sort positions by a column, ties by ascending id; a cached global order when no lag applies."""
        table = view.table
        col = view.column(column)
        if view.lagged:
            keys = col[sel]
            return sel[np.lexsort((sel, -keys if desc else keys))]
        cache_key = (table.type_id, table.version, column + ("-" if desc else "+"))
        order = self._orders.get(cache_key)
        if order is None or len(order) != len(table):
            idx = np.arange(len(table))
            order = np.lexsort((idx, -col if desc else col))
            self._orders = {k: v for k, v in self._orders.items() if k[:2] != cache_key[:2]}
            self._orders[cache_key] = order
        chosen = np.zeros(len(table), dtype=bool)
        chosen[sel] = True
        return order[chosen[order]]

    # --- unique lookups --------------------------------------------------------------------------

    def find_unique(self, table: TypeTable, name: str, value: str) -> int | None:
        """Live record id whose `name` equals `value` (case-insensitive); builds a lazy index."""
        spec = table.registry.live.get(name)
        if spec is None:
            return None
        key = (table.type_id, name, table.version)
        index = self._unique.get(key)
        if index is None:
            gen = self.account.generator
            index = {}
            for i in np.flatnonzero(table.archived == 0):
                v = gen.value(gen.ctx(table, int(i)), spec)
                if v:
                    index.setdefault(v.lower(), int(table.ids[i]))
            self._unique = {k: v for k, v in self._unique.items() if k[:2] != key[:2]}
            self._unique[key] = index
        return index.get(str(value).lower())
