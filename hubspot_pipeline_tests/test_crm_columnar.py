"""The columnar pieces of the CRM export: JSON objects built with Arrow string kernels (exactly
`json.dumps`' text), the row hashes the key checks use, and the one stream API over rows and batches.
The tables themselves are compared with the sandbox in `test_crm_tables_e2e.py`."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from hubspot_pipeline.store import Column
from hubspot_pipeline.tables.crm_tables import json_escape, json_objects
from hubspot_pipeline.tables.export import row_hashes
from hubspot_pipeline.tables.spec import TableData

HOSTILE = [
    "plain",
    "",
    'say "hi"',
    "back\\slash \\n not a newline",
    "line\nbreak\r\nand\ttab",
    "".join(chr(c) for c in range(0x20)) + "\x7f",  # every control character, DEL (not escaped)
    "caf\u00e9 \u4e2d\u6587 \U0001f600 \u2028\u2029",  # non-ASCII kept as is, U+2028/9 too
    '\\"',
    "=1+1,;",
]


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("text", HOSTILE)
def test_json_escape_is_json_dumps(text: str) -> None:
    assert json_escape(pa.array([text, "x"])).to_pylist() == [dumps(text)[1:-1], "x"]


def test_json_objects_are_json_dumps_of_the_pairs_in_order() -> None:
    # rows 0 and 3 have no values; keys hostile too; pairs in the order given (the index's name order)
    objects = [
        {},
        {"a": HOSTILE[2], 'k"ey': HOSTILE[3], "z\n": HOSTILE[4]},
        {name: value for name, value in zip("bcdefg", HOSTILE[4:], strict=False)},
        {},
        {"\u00e9": ""},
    ]
    rows = np.array([i for i, obj in enumerate(objects) for _ in obj], dtype=np.int64)
    keys = pa.array([k for obj in objects for k in obj], pa.string())
    values = pa.array([v for obj in objects for v in obj.values()], pa.string())
    got = json_objects(len(objects), rows, keys, values).to_pylist()
    assert got == [dumps(obj) for obj in objects]
    assert [json.loads(g) for g in got] == objects


def test_json_objects_of_a_batch_without_values() -> None:
    empty = pa.array([], pa.string())
    assert json_objects(3, np.array([], dtype=np.int64), empty, empty).to_pylist() == ["{}"] * 3


def test_row_hashes_tell_null_from_every_value_and_columns_apart() -> None:
    table = pa.table(
        {
            "id": pa.array([1, 1, None, 0, 1], pa.int64()),
            "name": pa.array(["a", "a", "a", "a", None], pa.string()),
        }
    )
    hashes = row_hashes(table).tolist()
    assert hashes[0] == hashes[1]
    assert len(set(hashes[1:])) == 4  # NULL id != 0, NULL name != "a"
    swapped = pa.table({"name": table.column("name"), "id": table.column("id")})
    assert row_hashes(swapped).tolist() != hashes


def test_chunks_pass_batches_through_and_group_rows() -> None:
    columns = [Column("A", "integer")]
    batches = [pa.record_batch({"A": [1, 2]}), pa.record_batch({"A": [3]})]
    assert list(TableData("T", columns, iter(batches), ("A",)).chunks()) == batches
    rows = [(i,) for i in range(5)]
    assert list(TableData("T", columns, iter(rows), ("A",)).chunks(rows_per_chunk=2)) == [
        rows[0:2],
        rows[2:4],
        rows[4:],
    ]
    assert list(TableData("T", columns, [], ("A",)).chunks()) == []
