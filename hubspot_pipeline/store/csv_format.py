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
_TIMESTAMP_ARROW = pa.timestamp("ms", tz="UTC")
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


def render_rows(rows: Sequence[Sequence[Any]], columns: Sequence[Column]) -> pa.Table:
    """Rows (tuples in column order) -> a table of Arrow string columns ready for `csv_bytes`."""
    try:
        by_column = list(zip(*rows, strict=True))
    except ValueError:
        lengths = sorted({len(r) for r in rows})
        raise ValueError(
            f"rows have different lengths {lengths}; each row needs {len(columns)} values"
        ) from None
    if by_column and len(by_column) != len(columns):
        raise ValueError(f"rows have {len(by_column)} values; the table has {len(columns)} columns")
    arrays = [_render_values(values, column) for values, column in zip(by_column, columns, strict=False)]
    return pa.Table.from_arrays(arrays, names=[c.header for c in columns])


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
        if column.type == "string" and (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
            arrays.append(data.cast(pa.string()))  # already text: written exactly as given
        else:
            arrays.append(_render_values(data.to_pylist(), column))
    return pa.Table.from_arrays(arrays, names=[c.header for c in columns])


def _render_values(values: Sequence[Any], column: Column) -> pa.Array:
    fast, slow = _RENDERERS[column.type]
    if fast is not None:
        try:
            return fast(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            pass  # mixed Python types: fall back to one value at a time, same result
    try:
        return pa.array([None if v is None else slow(v) for v in values], type=pa.string())
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"column {column.header} ({column.type}): {exc}") from exc


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


def _fast_text(values: Sequence[Any]) -> pa.Array:
    # Only str and int columns pass: Arrow prints them as str() does. Anything else (floats, bools,
    # mixed types) raises, and the column falls back to one value at a time.
    array = pa.array(values)
    if not (
        pa.types.is_string(array.type) or pa.types.is_integer(array.type) or pa.types.is_null(array.type)
    ):
        raise TypeError("not a str or int column")
    return array.cast(pa.string())


def _fast_booleans(values: Sequence[Any]) -> pa.Array:
    return pa.array(values, type=pa.bool_()).cast(pa.string())  # bools only -> "true"/"false"


def _fast_timestamps(values: Sequence[Any]) -> pa.Array:
    # datetimes (naive = UTC) and epoch-ms numbers, converted and formatted in C. The zone is dropped
    # after conversion because Arrow formats zone-less timestamps several times faster.
    utc = pa.array(values, type=_TIMESTAMP_ARROW).cast(pa.timestamp("ms"))
    text = pc.replace_substring(utc.cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "")


def _quote_if_needed(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\r\n') else text


_Fast = Callable[[Sequence[Any]], pa.Array] | None
_RENDERERS: dict[str, tuple[_Fast, Callable[[Any], str]]] = {
    "string": (_fast_text, _scalar_text),
    "number": (_fast_text, _scalar_text),
    "integer": (_fast_text, _scalar_text),
    "boolean": (_fast_booleans, _scalar_text),
    "timestamp": (_fast_timestamps, _timestamp_text),
    "date": (None, _date_text),
    "json": (None, _json_text),
}
