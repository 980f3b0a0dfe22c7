"""The store: destinations, the gzip-CSV part writer and manifests, on a local folder and on S3 (moto server)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import random
import string
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from boto3.s3.transfer import TransferConfig
from dagster_aws.s3 import S3Resource
from moto.sts.models import sts_backends

from hubspot_pipeline.store import (
    CSV_FORMAT,
    Column,
    Destination,
    DestinationError,
    LocalDestination,
    ManifestError,
    S3ClientProvider,
    S3Destination,
    list_tables,
    open_destination,
    read_manifest,
    read_table,
)
from hubspot_pipeline_tests.fixtures_s3 import FAKE_ACCESS_KEY_ID, S3Bucket

DAY = "2026-11-21"
AS_OF = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
RUN_A = "aaaaaaaa-1111-4111-8111-111111111111"
RUN_B = "bbbbbbbb-2222-4222-8222-222222222222"
COLUMNS = [Column("objectid", "integer"), Column("name", "string")]


@pytest.fixture(params=["local", "s3"])
def dest(request: pytest.FixtureRequest, tmp_path: Path) -> Destination:
    if request.param == "local":
        return open_destination(str(tmp_path / "export"))
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    return open_destination(f"s3://{bucket.name}/exports/hubspot")


def keys(dest: Destination, prefix: str = "") -> list[str]:
    return [info.key for info in dest.list(prefix)]


def write(
    dest: Destination,
    rows: Sequence[Sequence[Any]],
    *,
    run_id: str = RUN_A,
    columns: Sequence[Column] = COLUMNS,
    table: str = "OWNERS",
    **options: Any,
) -> Any:
    with dest.table_writer(DAY, table, columns, run_id=run_id, account_id=123, as_of=AS_OF, **options) as w:
        w.write_rows(rows)
    return w.result


def random_rows(n: int, seed: int = 1, width: int = 40) -> list[tuple[int, str]]:
    rnd = random.Random(seed)
    return [(i, "".join(rnd.choices(string.ascii_letters, k=width))) for i in range(n)]


def gzip_members(data: bytes) -> int:
    count = 0
    while data:
        d = zlib.decompressobj(wbits=31)
        d.decompress(data)
        data = d.unused_data
        count += 1
    return count


# --- layout, manifest --------------------------------------------------------------------------


def test_exact_keys_and_manifest(dest: Destination) -> None:
    result = write(dest, [(1, "a"), (2, "b")], notes=["association removals reflect the current state"])
    part = f"{DAY}/OWNERS/part-aaaaaaaa-00000.csv.gz"
    manifest_key = f"{DAY}/OWNERS/_manifest.json"
    assert keys(dest) == [manifest_key, part]
    assert (
        result.manifest_key == manifest_key and result.rows == 2 and [p.key for p in result.parts] == [part]
    )
    data = dest.get_bytes(part)
    assert data is not None and gzip.decompress(data) == b'OBJECTID,NAME\n"1","a"\n"2","b"\n'
    manifest = read_manifest(dest, DAY, "OWNERS")
    assert manifest == json.loads(dest.get_bytes(manifest_key) or b"")
    assert {k: v for k, v in manifest.items() if k != "written_at"} == {
        "table": "OWNERS",
        "day": DAY,
        "columns": [{"name": "OBJECTID", "type": "integer"}, {"name": "NAME", "type": "string"}],
        "rows": 2,
        "parts": [{"key": part, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "rows": 2}],
        "run_id": RUN_A,
        "as_of": "2026-11-22T00:00:00.000Z",
        "account_id": "123",
        "format": CSV_FORMAT,
        "notes": ["association removals reflect the current state"],
    }
    assert result.bytes == len(data) and result.parts[0].sha256 == hashlib.sha256(data).hexdigest()
    assert list_tables(dest, DAY) == ["OWNERS"] and list_tables(dest, "2026-11-20") == []


def test_s3_keys_live_under_the_url_prefix(s3_bucket: S3Bucket) -> None:
    dest = open_destination(f"s3://{s3_bucket.name}/exports/hubspot/")
    write(dest, [(1, "a")])
    listed = s3_bucket.client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        f"exports/hubspot/{DAY}/OWNERS/_manifest.json",
        f"exports/hubspot/{DAY}/OWNERS/part-aaaaaaaa-00000.csv.gz",
    ]
    assert dest.url_for("x/y") == f"s3://{s3_bucket.name}/exports/hubspot/x/y"


def test_empty_table_has_one_header_only_part(dest: Destination) -> None:
    result = write(dest, [])
    assert result.rows == 0 and len(result.parts) == 1
    assert gzip.decompress(dest.get_bytes(result.parts[0].key) or b"") == b"OBJECTID,NAME\n"
    table = read_table(dest, DAY, "OWNERS")
    assert table.num_rows == 0 and table.column_names == ["OBJECTID", "NAME"]


# --- format and hostile values -----------------------------------------------------------------

HOSTILE = [
    "a,b",
    'say "hi"',
    '"',
    "line1\nline2",
    "crlf\r\nend",
    "cr\ronly",
    "tab\there",
    "emoji 😀 ünïcödé 日本語 עברית",
    "=cmd()",
    "+1",
    "-1",
    "@SUM(A1)",
    "",
    "  padded  ",
    "NULL",
    "\\N",
    "x" * 100_000,
    None,
]
HOSTILE_COLUMNS = [
    Column("ID", "integer"),
    Column("TEXT", "string"),
    Column("FLAG", "boolean"),
    Column("AT", "timestamp"),
    Column("DOC", "json"),
    Column("SCORE", "number"),
    Column("DAY", "date"),
]


def hostile_rows() -> list[tuple[Any, ...]]:
    at = dt.datetime(2026, 11, 21, 9, 30, 0, 123999, tzinfo=dt.UTC)
    return [
        (
            i,
            text,
            i % 2 == 0,
            at + dt.timedelta(hours=i),
            {"v": text, "n": i},
            i / 4,
            dt.date(2026, 11, 1 + i),
        )
        for i, text in enumerate(HOSTILE)
    ]


def expected_text(row: tuple[Any, ...]) -> list[str | None]:
    i, text, flag, at, doc, score, day = row
    return [
        str(i),
        text,
        "true" if flag else "false",
        at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
        str(score),
        day.isoformat(),
    ]


def test_hostile_values_round_trip_through_read_table_and_pandas(dest: Destination) -> None:
    rows = hostile_rows()
    result = write(dest, rows, columns=HOSTILE_COLUMNS, table="HOSTILE")
    expected = [expected_text(r) for r in rows]
    assert read_table(dest, DAY, "HOSTILE").to_pylist() == [
        dict(zip([c.name for c in HOSTILE_COLUMNS], e, strict=True)) for e in expected
    ]
    # pandas cannot tell NULL from "" (both read as ""), but every string must come back byte-exact.
    frames = [
        pd.read_csv(
            io.BytesIO(dest.get_bytes(p.key) or b""), compression="gzip", dtype=str, keep_default_na=False
        )
        for p in result.parts
    ]
    got = pd.concat(frames).values.tolist()
    assert got == [[v if v is not None else "" for v in e] for e in expected]


def test_csv_bytes_follow_the_dialect(dest: Destination) -> None:
    rows = [
        (
            1,
            "=cmd()",
            "",
            None,
            True,
            dt.datetime(2026, 11, 21, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        (2, 'q"q', "a\r\nb", "x", False, "2026-11-21T09:30:00Z"),
        (3, None, None, None, None, 1_795_253_400_000),
    ]
    columns = [Column("id", "integer"), Column("a"), Column("b"), Column("c"), Column("ok", "boolean")]
    columns.append(Column("at", "timestamp"))
    result = write(dest, rows, columns=columns, table="DIALECT")
    assert gzip.decompress(dest.get_bytes(result.parts[0].key) or b"") == (
        b"ID,A,B,C,OK,AT\n"
        b'"1","=cmd()","",,"true","2026-11-21T09:30:00.000Z"\n'
        b'"2","q""q","a\r\nb","x","false","2026-11-21T09:30:00.000Z"\n'
        b'"3",,,,,"2026-11-21T09:30:00.000Z"\n'
    )


def test_vectorised_and_per_value_rendering_agree(tmp_path: Path) -> None:
    # A column of one Python type is rendered by Arrow in C; one odd value sends the whole column
    # through the per-value path. Both must print every value the same way.
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    samples: dict[str, list[Any]] = {
        "timestamp": [
            dt.datetime(2026, 11, 21, 9, 30, 0, 999_999, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 21, 9, 30, tzinfo=ist),
            dt.datetime(2026, 11, 21, 9, 30),  # naive: UTC
            dt.datetime(1, 1, 1, tzinfo=dt.UTC),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.UTC),
            1_795_253_400_123,
            1_795_253_400_123.0,
            None,
        ],
        "integer": [0, -5, 2**62, None, 7],
        "string": ["", "a", None, "é"],
        "boolean": [True, False, None],
    }
    odd = {"timestamp": "2026-01-01T00:00:00Z", "integer": "8", "string": 9, "boolean": "true"}
    expected = {
        "timestamp": [
            "2026-11-21T09:30:00.999Z",
            "2026-11-21T04:00:00.000Z",
            "2026-11-21T09:30:00.000Z",
            "0001-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2026-11-21T09:30:00.123Z",
            "2026-11-21T09:30:00.123Z",
            None,
        ],
        "integer": ["0", "-5", str(2**62), None, "7"],
        "string": ["", "a", None, "é"],
        "boolean": ["true", "false", None],
    }
    dest = LocalDestination(tmp_path)
    for kind, values in samples.items():
        columns = [Column("fast", kind), Column("slow", kind)]  # type: ignore[arg-type]
        rows = [(v, v) for v in values] + [(None, odd[kind])]
        write(dest, rows, columns=columns, table=kind.upper())
        table = read_table(dest, DAY, kind.upper())
        assert (
            table.column("FAST").to_pylist()[:-1] == table.column("SLOW").to_pylist()[:-1] == expected[kind]
        )


def test_arrow_batches_write_the_same_csv_as_rows(dest: Destination) -> None:
    rows = hostile_rows()
    by_rows = write(dest, rows, columns=HOSTILE_COLUMNS, table="ROWS")
    values = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "id": pa.array(values[0], pa.int64()),
            "text": pa.array(values[1], pa.large_string()),
            "flag": pa.array(values[2], pa.bool_()),
            "at": pa.array(values[3], pa.timestamp("us", tz="UTC")),
            "doc": pa.array(values[4]),  # a struct column: written as the same JSON objects
            "score": pa.array(values[5], pa.float64()),
            "day": pa.array(values[6], pa.date32()),
        }
    )
    with dest.table_writer(DAY, "BATCH", HOSTILE_COLUMNS, run_id=RUN_A, account_id=123, as_of=AS_OF) as w:
        w.write_batch(table.slice(0, 5))
        w.write_rows(rows[5:10])  # mixing both keeps the order
        w.write_batch(table.slice(10).to_batches()[0])
    assert w.result.rows == by_rows.rows == len(rows)
    assert len(w.result.parts) == len(by_rows.parts) == 1
    csv_of_batches = gzip.decompress(dest.get_bytes(w.result.parts[0].key) or b"")
    assert csv_of_batches == gzip.decompress(dest.get_bytes(by_rows.parts[0].key) or b"")


def test_write_batch_rejects_mismatched_columns(dest: Destination) -> None:
    with (
        pytest.raises(ValueError, match="do not match"),
        dest.table_writer(DAY, "OWNERS", COLUMNS, run_id=RUN_A, account_id=1, as_of=AS_OF) as w,
    ):
        w.write_batch(pa.table({"name": ["a"], "objectid": [1]}))
    assert keys(dest) == []


def test_value_errors_name_the_column_and_leave_nothing(dest: Destination) -> None:
    with pytest.raises(TypeError, match="column NAME"):
        write(dest, [(1, "a"), (2, {"not": "a string"})])
    with pytest.raises(ValueError, match=r"column DOC \(json\): Out of range float"):
        write(dest, [(float("nan"),)], columns=[Column("doc", "json")])
    with pytest.raises(ValueError, match="each row needs 2 values"):
        write(dest, [(1, "a"), (2,)])
    with pytest.raises(ValueError, match="ISO 8601"):
        write(dest, [("yesterday",)], columns=[Column("at", "timestamp")])
    assert keys(dest) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day": "2026-1-5"}, "invalid day"),
        ({"table": "../x"}, "invalid table"),
        ({"table": "_state"}, "invalid table"),
        ({"columns": [Column("a"), Column("A")]}, "duplicate column"),
        ({"run_id": "bad/run"}, "run_id"),
        ({"max_part_bytes": 20}, "no room for rows"),
    ],
)
def test_invalid_arguments_fail_before_writing(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    dest = LocalDestination(tmp_path)
    args: dict[str, Any] = {"day": DAY, "table": "OWNERS", "columns": COLUMNS, "run_id": RUN_A} | kwargs
    with pytest.raises(ValueError, match=message):
        dest.table_writer(
            args.pop("day"), args.pop("table"), args.pop("columns"), account_id=1, as_of=AS_OF, **args
        )
    assert list(tmp_path.iterdir()) == []


# --- parts -------------------------------------------------------------------------------------


def test_tiny_part_limit_gives_many_valid_parts(dest: Destination) -> None:
    rows = random_rows(3000)
    limit = 4096
    result = write(dest, rows, max_part_bytes=limit)
    n = len(result.parts)
    assert n > 10
    assert keys(dest) == [f"{DAY}/OWNERS/_manifest.json"] + [
        f"{DAY}/OWNERS/part-aaaaaaaa-{i:05d}.csv.gz" for i in range(n)
    ]
    manifest = read_manifest(dest, DAY, "OWNERS")
    assert manifest is not None and manifest["rows"] == 3000 == sum(p["rows"] for p in manifest["parts"])
    got: list[list[Any]] = []
    for part, info in zip(result.parts, dest.list(f"{DAY}/OWNERS/part-"), strict=True):
        data = dest.get_bytes(part.key) or b""
        assert len(data) == part.bytes == info.size <= limit
        assert hashlib.sha256(data).hexdigest() == part.sha256
        assert gzip.decompress(data).startswith(b"OBJECTID,NAME\n")
        by_arrow = pa_csv.read_csv(pa.input_stream(pa.py_buffer(data), compression="gzip"))
        by_pandas = pd.read_csv(io.BytesIO(data), compression="gzip")
        assert by_arrow.num_rows == len(by_pandas) == part.rows
        got.extend(by_pandas.values.tolist())
    assert got == [list(r) for r in rows]
    # Several batches share a part as separate gzip members, and both readers above handled them.
    assert max(gzip_members(dest.get_bytes(p.key) or b"") for p in result.parts) >= 3


def test_a_row_bigger_than_the_limit_gets_a_part_of_its_own(dest: Destination) -> None:
    rows = random_rows(50, width=30)
    rows[20] = (20, "".join(random.Random(2).choices(string.printable, k=100_000)))
    limit = 8192
    result = write(dest, rows, max_part_bytes=limit)
    oversized = [p for p in result.parts if p.bytes > limit]
    assert len(oversized) == 1 and oversized[0].rows == 1
    assert read_table(dest, DAY, "OWNERS").column("NAME").to_pylist() == [r[1] for r in rows]


def test_default_limit_keeps_a_small_table_in_one_part(dest: Destination) -> None:
    result = write(dest, random_rows(20_000))
    assert len(result.parts) == 1 and result.rows == 20_000
    assert gzip_members(dest.get_bytes(result.parts[0].key) or b"") > 2  # header + several batches


# --- re-runs and failures ----------------------------------------------------------------------


def test_rerun_leaves_exactly_the_new_runs_parts(dest: Destination) -> None:
    first = write(dest, random_rows(2000), max_part_bytes=4096)
    assert len(first.parts) > 2
    dest.put_bytes(f"{DAY}/OWNERS/stray.txt", b"left by someone")
    dest.put_bytes(f"{DAY}/OWNER_TEAM/_manifest.json", b"{}")  # a sibling table sharing the name's start
    write(dest, [(7, "seven")], run_id=RUN_B)
    assert keys(dest, f"{DAY}/OWNERS/") == [
        f"{DAY}/OWNERS/_manifest.json",
        f"{DAY}/OWNERS/part-bbbbbbbb-00000.csv.gz",
    ]
    assert dest.exists(f"{DAY}/OWNER_TEAM/_manifest.json")
    assert read_table(dest, DAY, "OWNERS").to_pylist() == [{"OBJECTID": "7", "NAME": "seven"}]


def test_exception_mid_write_keeps_the_previous_run(dest: Destination) -> None:
    write(dest, [(1, "old")])
    before = {k: dest.get_bytes(k) for k in keys(dest)}

    def rows_then_failure() -> Any:
        yield from random_rows(3000)
        raise RuntimeError("HubSpot went away")

    with (
        pytest.raises(RuntimeError, match="went away"),
        dest.table_writer(
            DAY, "OWNERS", COLUMNS, run_id=RUN_B, account_id=1, as_of=AS_OF, max_part_bytes=4096
        ) as w,
    ):
        w.write_rows(rows_then_failure())
    assert {k: dest.get_bytes(k) for k in keys(dest)} == before
    with pytest.raises(RuntimeError, match="only after"):
        _ = w.result


def test_retry_with_the_same_run_id_never_overwrites_the_live_parts(dest: Destination) -> None:
    first = write(dest, random_rows(500), max_part_bytes=4096)
    live = {p.key for p in first.parts}
    with (
        pytest.raises(RuntimeError),
        dest.table_writer(
            DAY, "OWNERS", COLUMNS, run_id=RUN_A, account_id=1, as_of=AS_OF, max_part_bytes=4096
        ) as w,
    ):
        w.write_rows(random_rows(500, seed=9))
        w.write_rows([(1, "x")] * 300)
        raise RuntimeError("step failed")
    assert read_table(dest, DAY, "OWNERS").num_rows == 500  # checks every sha256 against the manifest
    second = write(dest, [(1, "retried")])
    assert second.parts[0].key == f"{DAY}/OWNERS/part-aaaaaaaa-{len(live):05d}.csv.gz"
    assert keys(dest, f"{DAY}/OWNERS/part-") == [second.parts[0].key]


def test_read_table_detects_a_tampered_part(dest: Destination) -> None:
    result = write(dest, [(1, "a")])
    dest.put_bytes(result.parts[0].key, gzip.compress(b'OBJECTID,NAME\n"1","b"\n'))
    with pytest.raises(ManifestError, match="does not match"):
        read_table(dest, DAY, "OWNERS")
    with pytest.raises(ManifestError, match="no manifest"):
        read_table(dest, DAY, "TEAMS")
    assert read_manifest(dest, DAY, "TEAMS") is None


# --- destination operations --------------------------------------------------------------------


def test_destination_operations(dest: Destination, tmp_path: Path) -> None:
    dest.put_bytes("a/b.x", b"1")
    dest.put_bytes("a/bc", b"22")
    dest.put_bytes("a/b/c", b"333")
    src = tmp_path / "src.bin"
    src.write_bytes(b"file contents")
    dest.put_file("_state/index.bin", src)
    assert [(o.key, o.size) for o in dest.list("a/b")] == [("a/b.x", 1), ("a/b/c", 3), ("a/bc", 2)]
    assert keys(dest, "a/b/") == ["a/b/c"]
    assert keys(dest, "_state/") == ["_state/index.bin"]
    assert dest.get_bytes("_state/index.bin") == b"file contents"
    assert dest.get_bytes("missing") is None and not dest.exists("missing") and dest.exists("a/bc")
    with dest.open_read("a/b/c") as stream:
        assert stream.read() == b"333"
    with pytest.raises(FileNotFoundError):
        dest.open_read("missing")
    dest.delete(["a/b.x", "a/bc", "never-existed"])
    assert keys(dest) == ["_state/index.bin", "a/b/c"]
    for bad in ("../escape", "/abs", "a//b", "dir/", ""):
        with pytest.raises(ValueError, match="invalid object key"):
            dest.put_bytes(bad, b"x")


def test_local_writes_leave_no_temp_files_and_files_are_readable(tmp_path: Path) -> None:
    dest = open_destination(f"file://{tmp_path}/out")
    write(dest, random_rows(100))
    files = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert files == [f"{DAY}/OWNERS/_manifest.json", f"{DAY}/OWNERS/part-aaaaaaaa-00000.csv.gz"]
    assert all((tmp_path / "out" / f).stat().st_mode & 0o044 == 0o044 for f in files)
    assert dest.url_for("k") == (tmp_path / "out" / "k").as_uri()


def test_s3_put_file_uses_multipart_upload(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    five_mib = 5 * 1024 * 1024
    dest = S3Destination(
        S3ClientProvider(S3Resource(endpoint_url=s3_bucket.endpoint_url)),
        s3_bucket.name,
        "p",
        transfer_config=TransferConfig(multipart_threshold=five_mib, multipart_chunksize=five_mib),
    )
    big = tmp_path / "big.bin"
    big.write_bytes(random.Random(3).randbytes(five_mib + 1000))
    dest.put_file("_state/big.bin", big)
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key="p/_state/big.bin")
    assert head["ETag"].strip('"').endswith("-2")  # S3's ETag of a two-part multipart upload
    assert dest.get_bytes("_state/big.bin") == big.read_bytes()


def test_s3_delete_batches_1000_keys_per_call(s3_bucket: S3Bucket) -> None:
    dest = open_destination(s3_bucket.url)
    doomed = [f"k/{i:04d}" for i in range(1001)]
    for key in (doomed[0], doomed[999], doomed[1000], "kept"):  # S3 ignores deletes of missing keys
        dest.put_bytes(key, b"x")
    calls: list[int] = []
    dest.client.meta.events.register(
        "before-call.s3.DeleteObjects", lambda params, **_: calls.append(params["body"].count(b"<Key>"))
    )
    dest.delete(doomed)
    assert calls == [1000, 1] and keys(dest) == ["kept"]


# --- opening destinations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("gs://bucket/prefix", "unsupported export URL scheme 'gs'"),
        ("https://bucket.s3.amazonaws.com/x", "unsupported export URL scheme 'https'"),
        ("s3://", "does not name a valid S3 bucket"),
        ("s3://Bad_Bucket/x", "does not name a valid S3 bucket"),
        ("s3://b/x", "does not name a valid S3 bucket"),
        ("file://otherhost/tmp/x", "names a host"),
    ],
)
def test_bad_urls_say_what_to_fix(url: str, message: str) -> None:
    with pytest.raises(DestinationError, match=message) as info:
        open_destination(url)
    assert "HUBSPOT_EXPORT_URL" in str(info.value) or "s3://bucket" in str(info.value)


def test_local_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(DestinationError, match="cannot create the export folder"):
        open_destination(str(tmp_path / "a-file" / "export"))


def test_relative_local_path_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dest = open_destination("hubspot-export")
    assert (
        isinstance(dest, LocalDestination) and dest.root == tmp_path / "hubspot-export" and dest.root.is_dir()
    )


def test_missing_bucket_is_reported_before_anything_is_written(s3_bucket: S3Bucket) -> None:
    with pytest.raises(DestinationError, match="bucket 'no-such-bucket' does not exist"):
        open_destination("s3://no-such-bucket/prefix")
    assert [b["Name"] for b in s3_bucket.client.list_buckets()["Buckets"]] == [s3_bucket.name]


def test_unreachable_endpoint_is_reported(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    with pytest.raises(DestinationError, match=r"'some-bucket' is not reachable.*AWS_ENDPOINT_URL") as info:
        open_destination("s3://some-bucket/x", s3=S3Resource(endpoint_url=closed, max_attempts=1))
    assert "testing" not in str(info.value)  # no credentials in the message


def test_assume_role_with_external_id(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    def signing_key_of_next_put(dest: S3Destination) -> tuple[str, str | None]:
        seen: dict[str, str | None] = {}

        def capture(request: Any, **_: Any) -> None:
            seen["auth"] = request.headers["Authorization"].decode()
            token = request.headers.get("X-Amz-Security-Token")
            seen["token"] = token.decode() if token else None

        dest.client.meta.events.register("before-send.s3.PutObject", capture)
        dest.put_bytes("probe", b"x")
        return str(seen["auth"]), seen["token"]

    plain = open_destination(s3_bucket.url)
    assert isinstance(plain, S3Destination)
    auth, token = signing_key_of_next_put(plain)
    assert f"Credential={FAKE_ACCESS_KEY_ID}/" in auth and token is None

    role = "arn:aws:iam::123456789012:role/hubspot-export"
    monkeypatch.setenv("AWS_ROLE_ARN", role)
    monkeypatch.setenv("AWS_EXTERNAL_ID", "hubspot-ext-42")
    assumed = open_destination(s3_bucket.url)
    assert isinstance(assumed, S3Destination)
    auth, token = signing_key_of_next_put(assumed)
    session = sts_backends["123456789012"]["aws"].assumed_roles[-1]
    assert (session.role_arn, session.external_id, session.session_name) == (
        role,
        "hubspot-ext-42",
        "hubspot-pipeline",
    )
    assert f"Credential={session.access_key_id}/" in auth and token == session.session_token
    assert assumed.client is assumed.client  # cached while the credentials are fresh


def test_assumed_role_credentials_are_renewed_before_they_expire(aws_env: str) -> None:
    role = "arn:aws:iam::123456789012:role/hubspot-export"
    sessions = sts_backends["123456789012"]["aws"].assumed_roles
    before = len(sessions)
    # moto's credentials last an hour; renewing 2 h ahead means every call finds them about to expire.
    provider = S3ClientProvider(S3Resource(), role_arn=role, refresh_before=dt.timedelta(hours=2))
    first, second = provider(), provider()
    assert first is not second and len(sessions) == before + 2
    assert sessions[-1].access_key_id != sessions[-2].access_key_id


def test_text_utf8_cannot_encode_is_written_as_replacement_characters_and_noted(tmp_path: Path) -> None:
    """A lone UTF-16 surrogate never fails a table: it is written as U+FFFD and the manifest says how
    many characters were replaced; every other value, a valid pair included, is kept as given."""
    dest = LocalDestination(tmp_path)
    columns = [Column("objectid", "integer"), Column("name", "string"), Column("props", "json")]
    rows = [
        (1, "lone \ud800 surrogate", {"note": "low \udc00", "\udbff": "key"}),
        (2, "pair \U0001f600 kept", {"quote": 'say "hi"\nnow'}),
        (3, None, None),
    ]
    result = write(dest, rows, columns=columns)
    table = read_table(dest, DAY, "OWNERS")
    assert table.column("NAME").to_pylist() == ["lone \ufffd surrogate", "pair \U0001f600 kept", None]
    assert [None if p is None else json.loads(p) for p in table.column("PROPS").to_pylist()] == [
        {"note": "low \ufffd", "\ufffd": "key"},
        {"quote": 'say "hi"\nnow'},
        None,
    ]
    manifest = read_manifest(dest, DAY, "OWNERS")
    assert manifest is not None and result.rows == 3
    assert manifest["notes"] == [
        "3 characters UTF-8 cannot encode (lone UTF-16 surrogates) were written as U+FFFD"
    ]
    clean = write(dest, rows[1:], columns=columns, run_id=RUN_B)
    assert clean.rows == 2 and read_manifest(dest, DAY, "OWNERS")["notes"] == []  # type: ignore[index]
