"""Compaction of the CRM index: every generation merged into one, so an export reads a bounded number
of files per type whatever the age of the index.

Each daily sync adds a `delta` generation; an export reads every generation's segment files, so
without compaction its cost grows with the index's age. `compact_index` rewrites the generations of
the manifest as one generation of kind `compacted` (`index.py`) that gives every day the same tables
as before, INGESTEDAT included:

- records: every version of a record that a merged generation held, with the as-of interval in
  which the reader would have picked it. With W(p) the greatest watermark of the generations up to
  position p, the version read at position p serves the instants in (W(p - 1), W(q - 1)], q the
  position of the record's next version (the reader picks the earliest generation at or past the
  day, falling back to the latest read before it); a record's first version serves every earlier
  instant, its last every later one. Within one generation the archived read wins over the live
  one, as it does for the reader. Each version keeps its generation's INGESTEDAT.
- history: the union, each distinct entry once (the last stored copy, as the reader keeps it),
  sorted by (record, property, time); entries at one millisecond keep their stored order.
- associations: the current rows of every pair (what the reader serves, for any day: HubSpot cannot
  date association changes) with the INGESTEDAT of each row.

Compaction makes no API call and streams: per type it walks id ranges (the reader's batches), each
segment file read once; memory holds one range. It is crash-safe: the new files go to a new
generation folder and the manifest, written last, switches to it. The folders it retires (and any
orphan left by a run that failed before its manifest) stay on the store until the next compaction
deletes them, so a reader that loaded the earlier manifest keeps its files.

`sync_index` runs it after a daily sync once `IncrementalSettings.compact_after` generations have
piled up since the last compaction (default 7: an export reads the compacted base plus at most 7
small deltas; rewriting the index costs about one export of OBJECT_PROPERTIES_HISTORY, once a week).
"""

from __future__ import annotations

import logging
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hubspot_pipeline.store import Destination
from hubspot_pipeline.sync import failed_records
from hubspot_pipeline.sync.index import (
    COMPACT_ASSOCIATION_SCHEMA,
    COMPACT_RECORD_SCHEMA,
    COMPACTED,
    HISTORY_SCHEMA,
    INDEX_PREFIX,
    TIMESTAMP,
    AssociationSegment,
    Generation,
    IndexManifest,
    RecordSegment,
    association_key,
    generation_id,
    generation_prefix,
    load_manifest,
    save_manifest,
    to_ms,
)
from hubspot_pipeline.sync.index_reader import IndexReader, constant_ms, dedupe_history
from hubspot_pipeline.sync.index_writer import SegmentFile, upload_segment

_PLAIN_COLUMNS = ["object_id", "created_at", "updated_at", "archived", "archived_at"]
_LAST_ID = np.iinfo(np.int64).max
# What a merged generation keeps in `covers`: SYNC_HEALTH of its days reads its per-type figures.
_COVER_STATS = ("types", "api_calls", failed_records.STATS_KEY, failed_records.RETRY_DAYS_KEY)


def compact_index(
    destination: Destination,
    run_id: str,
    manifest: IndexManifest | None = None,
    log: logging.Logger | None = None,
) -> IndexManifest:
    """Merge every generation of `manifest` into one and return the new manifest. With no `manifest`
    the store's is compacted, saved, and the folders retired by the previous compaction are deleted;
    with one, the new files are written but only the returned manifest names them."""
    log = log or logging.getLogger(__name__)
    publish = manifest is None
    manifest = manifest if manifest is not None else load_manifest(destination)
    if len(manifest.generations) < 2:
        return manifest
    gen = generation_id(manifest.next_position(), run_id)
    reader = IndexReader(destination, manifest)
    with tempfile.TemporaryDirectory(prefix="hubspot-compact-") as tmp:
        segments = [_compact_type(destination, reader, gen, type_id, tmp) for type_id in manifest.type_ids()]
        associations = _compact_associations(destination, reader, gen, tmp)
    last = manifest.generations[-1]
    compacted = Generation(
        id=gen,
        kind=COMPACTED,
        run_id=run_id,
        watermark=max((g.watermark for g in manifest.generations), key=lambda w: to_ms(w) or 0),
        ingested_at=last.ingested_at,
        segments=segments,
        associations=associations,
        # the next sync reads the last run's figures (search window, properties fetched)
        stats={**last.stats, "compacted_generations": len(manifest.timeline())},
        covers=[_cover(g) for g in manifest.timeline()],
    )
    merged = [generation_prefix(g.id) for g in manifest.generations]
    if not publish:
        return IndexManifest([compacted], merged)
    named = {*merged, generation_prefix(gen)}
    orphans = sorted(_folders(destination) - named - set(manifest.retired))
    # old folders stay listed until they are gone: a crash while deleting leaves them for next time
    save_manifest(destination, IndexManifest([compacted], sorted({*manifest.retired, *merged, *orphans})))
    for prefix in manifest.retired:
        destination.delete(info.key for info in destination.list(prefix))
    result = IndexManifest([compacted], sorted({*merged, *orphans}))
    save_manifest(destination, result)
    log.info(
        "index compacted: %d generations into %s (%d folders retired, %d deleted)",
        len(manifest.generations),
        gen,
        len(result.retired),
        len(manifest.retired),
    )
    return result


def _cover(generation: Generation) -> Generation:
    """A merged generation as `covers` keeps it: no segments, only the figures SYNC_HEALTH reads."""
    stats = {k: v for k, v in generation.stats.items() if k in _COVER_STATS}
    return Generation(
        generation.id,
        generation.kind,
        generation.run_id,
        generation.watermark,
        generation.ingested_at,
        stats=stats,
    )


def _folders(destination: Destination) -> set[str]:
    """Every generation folder on the store, named or not."""
    return {f"{INDEX_PREFIX}/{info.key.split('/')[2]}/" for info in destination.list(f"{INDEX_PREFIX}/g")}


def _effective_watermarks(manifest: IndexManifest) -> list[int]:
    """Per generation position, the greatest watermark (epoch ms) up to it: the reader's "earliest
    generation at or past the day" is the first position whose running maximum reaches the day."""
    return np.maximum.accumulate([to_ms(g.watermark) or 0 for g in manifest.generations]).tolist()


def _compact_type(
    destination: Destination, reader: IndexReader, gen: str, type_id: str, tmp: str
) -> RecordSegment:
    manifest = reader.manifest
    segments = manifest.segments(type_id)
    marks = _effective_watermarks(manifest)
    records = [
        reader.sorted_rows(s.records, COMPACT_RECORD_SCHEMA.names if s.part == COMPACTED else _PLAIN_COLUMNS)
        for _, s in segments
    ]
    history = [reader.sorted_rows(s.history, HISTORY_SCHEMA.names) for _, s in segments]
    with (
        SegmentFile(COMPACT_RECORD_SCHEMA, tmp) as records_out,
        SegmentFile(HISTORY_SCHEMA, tmp) as history_out,
    ):
        for hi in [*(hi for _, hi in reader.id_ranges(type_id)), _LAST_ID]:
            versions = [
                (position, segment, rows.upto(hi))
                for (position, segment), rows in zip(segments, records, strict=True)
            ]
            records_out.append(_versions(manifest, marks, versions))
            rows = pa.concat_tables([h.upto(hi) for h in history])
            history_out.append(dedupe_history(rows))
        return upload_segment(destination, gen, type_id, COMPACTED, records_out, history_out)


def _versions(
    manifest: IndexManifest, marks: list[int], found: list[tuple[int, RecordSegment, pa.Table]]
) -> pa.Table:
    """The record versions of one id range (COMPACT_RECORD_SCHEMA) from each segment's rows."""
    archived: dict[int, list[pa.Array]] = {}  # a full sync writes a part in several chunks
    for position, segment, rows in found:
        if segment.part == "archived":
            archived.setdefault(position, []).append(rows.column("object_id").combine_chunks())
    archived_ids = {p: pa.concat_arrays(ids) for p, ids in archived.items()}
    tables, order = [], []
    for position, segment, rows in found:
        if segment.part != COMPACTED:
            if segment.part != "archived" and position in archived_ids:
                # read archived in the same generation: the reader ranks that row first
                rows = rows.filter(pc.invert(pc.is_in(rows.column("object_id"), archived_ids[position])))
            n = rows.num_rows
            since = marks[position - 1] if position > 0 else None
            rows = (
                rows.append_column(
                    "ingested_at", constant_ms(to_ms(manifest.generations[position].ingested_at), n)
                )
                .append_column("valid_from", constant_ms(since, n))
                .append_column("valid_to", constant_ms(None, n))
            )
        tables.append(rows.select(COMPACT_RECORD_SCHEMA.names).cast(COMPACT_RECORD_SCHEMA))
        order.append(np.full(rows.num_rows, position, np.int64))
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        return table
    # stable: a compacted segment's versions of one record stay in their interval order
    table = table.append_column("_position", pa.array(np.concatenate(order))).sort_by(
        [("object_id", "ascending"), ("_position", "ascending")]
    )
    ids = table.column("object_id").to_numpy()
    first = np.r_[True, ids[1:] != ids[:-1]]
    valid_from = table.column("valid_from").cast(pa.int64()).fill_null(0).to_numpy()
    valid_to = table.column("valid_to").cast(pa.int64()).fill_null(0).to_numpy()
    from_null = table.column("valid_from").is_null().to_numpy(zero_copy_only=False) | first
    to_null = table.column("valid_to").is_null().to_numpy(zero_copy_only=False)
    # a version serves up to the instant its record's next version starts serving after
    has_next = np.r_[~first[1:], False]
    valid_to = np.where(has_next, np.r_[valid_from[1:], 0], valid_to)
    to_null = np.where(has_next, np.r_[from_null[1:], False], to_null)
    # a resync of `all` at position r replaces the type: versions read before it serve up to W(r - 1)
    replacing = np.array(manifest.replacing_positions(found[0][1].type_id), dtype=np.int64)
    if len(replacing):
        positions = table.column("_position").to_numpy()
        at = np.searchsorted(replacing, positions, side="right")
        capped = at < len(replacing)
        cap = np.asarray(marks, dtype=np.int64)[replacing[np.minimum(at, len(replacing) - 1)] - 1]
        valid_to = np.where(capped & (to_null | (valid_to > cap)), cap, valid_to)
        to_null = to_null & ~capped
    return (
        table.drop_columns(["_position", "valid_from", "valid_to"])
        .append_column("valid_from", pa.array(valid_from, pa.int64(), mask=from_null).cast(TIMESTAMP))
        .append_column("valid_to", pa.array(valid_to, pa.int64(), mask=to_null).cast(TIMESTAMP))
    )


def _compact_associations(
    destination: Destination, reader: IndexReader, gen: str, tmp: str
) -> list[AssociationSegment]:
    """Every pair's current rows, pair after pair, in the order the reader serves them."""
    key = association_key(gen)
    segments = []
    with SegmentFile(COMPACT_ASSOCIATION_SCHEMA, tmp) as out:
        for from_type, to_type in reader.manifest.pairs():
            before = out.rows_appended
            for batch in reader.association_batches(from_type, to_type):
                out.append(pa.Table.from_batches([batch]))
            segments.append(AssociationSegment(from_type, to_type, key, out.rows_appended - before))
        out.upload(destination, key)
    return segments
