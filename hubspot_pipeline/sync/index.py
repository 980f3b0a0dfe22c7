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
  a records file and a history file sorted by `object_id` (a full sync writes each part in chunks,
  one segment per chunk, with disjoint ids), and associations files holding the ordered pairs of
  types with association definitions, pair after pair (the manifest lists each pair with its file
  and row count).
- `manifest.json` lists the generations in order with their segments, the `watermark` (server time
  at which the generation's reads began: every change before it is in the index) and `ingested_at`
  (wall-clock time of the fetch: the tables' INGESTEDAT). It is replaced whole, after every segment
  of a run is uploaded, so a failed run leaves the previous index intact (its orphan files are named
  by no manifest).
- Later generations supersede earlier ones: a record's row comes from one generation (see
  `index_reader`), history rows of all generations are unioned (values fall off HubSpot's capped
  history but never off the index), and an associations segment of scope `full` replaces every
  earlier segment of its pair. An incremental sync adds a generation of kind `delta` with the
  changed records (and `scope: from_ids` association refreshes for the records it names).
- Compaction (`compaction.py`) merges every generation into one of kind `compacted`, whose files
  keep what each merged generation could contribute to any day: every version of a record with the
  interval of as-of instants it serves (`valid_from` exclusive, `valid_to` inclusive, null meaning
  unbounded) and its own INGESTEDAT, the union of the history, and the current associations with
  the INGESTEDAT of each row. `covers` keeps each merged generation's id, watermark, ingested_at and
  health figures (SYNC_HEALTH of a past day reads them); `retired` lists the folders of generations
  merged by the last compaction, deleted by the next one (a reader still holding an older manifest
  keeps its files until then).
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
FORMAT_VERSION = 2  # 2: compacted generations (`covers`, `retired`); format 1 reads as before
_READABLE_FORMATS = (1, 2)
COMPACTED = "compacted"  # the kind of a compacted generation and the part of its record segments
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


# A compacted generation's records: every version a merged generation held (the live row of a record
# that the same generation also read archived is dropped: the archived one wins there), each with
# the as-of interval in which the reader picks it and when it was fetched. Current values are not
# kept: the export takes every value from the history.
COMPACT_RECORD_SCHEMA = pa.schema(
    [
        pa.field("object_id", pa.int64(), nullable=False),
        pa.field("created_at", TIMESTAMP),
        pa.field("updated_at", TIMESTAMP),
        pa.field("archived", pa.bool_(), nullable=False),
        pa.field("archived_at", TIMESTAMP),
        pa.field("ingested_at", TIMESTAMP),
        pa.field("valid_from", TIMESTAMP),  # picked for as-of instants after it (null: any)
        pa.field("valid_to", TIMESTAMP),  # ... up to and including it (null: any later)
    ]
)

COMPACT_ASSOCIATION_SCHEMA = ASSOCIATION_SCHEMA.append(pa.field("ingested_at", TIMESTAMP))


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
    kind: str  # "full" (every record listed), "delta" (what changed) or "compacted"
    run_id: str
    watermark: str  # ISO ms Z, server time (compacted: the greatest of the merged ones)
    ingested_at: str  # ISO ms Z, wall clock (compacted: the last merged one's)
    segments: list[RecordSegment] = field(default_factory=list)
    associations: list[AssociationSegment] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)
    # compacted: the generations merged into it, oldest first, without segments
    covers: list[Generation] = field(default_factory=list)
    # a `resync` of `all`: the types it read whole; for the days synced after it, their records come
    # from it and later generations only (what earlier ones held and HubSpot no longer has is gone)
    replaces: list[str] = field(default_factory=list)

    @property
    def watermark_at(self) -> datetime:
        return parse_ts(self.watermark)

    @classmethod
    def from_dict(cls, doc: dict) -> Generation:
        return cls(
            **{
                **doc,
                "segments": [RecordSegment(**s) for s in doc.get("segments", [])],
                "associations": [AssociationSegment(**a) for a in doc.get("associations", [])],
                "covers": [cls.from_dict(c) for c in doc.get("covers", [])],
            }
        )


@dataclass(frozen=True)
class IndexManifest:
    generations: list[Generation] = field(default_factory=list)
    # generation folders (`_state/index/<gen>/`) no manifest names any more, deleted by the next compaction
    retired: list[str] = field(default_factory=list)

    @property
    def watermark(self) -> datetime | None:
        """Every change before this instant is in the index (None: nothing synced yet)."""
        return max((g.watermark_at for g in self.generations), default=None)

    def timeline(self) -> list[Generation]:
        """Every sync run the index holds, oldest first: compacted generations by what they merged."""
        return [c for g in self.generations for c in (g.covers if g.kind == COMPACTED else [g])]

    def syncing(self, as_of: datetime) -> Generation:
        """The sync run whose reads cover `as_of`: the earliest one at or past it, else the last."""
        runs = self.timeline()
        return next((g for g in runs if g.watermark_at >= as_of), runs[-1])

    def first_at_or_past(self, as_of: datetime) -> int:
        """The position of the earliest generation whose watermark is at or past `as_of` (else the
        last): the one whose reads cover the day (`index_reader`)."""
        return next(
            (i for i, g in enumerate(self.generations) if g.watermark_at >= as_of), len(self.generations) - 1
        )

    def replaced_at(self, type_id: str, position: int) -> int:
        """The position of the last generation up to `position` that replaces the type's state (a
        resync of `all`), else 0: the generations before it no longer serve the type's records."""
        return max(
            (i for i, g in enumerate(self.generations[: position + 1]) if type_id in g.replaces), default=0
        )

    def replacing_positions(self, type_id: str) -> list[int]:
        return [i for i, g in enumerate(self.generations) if type_id in g.replaces]

    def next_position(self) -> int:
        """The position of the next generation in the timeline (1 for the first): names stay unique."""
        return len(self.timeline()) + 1

    def since_compaction(self) -> int:
        """Generations after the last compaction (or after the first full sync, if none yet)."""
        return max(0, len(self.generations) - 1)

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

    def with_generation(self, generation: Generation) -> IndexManifest:
        """This manifest with `generation` listed last (what it retired stays listed)."""
        return IndexManifest([*self.generations, generation], self.retired)

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT_VERSION,
            "generations": [asdict(g) for g in self.generations],
            "retired": self.retired,
        }
        return json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> IndexManifest:
        doc = json.loads(raw)
        if doc.get("format") not in _READABLE_FORMATS:
            raise ValueError(
                f"index manifest format {doc.get('format')!r} is not one of {list(_READABLE_FORMATS)}: "
                "it was written by another version of hubspot_pipeline"
            )
        return cls([Generation.from_dict(g) for g in doc["generations"]], list(doc.get("retired", [])))


def load_manifest(destination: Destination) -> IndexManifest:
    """The index manifest on the store; an empty one when nothing was synced yet."""
    raw = destination.get_bytes(MANIFEST_KEY)
    return IndexManifest() if raw is None else IndexManifest.from_json(raw)


def save_manifest(destination: Destination, manifest: IndexManifest) -> None:
    destination.put_bytes(MANIFEST_KEY, manifest.to_json())


def generation_id(position: int, run_id: str) -> str:
    return f"g{position:05d}-{run_id[:8]}"


def generation_prefix(generation: str) -> str:
    """The folder of a generation's files (every segment key of it starts with this)."""
    return f"{INDEX_PREFIX}/{generation}/"


def segment_key(generation: str, type_id: str, kind: str, part: str) -> str:
    return f"{INDEX_PREFIX}/{generation}/{type_id}/{kind}-{part}.parquet"


def association_key(generation: str, part: int | None = None) -> str:
    """A generation's associations file; a full sync writes several (`part` 0, 1, ...)."""
    suffix = "" if part is None else f"-{part:05d}"
    return f"{INDEX_PREFIX}/{generation}/associations{suffix}.parquet"


def refreshed_ids_key(generation: str) -> str:
    return f"{INDEX_PREFIX}/{generation}/associations-refreshed.parquet"


def to_ms(value: str | datetime | None) -> int | None:
    """An API timestamp (or aware datetime) as epoch milliseconds, the index's unit; None stays None."""
    if value is None or value == "":
        return None
    moment = parse_ts(value) if isinstance(value, str) else value
    return (moment - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding
