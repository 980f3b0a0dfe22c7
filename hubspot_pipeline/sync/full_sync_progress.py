"""Checkpoints of a first full sync, so a run killed midway is resumed instead of started over.

HubSpot's own first sync of a large account takes hours; a crash near its end must not cost all of
it. The full sync uploads its records in chunks of `CHECKPOINT_RECORDS` per type and part (each
chunk a segment of the generation being built) and its associations in files of whole pairs, and
after each upload replaces `_state/index/full-sync-progress.json`:

- the generation's id and INGESTEDAT (the resumed run keeps them: its files go to the same folder),
- a fingerprint of the sync plan (types, properties, pairs): a run with another plan starts over,
- the watermark so far (the earliest server time any of its reads began) and the calls spent,
- per type and part: the chunks uploaded, the listing cursor after the last one, whether it is done,
- per pair: its association segment and the inputs it took.

A resumed run re-reads at most the chunk of each part that was in progress (up to
`CHECKPOINT_RECORDS` records: about 2 x CHECKPOINT_RECORDS / 100 calls) and the pairs of the
association file in progress. The progress file goes away once the index manifest names the
generation; until then nothing of it is visible to a reader.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync.index import INDEX_PREFIX, AssociationSegment, RecordSegment

PROGRESS_KEY = f"{INDEX_PREFIX}/full-sync-progress.json"
CHECKPOINT_RECORDS = 10_000  # records per chunk: 100 list pages and 100 batch reads
ASSOCIATION_FILE_ROWS = 500_000  # an association file is uploaded once it holds this many rows


@dataclass
class PartProgress:
    chunks: list[RecordSegment] = field(default_factory=list)
    after: str | None = None  # the listing cursor of the first page not yet in a chunk
    done: bool = False
    missing: int = 0  # listed, then gone by the batch read, in the chunks uploaded


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

    def save(self, destination: Destination) -> None:
        destination.put_bytes(PROGRESS_KEY, json.dumps(asdict(self), separators=(",", ":")).encode())

    @classmethod
    def load(cls, destination: Destination) -> FullSyncProgress | None:
        raw = destination.get_bytes(PROGRESS_KEY)
        if raw is None:
            return None
        doc = json.loads(raw)
        return cls(
            gen=doc["gen"],
            ingested_at=doc["ingested_at"],
            plan=doc["plan"],
            watermark=doc["watermark"],
            api_calls=doc["api_calls"],
            parts={
                k: PartProgress(
                    [RecordSegment(**c) for c in v["chunks"]], v["after"], v["done"], v["missing"]
                )
                for k, v in doc["parts"].items()
            },
            pairs={
                k: PairProgress(AssociationSegment(**v["segment"]), (v["inputs"][0], v["inputs"][1]))
                for k, v in doc["pairs"].items()
            },
        )

    @staticmethod
    def clear(destination: Destination) -> None:
        destination.delete([PROGRESS_KEY])


def plan_fingerprint(types: list[str], properties: dict[str, list[str]], pairs: list[tuple[str, str]]) -> str:
    text = json.dumps({"types": types, "properties": properties, "pairs": pairs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
