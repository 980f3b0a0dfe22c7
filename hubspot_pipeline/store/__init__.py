"""The export store: destinations (S3 or a local folder), the gzip-CSV table writer, manifests.

Layout and format: DESIGN.md §3. This package imports nothing else of the project.
"""

from hubspot_pipeline.store.csv_format import COLUMN_TYPES, CSV_FORMAT, Column, ColumnType, format_timestamp
from hubspot_pipeline.store.destination import Destination, ObjectInfo
from hubspot_pipeline.store.errors import DestinationError, ManifestError, StoreError
from hubspot_pipeline.store.keys import manifest_key, part_key, table_prefix
from hubspot_pipeline.store.local import LocalDestination
from hubspot_pipeline.store.manifest import list_tables, read_manifest
from hubspot_pipeline.store.reader import read_table
from hubspot_pipeline.store.s3 import S3ClientProvider, S3Destination
from hubspot_pipeline.store.table_writer import DEFAULT_MAX_PART_BYTES, PartInfo, TableResult, TableWriter
from hubspot_pipeline.store.url import open_destination

__all__ = [
    "COLUMN_TYPES",
    "CSV_FORMAT",
    "DEFAULT_MAX_PART_BYTES",
    "Column",
    "ColumnType",
    "Destination",
    "DestinationError",
    "LocalDestination",
    "ManifestError",
    "ObjectInfo",
    "PartInfo",
    "S3ClientProvider",
    "S3Destination",
    "StoreError",
    "TableResult",
    "TableWriter",
    "format_timestamp",
    "list_tables",
    "manifest_key",
    "open_destination",
    "part_key",
    "read_manifest",
    "read_table",
    "table_prefix",
]
