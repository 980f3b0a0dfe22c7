"""Checkpoints of a first full sync, so a run killed midway is resumed instead of started over.

HubSpot's own first sync of a large account takes hours; a crash near its end must not cost all of
it. The full sync uploads its records in chunks of `CHECKPOINT_RECORDS` per type and part (each
chunk a segment of the generation being built). Between chunks, each batch read is saved as a small
pending piece (its records and history files), which the next chunk replaces. The associations go
in files of whole pairs. After each upload it replaces `_state/index/full-sync-progress.json`:

- the generation's id and INGESTEDAT (the resumed run keeps them: its files go to the same folder),
- a fingerprint of the sync plan (types, properties, pairs): a run with another plan starts over,
- the watermark so far (the earliest server time any of its reads began) and the calls spent,
- per type and part: the row counts of the chunks uploaded (their keys follow from their number),
  the listing cursor after the last one, whether it is done, and the pending pieces of the chunk in
  progress with the cursor after them,
- per pair: its association segment and the inputs it took.

A resumed run re-reads at most the batch of each part that was in progress (a list page and a batch
read) and the pairs of the association file in progress. The file grows by a few bytes a chunk, not
a record. It goes away once the index manifest names the generation; until then nothing of it is
visible to a reader.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import INDEX_PREFIX, AssociationSegment, RecordSegment, segment_key

PROGRESS_KEY = f"{INDEX_PREFIX}/full-sync-progress.json"
RESYNC_PROGRESS_KEY = f"{INDEX_PREFIX}/resync-progress.json"  # a `resync` of `all`: the same, apart
CHECKPOINT_RECORDS = 10_000  # records per chunk: 100 list pages and 100 batch reads
ASSOCIATION_FILE_ROWS = 500_000  # an association file is uploaded once it holds this many rows


@dataclass
class PartProgress:
    chunks: list[RecordSegment] = field(default_factory=list)
    after: str | None = None  # the listing cursor of the first page not yet in a chunk
    done: bool = False
    missing: int = 0  # listed, then gone by the batch read, in the chunks uploaded
    # the chunk in progress: its batches saved so far, the cursor after them, their missing records
    pending: list[RecordSegment] = field(default_factory=list)
    pending_after: str | None = None
    pending_missing: int = 0
    # keys of the files of records whose batch read failed (one per chunk or piece that had any)
    failed: list[str] = field(default_factory=list)

    def chunk_name(self, part: str) -> str:
        return f"{part}-{len(self.chunks):05d}"

    def pending_name(self, part: str) -> str:
        return f"{self.chunk_name(part)}-pending-{len(self.pending):05d}"


@dataclass
class PairProgress:
    segment: AssociationSegment
    inputs: tuple[int, int]  # (from-ids, continuation inputs)


@dataclass
class FullSyncProgress:
    gen: str
    ingested_at: str
    plan: str  # `plan_fingerprint` of the plan being synced
    watermark: str | None = None
    api_calls: int = 0  # spent on what is checkpointed, by every run so far
    parts: dict[str, PartProgress] = field(default_factory=dict)
    pairs: dict[str, PairProgress] = field(default_factory=dict)

    def part(self, type_id: str, part: str) -> PartProgress:
        return self.parts.setdefault(f"{type_id}/{part}", PartProgress())

    def save(self, destination: Destination, key: str = PROGRESS_KEY) -> None:
        doc = asdict(self)
        for state in doc["parts"].values():
            # a chunk's keys follow from its number: kept as its two row counts
            state["chunks"] = [[c["record_count"], c["history_rows"]] for c in state["chunks"]]
        destination.put_bytes(key, json.dumps(doc, separators=(",", ":")).encode())

    @classmethod
    def load(cls, destination: Destination, key: str = PROGRESS_KEY) -> FullSyncProgress | None:
        raw = destination.get_bytes(key)
        if raw is None:
            return None
        doc = json.loads(raw)
        return cls(
            gen=doc["gen"],
            ingested_at=doc["ingested_at"],
            plan=doc["plan"],
            watermark=doc["watermark"],
            api_calls=doc["api_calls"],
            parts={k: _part(doc["gen"], k, v) for k, v in doc["parts"].items()},
            pairs={
                k: PairProgress(AssociationSegment(**v["segment"]), (v["inputs"][0], v["inputs"][1]))
                for k, v in doc["pairs"].items()
            },
        )

    @staticmethod
    def clear(destination: Destination, key: str = PROGRESS_KEY) -> None:
        destination.delete([key])


def _part(gen: str, key: str, doc: dict) -> PartProgress:
    type_id, part = key.rsplit("/", 1)
    chunks = []
    for index, chunk in enumerate(doc["chunks"]):
        if isinstance(chunk, dict):  # written before chunks were kept as their counts
            chunks.append(RecordSegment(**chunk))
            continue
        records, history = chunk
        name = f"{part}-{index:05d}"
        chunks.append(
            RecordSegment(
                type_id,
                part,
                segment_key(gen, type_id, "records", name),
                segment_key(gen, type_id, "history", name),
                records,
                history,
            )
        )
    return PartProgress(
        chunks,
        doc["after"],
        doc["done"],
        doc["missing"],
        [RecordSegment(**p) for p in doc.get("pending", [])],
        doc.get("pending_after"),
        doc.get("pending_missing", 0),
        list(doc.get("failed", [])),
    )


def plan_fingerprint(
    types: list[str], properties: dict[str, list[str]], pairs: list[tuple[str, str]], purpose: str = ""
) -> str:
    """What a run syncs; `purpose` tells a resync's progress from a first sync's."""
    doc = {
        "types": types,
        "properties": properties,
        "pairs": pairs,
        **({"purpose": purpose} if purpose else {}),
    }
    text = json.dumps(doc, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
