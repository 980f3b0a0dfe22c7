"""The export's CSV dialect (DESIGN §3) and how Python / Arrow values become CSV text.

Every column is rendered to Arrow strings, then `pyarrow.csv.write_csv` writes them (in C). With
all-string columns its default quoting quotes every non-null value and leaves NULL as an empty
unquoted field: exactly "NULL is empty, an empty string is \"\"". Numbers and booleans are
therefore quoted too (`"42"`, `"true"`); pandas and pyarrow still infer int, bool and timestamp
types from them, and NULL stays the only unquoted field.

How each column type takes values (None is always NULL):

    type       accepts                                        written as
    string,    str (exactly as given), int, float, Decimal,   the text, str(number),
    number,    bool                                           true / false
    integer,
    boolean
    timestamp  datetime (naive = UTC), epoch-ms int/float,    2026-11-21T09:30:00.000Z
               ISO 8601 str, epoch-ms digit str               (UTC, truncated to ms)
    date       date, datetime (its UTC date), str as given    2026-11-21
    json       any JSON-serialisable object                   compact JSON, non-ASCII kept
               (a str becomes a JSON string: pass objects)

Timestamps must lie in the years 1-9999. Python values go through Arrow when a whole column
converts to one Arrow type that prints exactly as the per-value rules do; else one value at a time.

`render_arrow` takes Arrow columns by their Arrow type, all in Arrow's C kernels:

    Arrow type                   column types       written as
    string, large_string, view   any but timestamp  the text as given; for json, the text IS the
                                                    value: already-serialised (compact) JSON
    int*, uint*                  any but date       str(int); for timestamp, epoch ms
    bool                         any but timestamp  true / false
                                 and date
    float16/32/64                string, number,    exactly str(float) of the value as float64
                                 integer, boolean   (very small or large values, NaN and inf: by Python)
    timestamp (any unit, zone)   timestamp          UTC, floored to ms (naive = UTC)
    date32, date64               date               2026-11-21
    dictionary of these          as its values
Any other combination (struct or list columns for json, decimals, strings to parse as timestamps)
is converted to Python values and rendered one value at a time, by the rules above.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from hubspot_pipeline.text import clean_json

ColumnType = Literal["string", "number", "integer", "boolean", "timestamp", "date", "json"]
COLUMN_TYPES: frozenset[str] = frozenset(get_args(ColumnType))

# Recorded in every manifest so a consumer knows how to read the parts.
CSV_FORMAT: dict[str, Any] = {
    "compression": "gzip",
    "delimiter": ",",
    "header": True,
    "null": "",
    "encoding": "utf-8",
}

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_TIMESTAMP_IN = pa.timestamp("ms")  # zone-less: UTC values (see _render_values)
_MIN_MS, _MAX_MS = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 .. 9999-12-31T23:59:59.999
_WRITE_OPTIONS = pa_csv.WriteOptions(include_header=False, batch_size=8192)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "string"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a column needs a name")
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: type {self.type!r} is not one of {sorted(COLUMN_TYPES)}")

    @property
    def header(self) -> str:
        """The name as it appears in the header row and the manifest (upper case)."""
        return self.name.upper()


def check_columns(columns: Sequence[Column]) -> tuple[Column, ...]:
    cols = tuple(columns)
    if not cols:
        raise ValueError("a table needs at least one column")
    headers = [c.header for c in cols]
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise ValueError(f"duplicate column names (case-insensitive): {duplicates}")
    return cols


def format_timestamp(value: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z; naive datetimes are taken as UTC."""
    utc = value.astimezone(_UTC) if value.tzinfo else value
    # isoformat pads years < 1000 (strftime does not on Linux); truncation matches Arrow's.
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def header_line(columns: Sequence[Column]) -> bytes:
    """The header row: upper-case names, quoted only if a name needs it (RFC 4180)."""
    return (",".join(_quote_if_needed(c.header) for c in columns) + "\n").encode("utf-8")


def csv_bytes(rendered: pa.Table) -> bytes:
    """CSV rows (no header) of a table whose columns are all Arrow strings."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(rendered, sink, _WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()


def render_rows(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
    on_replaced: Callable[[int], None] | None = None,
) -> pa.Table:
    """Rows (tuples in column order) -> a table of Arrow string columns ready for `csv_bytes`.

    Text UTF-8 cannot encode (lone UTF-16 surrogates) is written as U+FFFD (`hubspot_pipeline.text`);
    `on_replaced` hears how many characters a column had replaced."""
    try:
        by_column = list(zip(*rows, strict=True))
    except ValueError:
        lengths = sorted({len(r) for r in rows})
        raise ValueError(
            f"rows have different lengths {lengths}; each row needs {len(columns)} values"
        ) from None
    if by_column and len(by_column) != len(columns):
        raise ValueError(f"rows have {len(by_column)} values; the table has {len(columns)} columns")
    arrays = [
        _writable_values(values, column, on_replaced)
        for values, column in zip(by_column, columns, strict=False)
    ]
    return pa.Table.from_arrays(arrays, names=[c.header for c in columns])


def _writable_values(
    values: Sequence[Any], column: Column, on_replaced: Callable[[int], None] | None
) -> pa.Array:
    """`_render_values`, and when a value holds a lone surrogate, again with it made U+FFFD (the
    check costs nothing on the usual path: only the encoder's refusal sends a column through it)."""
    try:
        return _render_values(values, column)
    except UnicodeEncodeError:
        pass
    cleaned = [clean_json(v) for v in values]
    replaced = sum(n for _, n in cleaned)
    if on_replaced is not None and replaced:
        on_replaced(replaced)
    return _render_values([v for v, _ in cleaned], column)


def render_arrow(batch: pa.RecordBatch | pa.Table, columns: Sequence[Column]) -> pa.Table:
    """An Arrow batch whose column names match `columns` (any case, same order) -> Arrow strings."""
    names = [n.upper() for n in batch.schema.names]
    if names != [c.header for c in columns]:
        raise ValueError(
            f"batch columns {batch.schema.names} do not match the table's {[c.header for c in columns]}"
        )
    arrays = []
    for data, column in zip(batch.columns, columns, strict=True):
        data = data.combine_chunks() if isinstance(data, pa.ChunkedArray) else data
        text = _arrow_text_or_none(data, column)
        arrays.append(text if text is not None else _per_value(data.to_pylist(), column))
    return pa.Table.from_arrays(arrays, names=[c.header for c in columns])


def _render_values(values: Sequence[Any], column: Column) -> pa.Array:
    """Python values of one column -> Arrow strings: in C when Arrow takes them exactly as they are."""
    text = _python_text(values, column) if column.type in _ARROW_ROW_TYPES else None
    return text if text is not None else _per_value(values, column)


def _python_text(values: Sequence[Any], column: Column) -> pa.Array | None:
    try:
        # Timestamps are typed so that ints and floats mean epoch ms (aware datetimes become UTC,
        # naive ones are taken as UTC); other columns let Arrow infer one type for the column.
        array = pa.array(values, type=_TIMESTAMP_IN if column.type == "timestamp" else None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return None  # mixed Python types
    if pa.types.is_floating(array.type) and not all(isinstance(v, float) for v in values if v is not None):
        return None  # ints mixed with floats were made floats, which would print "1.0" for 1
    return _arrow_text_or_none(array, column)


def _per_value(values: Sequence[Any], column: Column) -> pa.Array:
    text_of = _PER_VALUE[column.type]
    try:
        return pa.array([None if v is None else text_of(v) for v in values], type=pa.string())
    except UnicodeEncodeError:
        raise  # a lone surrogate: `_writable_values` replaces it
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"column {column.header} ({column.type}): {exc}") from exc


def _arrow_text_or_none(data: pa.Array, column: Column) -> pa.Array | None:
    try:
        return _arrow_text(data, column)
    except (pa.ArrowInvalid, OverflowError):  # e.g. a uint64 epoch-ms beyond int64: let Python say why
        return None


def _arrow_text(data: pa.Array, column: Column) -> pa.Array | None:
    """The column's text computed in Arrow, or None where only the per-value path gives the right text."""
    kind = data.type
    if pa.types.is_dictionary(kind):
        return _arrow_text(data.dictionary_decode(), column)
    if pa.types.is_null(kind):
        return data.cast(pa.string())
    if column.type == "timestamp":
        if pa.types.is_integer(kind):
            data = data.cast(pa.int64()).cast(_TIMESTAMP_IN)  # epoch ms
        if pa.types.is_timestamp(data.type):
            return _timestamp_strings(data, column)
        return None  # ISO or digit strings are parsed one at a time
    if _is_text(kind):  # as given; for json, already-serialised JSON text
        return data.cast(pa.string())
    if column.type == "date":
        return data.cast(pa.string()) if pa.types.is_date(kind) else None
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):  # str(int), and true / false (also JSON)
        return data.cast(pa.string())
    if pa.types.is_floating(kind) and column.type != "json":  # json: NaN and inf must fail, in Python
        return _float_strings(data)
    return None


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _timestamp_strings(data: pa.Array, column: Column) -> pa.Array:
    # Any unit and zone -> UTC ms: dropping the zone keeps the UTC values, flooring matches
    # format_timestamp's truncation (also before 1970). Zone-less timestamps also format several
    # times faster in Arrow.
    utc = data.cast(pa.timestamp(data.type.unit))
    if utc.type.unit in ("us", "ns"):
        utc = pc.floor_temporal(utc, unit="millisecond")
    utc = utc.cast(_TIMESTAMP_IN)
    bounds = pc.min_max(utc.cast(pa.int64())).as_py()
    if bounds["min"] is not None and (bounds["min"] < _MIN_MS or bounds["max"] > _MAX_MS):
        raise ValueError(f"column {column.header} (timestamp): a value is outside the years 1-9999")
    # Every text is then "YYYY-MM-DD HH:MM:SS.mmm": the "T" and the "Z" go at fixed places.
    text = pc.binary_replace_slice(utc.cast(pa.string()), 10, 11, "T")
    return pc.binary_replace_slice(text, 23, 23, "Z")


def _float_strings(data: pa.Array) -> pa.Array:
    # Arrow prints the same shortest round-trip digits as Python's str(float), but in plain notation
    # it drops ".0", and it switches to exponent notation at other magnitudes. Where both print plain
    # decimals (1e-4 <= |x| < 1e10, and 0) only ".0" is added; the rest (very small or large, NaN,
    # inf: rare) are printed by Python.
    values = data.cast(pa.float64())  # float32 prints its float64 value, as str() of to_pylist() does
    text = values.cast(pa.string())
    text = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(text, ".0", ""))
    size = pc.abs(values)
    plain = pc.or_(pc.and_(pc.greater_equal(size, 1e-4), pc.less(size, 1e10)), pc.equal(size, 0))
    other = pc.invert(plain).fill_null(False)
    if not pc.any(other).as_py():
        return text
    by_python = pa.array([str(v) for v in values.filter(other).to_pylist()], type=pa.string())
    return pc.replace_with_mask(text, other, by_python)


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} here; pass str, number or bool")


def _timestamp_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_timestamp(_EPOCH + dt.timedelta(milliseconds=int(value)))  # exact, unlike float seconds
    if isinstance(value, str):
        if value.isdigit():  # HubSpot sends some timestamps as epoch-millisecond strings
            return _timestamp_text(int(value))
        try:
            return format_timestamp(dt.datetime.fromisoformat(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    raise TypeError(
        f"cannot write a {type(value).__name__} as a timestamp; pass datetime, epoch ms or ISO str"
    )


def _date_text(value: Any) -> str:
    if isinstance(value, dt.datetime):  # before date: datetime is a date
        return format_timestamp(value)[:10]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot write a {type(value).__name__} as a date; pass date, datetime or str")


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _quote_if_needed(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\r\n') else text


# Column types whose Python values may go through Arrow: json (a str is a JSON string there) and
# date (Arrow would take a datetime's local date, not its UTC date) are always rendered in Python.
_ARROW_ROW_TYPES = frozenset({"string", "number", "integer", "boolean", "timestamp"})
_PER_VALUE: dict[str, Callable[[Any], str]] = {
    "string": _scalar_text,
    "number": _scalar_text,
    "integer": _scalar_text,
    "boolean": _scalar_text,
    "timestamp": _timestamp_text,
    "date": _date_text,
    "json": _json_text,
}
