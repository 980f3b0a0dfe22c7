"""`read_table`: read a table back by following its manifest (for tests and data checks)."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.csv as pa_csv

from hubspot_pipeline.store.destination import Destination
from hubspot_pipeline.store.errors import ManifestError
from hubspot_pipeline.store.keys import manifest_key
from hubspot_pipeline.store.manifest import read_manifest


def read_table(dest: Destination, day: str, table: str) -> pa.Table:
    """All rows of the table's parts, every column as string; NULL (empty unquoted) is None, `""` is "".

    Checks each part's size, sha256 and row count against the manifest; raises ManifestError on a
    missing manifest or any mismatch.
    """
    manifest = read_manifest(dest, day, table)
    if manifest is None:
        raise ManifestError(
            f"no manifest at {dest.url_for(manifest_key(day, table))}: the table was not written"
        )
    names = [c["name"] for c in manifest["columns"]]
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # so "" stays an empty string
    )
    parse = pa_csv.ParseOptions(newlines_in_values=True)  # quoted values may hold \n and \r\n
    tables = []
    for part in manifest["parts"]:
        data = dest.get_bytes(part["key"])
        if data is None:
            raise ManifestError(f"{dest.url_for(part['key'])} is named by the manifest but missing")
        if len(data) != part["bytes"] or hashlib.sha256(data).hexdigest() != part["sha256"]:
            raise ManifestError(
                f"{dest.url_for(part['key'])} does not match its manifest entry (bytes/sha256)"
            )
        stream = pa.input_stream(pa.py_buffer(data), compression="gzip")
        rows = pa_csv.read_csv(stream, parse_options=parse, convert_options=convert)
        if rows.column_names != names or rows.num_rows != part["rows"]:
            raise ManifestError(
                f"{dest.url_for(part['key'])} has columns {rows.column_names} and {rows.num_rows} rows; "
                f"the manifest says {names} and {part['rows']}"
            )
        tables.append(rows)
    schema = pa.schema([(n, pa.string()) for n in names])
    return pa.concat_tables(tables) if tables else schema.empty_table()
