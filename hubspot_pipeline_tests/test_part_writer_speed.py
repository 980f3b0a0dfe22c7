"""The fast part writer: parallel gzip in `PartPacker` and Arrow-only rendering in `render_arrow`.

Speed itself is measured by bench/store_writer.py; these tests pin what the speed must not change:
the bytes, the order, the packing rule, errors, and the text of every value.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import math
import random
import string
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from hubspot_pipeline.store import Column, csv_format
from hubspot_pipeline.store import parts as parts_module
from hubspot_pipeline.store.csv_format import csv_bytes, header_line, render_arrow, render_rows
from hubspot_pipeline.store.parts import PartPacker

COLUMNS = [Column("id", "integer"), Column("name"), Column("score", "number"), Column("ok", "boolean")]
HEADER = header_line(COLUMNS)


def sample_rows(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rnd = random.Random(seed)
    return [
        (
            i,
            "".join(rnd.choices(string.ascii_letters + ' ,"\n', k=rnd.randint(0, 60))),
            rnd.uniform(-1e6, 1e6) if i % 7 else None,
            i % 3 == 0,
        )
        for i in range(n)
    ]


def batches(rows: Sequence[tuple[Any, ...]], sizes: Sequence[int]) -> Iterator[pa.Table]:
    """Rendered batches of the given sizes in turn (varied, so batches differ in size and content)."""
    start, k = 0, 0
    while start < len(rows):
        size = sizes[k % len(sizes)]
        yield render_rows(rows[start : start + size], COLUMNS)
        start, k = start + size, k + 1


def pack(
    rows: Sequence[tuple[Any, ...]], max_bytes: int, *, workers: int, sizes: Sequence[int] = (700, 90, 2500)
) -> list[tuple[bytes, int]]:
    parts: list[tuple[bytes, int]] = []
    packer = PartPacker(HEADER, max_bytes, lambda data, n: parts.append((bytes(data), n)), workers=workers)
    for batch in batches(rows, sizes):
        packer.add(batch)
    packer.close()
    return parts


def gzip_members(data: bytes) -> int:
    count = 0
    while data:
        member = zlib.decompressobj(wbits=31)
        member.decompress(data)
        data, count = member.unused_data, count + 1
    return count


def part_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("part-gzip")]


def test_parallel_parts_decode_to_the_rows_in_order_with_the_header_in_each() -> None:
    rows = sample_rows(20_000)
    parts = pack(rows, 256 * 1024, workers=3)
    assert len(parts) > 3
    expected = csv_bytes(render_rows(rows, COLUMNS))
    texts = [gzip.decompress(data) for data, _ in parts]
    assert all(text.startswith(HEADER) for text in texts)
    assert b"".join(text[len(HEADER) :] for text in texts) == expected
    frames = [pd.read_csv(io.BytesIO(data), compression="gzip", keep_default_na=False) for data, _ in parts]
    by_arrow = [pa_csv.read_csv(pa.input_stream(pa.py_buffer(data), compression="gzip")) for data, _ in parts]
    assert [len(f) for f in frames] == [t.num_rows for t in by_arrow] == [n for _, n in parts]
    assert pd.concat(frames)["ID"].tolist() == list(range(len(rows)))
    assert pd.concat(frames)["NAME"].tolist() == [r[1] for r in rows]


def test_same_rows_give_identical_parts_across_runs_and_worker_counts() -> None:
    rows = sample_rows(8_000, seed=3)
    first = pack(rows, 128 * 1024, workers=2)
    assert len(first) > 1
    assert pack(rows, 128 * 1024, workers=2) == first
    assert pack(rows, 128 * 1024, workers=1) == first
    assert pack(rows, 128 * 1024, workers=4) == first


def test_every_part_fits_a_small_limit_and_big_batches_are_split() -> None:
    limit = 64 * 1024
    rows = sample_rows(30_000, seed=11)
    # 20_000-row batches compress to far more than 64 KiB: they must be split to fit.
    parts = pack(rows, limit, workers=2, sizes=(20_000, 300))
    assert len(parts) > 10
    assert all(len(data) <= limit for data, _ in parts)
    assert sum(n for _, n in parts) == len(rows)
    for data, n in parts:
        assert gzip.decompress(data).startswith(HEADER)
        assert pd.read_csv(io.BytesIO(data), compression="gzip").shape == (n, len(COLUMNS))
    # Split pieces and small batches share parts as separate gzip members.
    assert max(gzip_members(data) for data, _ in parts) >= 3


def test_an_oversized_row_gets_a_part_of_its_own() -> None:
    rows = sample_rows(2_000, seed=5)
    rnd = random.Random(9)
    rows[1_000] = (1_000, "".join(rnd.choices(string.printable, k=200_000)), 1.5, True)
    parts = pack(rows, 32 * 1024, workers=2)
    oversized = [(data, n) for data, n in parts if len(data) > 32 * 1024]
    assert len(oversized) == 1 and oversized[0][1] == 1
    alone = pa_csv.read_csv(pa.input_stream(pa.py_buffer(oversized[0][0]), compression="gzip"))
    assert alone.column("NAME").to_pylist() == [rows[1_000][1]]
    assert sum(n for _, n in parts) == len(rows)


def test_parts_stay_within_1_1x_of_zlib_level_6() -> None:
    # Export-like rows: a JSON properties column and repetitive property values, where fast deflate
    # levels fall furthest behind zlib's level 6.
    rnd = random.Random(4)
    words = ["call", "email", "meeting", "follow up", "lead", "deal", "NEW", "OPEN", "IN_PROGRESS"]
    columns = [Column("id", "integer"), Column("at", "timestamp"), Column("properties", "json")]
    rows = [
        (
            i,
            1_795_253_400_000 + rnd.randint(0, 10**9),
            {
                "hs_lead_status": rnd.choice(words[6:]),
                "amount": str(rnd.randint(0, 10**6)),
                "notes": " ".join(rnd.choices(words[:6], k=8)),
                "email": f"user{rnd.randint(0, 999)}@example.com",
            },
        )
        for i in range(20_000)
    ]
    parts: list[bytes] = []
    packer = PartPacker(header_line(columns), 1 << 20, lambda data, n: parts.append(bytes(data)), workers=2)
    for start in range(0, len(rows), 4_000):
        packer.add(render_rows(rows[start : start + 4_000], columns))
    packer.close()
    zlib6 = sum(len(gzip.compress(gzip.decompress(data), compresslevel=6)) for data in parts)
    assert sum(map(len, parts)) <= 1.10 * zlib6


def test_a_compression_error_propagates_and_stops_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = parts_module.batch_member

    def failing(rendered: pa.Table) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("deflate failed")
        return real(rendered)

    monkeypatch.setattr(parts_module, "batch_member", failing)
    before = set(part_threads())  # idle threads of packers other tests abandoned may still be there
    sunk: list[int] = []
    packer = PartPacker(HEADER, 1 << 20, lambda data, n: sunk.append(n), workers=2)
    with pytest.raises(RuntimeError, match="deflate failed"):
        for batch in batches(sample_rows(20_000), (500,)):
            packer.add(batch)
        packer.close()
    assert set(part_threads()) <= before
    assert calls < 40  # stopped at the failure, not after compressing everything


def test_a_sink_error_propagates_and_stops_every_thread() -> None:
    def sink(data: bytes | bytearray, rows: int) -> None:
        raise OSError("upload refused")

    before = set(part_threads())
    packer = PartPacker(HEADER, 32 * 1024, sink, workers=2)
    with pytest.raises(OSError, match="upload refused"):
        for batch in batches(sample_rows(20_000), (500,)):
            packer.add(batch)
    assert set(part_threads()) <= before


def test_close_stops_the_threads() -> None:
    before = set(part_threads())
    parts = pack(sample_rows(3_000), 1 << 20, workers=4)
    assert len(parts) == 1 and set(part_threads()) <= before


# --- render_arrow: every common Arrow type in C, same text as render_rows -----------------------


def same_text(array: pa.Array, column: Column, values: Sequence[Any]) -> str:
    """Asserts render_arrow(array) == render_rows(values) byte for byte; returns the CSV text."""
    by_arrow = csv_bytes(render_arrow(pa.table({column.name: array}), [column]))
    by_rows = csv_bytes(render_rows([(v,) for v in values], [column]))
    assert by_arrow == by_rows
    return by_arrow.decode()


IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
DATETIMES = [
    dt.datetime(2026, 11, 21, 9, 30, 0, 999_999, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 21, 15, 0, 0, 123_456, tzinfo=IST),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),  # floors, not truncates to 0
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.UTC),
    None,
]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", None])
def test_render_arrow_timestamps_of_any_unit_and_zone(unit: str, tz: str | None) -> None:
    values = [*DATETIMES[:3], None] if unit == "ns" else DATETIMES  # years 1 and 9999 are beyond ns
    if unit == "s":
        values = [v if v is None else v.replace(microsecond=0) for v in values]
    if tz is None:  # naive timestamps are UTC wall time
        values = [v if v is None else v.astimezone(dt.UTC).replace(tzinfo=None) for v in values]
    text = same_text(pa.array(values, pa.timestamp(unit, tz=tz)), Column("at", "timestamp"), values)
    lines = text.splitlines()
    assert lines[0] == ('"2026-11-21T09:30:00.000Z"' if unit == "s" else '"2026-11-21T09:30:00.999Z"')
    assert lines[2] == ('"1969-12-31T23:59:59.000Z"' if unit == "s" else '"1969-12-31T23:59:59.999Z"')
    assert lines[-1] == ""


def test_render_arrow_epoch_ms_integers_as_timestamps() -> None:
    values = [1_795_253_400_123, 0, -1, None, 253_402_300_799_999]
    text = same_text(pa.array(values, pa.int64()), Column("at", "timestamp"), values)
    assert text.splitlines() == [
        '"2026-11-21T09:30:00.123Z"',
        '"1970-01-01T00:00:00.000Z"',
        '"1969-12-31T23:59:59.999Z"',
        "",
        '"9999-12-31T23:59:59.999Z"',
    ]
    unsigned = [v for v in values if v is None or v >= 0]
    same_text(pa.array(unsigned, pa.uint64()), Column("at", "timestamp"), unsigned)
    small = [0, -1, 2_000_000_000, None]
    same_text(pa.array(small, pa.int32()), Column("at", "timestamp"), small)


@pytest.mark.parametrize("kind", [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint32(), pa.uint64()])
def test_render_arrow_integers(kind: pa.DataType) -> None:
    values = [0, 7, None, 100, 2**63 if kind == pa.uint64() else 1]
    assert same_text(pa.array(values, kind), Column("n", "integer"), values).splitlines()[:3] == [
        '"0"',
        '"7"',
        "",
    ]
    same_text(pa.array(values, kind), Column("n"), values)  # a string column takes numbers too
    same_text(pa.array(values, kind), Column("n", "json"), values)


def test_render_arrow_booleans() -> None:
    values = [True, False, None]
    assert same_text(pa.array(values), Column("ok", "boolean"), values) == '"true"\n"false"\n\n'
    same_text(pa.array(values), Column("ok", "json"), values)


FLOATS = [
    0.0,
    -0.0,
    1.0,
    0.1,
    123.0,
    1e-4,
    9.999999999999999e-05,
    1e-5,
    2.5e-7,
    9_999_999_999.5,
    1e10,
    1e15,
    1e16,
    1.2345678901234568e17,
    5e-324,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    None,
]


def test_render_arrow_floats_print_exactly_as_python_str() -> None:
    rnd = random.Random(42)
    bits = [struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3_000)]
    decimals = [round(rnd.uniform(-1e9, 1e9), rnd.randint(0, 8)) for _ in range(3_000)]
    for values in (FLOATS, bits, decimals):
        text = same_text(pa.array(values, pa.float64()), Column("x", "number"), values)
        assert text.splitlines() == ["" if v is None else f'"{v}"' for v in values]  # str(float) exactly
    float32 = pa.array([0.1, 1.5, None, 3e38], pa.float32())
    same_text(float32, Column("x", "number"), float32.to_pylist())


def test_render_rows_floats_mixed_with_ints_keep_each_value_s_text() -> None:
    text = csv_bytes(render_rows([(1,), (2.5,), (None,), (1e16,)], [Column("x", "number")]))
    assert text == b'"1"\n"2.5"\n\n"1e+16"\n'


def test_render_arrow_json_strings_are_written_as_given() -> None:
    objects: list[Any] = [{"a": [1, 2.5, None], "é": 'x,"y"'}, [], "text", 3, None]
    texts = [None if o is None else json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in objects]
    for kind in (pa.string(), pa.large_string()):
        assert same_text(pa.array(texts, kind), Column("doc", "json"), objects).splitlines()[1] == '"[]"'


def test_render_arrow_strings_dates_dictionaries_and_nulls() -> None:
    words = ["", "a", None, 'é,"q"\n']
    same_text(pa.array(words, pa.large_string()), Column("s"), words)
    same_text(pa.array(words).dictionary_encode(), Column("s"), words)
    days = [dt.date(2026, 11, 21), dt.date(1, 1, 1), None]
    assert (
        same_text(pa.array(days, pa.date32()), Column("d", "date"), days) == '"2026-11-21"\n"0001-01-01"\n\n'
    )
    same_text(pa.nulls(3), Column("t", "timestamp"), [None] * 3)


def test_render_arrow_renders_common_types_without_per_value_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def per_value(values: Sequence[Any], column: Column) -> pa.Array:
        raise AssertionError(f"column {column.header} went through Python one value at a time")

    monkeypatch.setattr(csv_format, "_per_value", per_value)
    table = pa.table(
        {
            "id": pa.array([1, None], pa.int64()),
            "ok": pa.array([True, None]),
            "at": pa.array([1, None], pa.timestamp("us", tz="Europe/Paris")),
            "ms": pa.array([1_795_253_400_123, None], pa.int64()),
            "x": pa.array([0.5, None], pa.float32()),
            "doc": pa.array(['{"a":1}', None]),
            "s": pa.array(["a", None], pa.large_string()),
            "d": pa.array([dt.date(2026, 11, 21), None]),
        }
    )
    columns = [
        Column("id", "integer"),
        Column("ok", "boolean"),
        Column("at", "timestamp"),
        Column("ms", "timestamp"),
        Column("x", "number"),
        Column("doc", "json"),
        Column("s"),
        Column("d", "date"),
    ]
    assert csv_bytes(render_arrow(table, columns)) == (
        b'"1","true","1970-01-01T00:00:00.000Z","2026-11-21T09:30:00.123Z","0.5","{""a"":1}","a","2026-11-21"\n'
        b",,,,,,,\n"
    )


def test_timestamps_beyond_year_9999_are_refused_with_the_column_name() -> None:
    beyond = 253_402_300_800_000  # 10000-01-01T00:00:00.000Z
    with pytest.raises(ValueError, match=r"column AT \(timestamp\): .* years 1-9999"):
        render_arrow(pa.table({"at": pa.array([0, beyond], pa.int64())}), [Column("at", "timestamp")])
    with pytest.raises(ValueError, match=r"column AT \(timestamp\): .* years 1-9999"):
        render_rows([(0,), (beyond,)], [Column("at", "timestamp")])
