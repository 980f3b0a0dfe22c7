"""The CRM index: a columnar replica of every CRM record, kept on the store under `_state/index/`.

Every CRM table of the export is a projection of this index as of a day (DESIGN §2), so the API is
read once per record and a past day costs no call. Layout (keys relative to the destination prefix):

    _state/index/manifest.json                                   the index manifest, written last
    _state/index/<gen>/<type_id>/records-<part>.parquet          one row per record
    _state/index/<gen>/<type_id>/history-<part>.parquet          one row per historical property value
    _state/index/<gen>/associations.parquet                      one row per (from type, to type, from id,
                                                                 to id, association type id)

- A *generation* `<gen>` (`g00001-<run8>`) holds the immutable segment files one sync run wrote:
  per object type a `live` part and an `archived` part (tombstones: `archived`, `archived_at`), each
  a records file and a history file sorted by `object_id` (row-group statistics let readers scan a
  range of ids), and one associations file holding every ordered pair of types with association
  definitions, pair after pair (the manifest lists each pair with its row count).
- `manifest.json` lists the generations in order with their segments, the `watermark` (server time
  at which the generation's reads began: every change before it is in the index) and `ingested_at`
  (wall-clock time of the fetch: the tables' INGESTEDAT). It is replaced whole, after every segment
  of a run is uploaded, so a failed run leaves the previous index intact (its orphan files are named
  by no manifest).
- Later generations supersede earlier ones: a record's row comes from one generation (see
  `index_reader`), history rows of all generations are unioned (values fall off HubSpot's capped
  history but never off the index), and an associations segment of scope `full` replaces every
  earlier segment of its pair. An incremental sync adds a generation of kind `delta` with the
  changed records (and `scope: from_ids` association refreshes for the records it names);
  compaction can later merge generations into one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.timestamps import parse_ts

INDEX_PREFIX = "_state/index"
MANIFEST_KEY = f"{INDEX_PREFIX}/manifest.json"
FORMAT_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TIMESTAMP = pa.timestamp("ms", tz="UTC")

RECORD_SCHEMA = pa.schema(
    [
        pa.field("object_id", pa.int64(), nullable=False),
        pa.field("created_at", TIMESTAMP),
        pa.field("updated_at", TIMESTAMP),
        pa.field("archived", pa.bool_(), nullable=False),
        pa.field("archived_at", TIMESTAMP),
        # current values as the API returned them; properties without a value are left out
        pa.field("properties", pa.map_(pa.string(), pa.string())),
    ]
)

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("object_id", pa.int64(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("value", pa.string()),
        pa.field("timestamp", TIMESTAMP, nullable=False),
        pa.field("source_type", pa.string()),
        pa.field("source_id", pa.string()),
        pa.field("source_label", pa.string()),
        pa.field("updated_by_user_id", pa.int64()),
    ]
)

ASSOCIATION_SCHEMA = pa.schema(
    [
        pa.field("from_type", pa.string(), nullable=False),
        pa.field("to_type", pa.string(), nullable=False),
        pa.field("from_id", pa.int64(), nullable=False),
        pa.field("to_id", pa.int64(), nullable=False),
        pa.field("type_id", pa.int64(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("label", pa.string()),
    ]
)


REFRESHED_SCHEMA = pa.schema(
    [
        pa.field("from_type", pa.string(), nullable=False),
        pa.field("to_type", pa.string(), nullable=False),
        pa.field("from_id", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class RecordSegment:
    """One part (`live` or `archived`) of one object type in one generation."""

    type_id: str
    part: str
    records: str  # key of the records file
    history: str  # key of the history file
    record_count: int
    history_rows: int


@dataclass(frozen=True)
class AssociationSegment:
    """One ordered pair's rows in a generation's associations file (`key`, shared by its pairs)."""

    from_type: str
    to_type: str
    key: str
    rows: int
    scope: str = "full"  # "full": replaces every earlier segment of the pair
    # scope "from_ids": the key of the file listing the from-ids refreshed (`REFRESHED_SCHEMA`); their
    # rows in earlier segments are replaced by this segment's, ids with no association left included
    refreshed_key: str = ""


@dataclass(frozen=True)
class Generation:
    id: str
    kind: str  # "full" (every record listed) or, later, "delta"
    run_id: str
    watermark: str  # ISO ms Z, server time
    ingested_at: str  # ISO ms Z, wall clock
    segments: list[RecordSegment] = field(default_factory=list)
    associations: list[AssociationSegment] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)

    @property
    def watermark_at(self) -> datetime:
        return parse_ts(self.watermark)


@dataclass(frozen=True)
class IndexManifest:
    generations: list[Generation] = field(default_factory=list)

    @property
    def watermark(self) -> datetime | None:
        """Every change before this instant is in the index (None: nothing synced yet)."""
        return max((g.watermark_at for g in self.generations), default=None)

    def synced_past(self, as_of: datetime) -> bool:
        mark = self.watermark
        return mark is not None and mark >= as_of

    def type_ids(self) -> list[str]:
        return list(dict.fromkeys(s.type_id for g in self.generations for s in g.segments))

    def segments(self, type_id: str) -> list[tuple[int, RecordSegment]]:
        """(generation position, segment) of a type, oldest first."""
        return [(i, s) for i, g in enumerate(self.generations) for s in g.segments if s.type_id == type_id]

    def pairs(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((a.from_type, a.to_type) for g in self.generations for a in g.associations))

    def association_segments(
        self, from_type: str, to_type: str
    ) -> list[tuple[Generation, AssociationSegment]]:
        """The segments that make up a pair's current associations: the last `full` one and any after it."""
        found = [
            (g, a)
            for g in self.generations
            for a in g.associations
            if (a.from_type, a.to_type) == (from_type, to_type)
        ]
        last_full = max((i for i, (_, a) in enumerate(found) if a.scope == "full"), default=0)
        return found[last_full:]

    def to_json(self) -> bytes:
        doc = {"format": FORMAT_VERSION, "generations": [asdict(g) for g in self.generations]}
        return json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> IndexManifest:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT_VERSION:
            raise ValueError(f"index manifest format {doc.get('format')!r} is not {FORMAT_VERSION}")
        generations = [
            Generation(
                **{
                    **g,
                    "segments": [RecordSegment(**s) for s in g["segments"]],
                    "associations": [AssociationSegment(**a) for a in g["associations"]],
                }
            )
            for g in doc["generations"]
        ]
        return cls(generations)


def load_manifest(destination: Destination) -> IndexManifest:
    """The index manifest on the store; an empty one when nothing was synced yet."""
    raw = destination.get_bytes(MANIFEST_KEY)
    return IndexManifest() if raw is None else IndexManifest.from_json(raw)


def save_manifest(destination: Destination, manifest: IndexManifest) -> None:
    destination.put_bytes(MANIFEST_KEY, manifest.to_json())


def generation_id(position: int, run_id: str) -> str:
    return f"g{position:05d}-{run_id[:8]}"


def segment_key(generation: str, type_id: str, kind: str, part: str) -> str:
    return f"{INDEX_PREFIX}/{generation}/{type_id}/{kind}-{part}.parquet"


def association_key(generation: str) -> str:
    return f"{INDEX_PREFIX}/{generation}/associations.parquet"


def refreshed_ids_key(generation: str) -> str:
    return f"{INDEX_PREFIX}/{generation}/associations-refreshed.parquet"


def to_ms(value: str | datetime | None) -> int | None:
    """An API timestamp (or aware datetime) as epoch milliseconds, the index's unit; None stays None."""
    if value is None or value == "":
        return None
    moment = parse_ts(value) if isinstance(value, str) else value
    return (moment - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding
