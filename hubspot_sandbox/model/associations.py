"""Associations: per type pair, one symmetric edge table and the association types of each direction.

An edge joins record positions (a_idx of type A, b_idx of type B) and carries a bit set of
association types: bit 0 the unlabeled default (always set), bit 1 the HubSpot-defined
primary/parent kind when the pair has one, bits 2.. the USER_DEFINED labels. Each bit maps to
a `{category, typeId, label}` per direction, so A->B and B->A are always symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNLABELED = 1
PRIMARY = 2


@dataclass(frozen=True)
class AssocType:
    """One association type of one direction."""

    category: str
    type_id: int
    label: str | None

    def as_dict(self) -> dict:
        """API `{category, typeId, label}`."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


@dataclass(frozen=True)
class PairDef:
    """Association types between two object types, by bit, in both directions."""

    a: str
    b: str
    forward: tuple[AssocType | None, ...]  # a -> b, indexed by bit position
    inverse: tuple[AssocType | None, ...]  # b -> a

    @property
    def same_type(self) -> bool:
        """Whether both ends have the same object type (contact <-> contact)."""
        return self.a == self.b

    def types_for(self, bits: int, reverse: bool) -> list[dict]:
        """API association types of an edge's bit set, seen from a (reverse=False) or b."""
        table = self.inverse if reverse else self.forward
        return [t.as_dict() for pos, t in enumerate(table) if t is not None and bits >> pos & 1]

    def labels(self, reverse: bool) -> list[dict]:
        """Every association type of one direction (the labels endpoint)."""
        table = self.inverse if reverse else self.forward
        return [t.as_dict() for t in table if t is not None]

    def label_bits(self) -> list[int]:
        """Bit values of the USER_DEFINED labels."""
        return [1 << pos for pos, t in enumerate(self.forward) if t is not None and pos >= 2]


# Standard pairs: (a, b, unlabeled a->b, unlabeled b->a, primary (fwd, inv, fwd label, inv label) or None)
STANDARD_PAIRS: tuple[tuple[str, str, int, int, tuple[int, int, str, str] | None], ...] = (
    ("0-1", "0-2", 279, 280, (1, 2, "Primary", "Primary")),
    ("0-1", "0-3", 4, 3, None),
    ("0-1", "0-5", 15, 16, None),
    ("0-2", "0-3", 342, 341, (6, 5, "Primary", "Primary")),
    ("0-2", "0-5", 340, 339, (25, 26, "Primary", "Primary")),
    ("0-3", "0-5", 27, 28, None),
    ("0-3", "0-8", 19, 20, None),
    ("0-1", "0-1", 449, 449, None),
    ("0-2", "0-2", 450, 450, (13, 14, "Child Company", "Parent Company")),
    ("0-3", "0-3", 451, 451, None),
    ("0-5", "0-5", 452, 452, None),
    # engagements: contact/company/deal/ticket -> task, note, meeting, call, email
    ("0-1", "0-27", 203, 204, None), ("0-1", "0-46", 201, 202, None), ("0-1", "0-47", 199, 200, None),
    ("0-1", "0-48", 193, 194, None), ("0-1", "0-49", 197, 198, None),
    ("0-2", "0-27", 191, 192, None), ("0-2", "0-46", 189, 190, None), ("0-2", "0-47", 187, 188, None),
    ("0-2", "0-48", 181, 182, None), ("0-2", "0-49", 185, 186, None),
    ("0-3", "0-27", 215, 216, None), ("0-3", "0-46", 213, 214, None), ("0-3", "0-47", 211, 212, None),
    ("0-3", "0-48", 205, 206, None), ("0-3", "0-49", 209, 210, None),
    ("0-5", "0-27", 229, 230, None), ("0-5", "0-46", 227, 228, None), ("0-5", "0-47", 225, 226, None),
    ("0-5", "0-48", 219, 220, None), ("0-5", "0-49", 223, 224, None),
)  # fmt: skip

# USER_DEFINED labels per standard pair: (label a->b, label b->a); same text = one shared type id
# on same-type pairs.
STANDARD_LABELS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("0-1", "0-2"): (("Decision maker", "Decision maker"), ("Former employee", "Former employer")),
    ("0-1", "0-3"): (("Champion", "Champion"), ("Economic buyer", "Economic buyer")),
    ("0-1", "0-5"): (("Reporter", "Reported by"),),
    ("0-2", "0-3"): (("Reseller", "Resold deal"),),
    ("0-1", "0-1"): (("Manager", "Direct report"), ("Spouse", "Spouse")),
    ("0-2", "0-2"): (("Partner", "Partner"),),
}


class LabelAllocator:
    """Hands out USER_DEFINED association type ids, unique across the account."""

    def __init__(self, start: int) -> None:
        self.next_id = start

    def take(self) -> int:
        """Next free type id."""
        self.next_id += 1
        return self.next_id - 1


def build_pair(
    a: str,
    b: str,
    unlabeled: tuple[int, int],
    primary: tuple[int, int, str, str] | None,
    labels: tuple[tuple[str, str], ...],
    alloc: LabelAllocator,
    unlabeled_category: str = "HUBSPOT_DEFINED",
) -> PairDef:
    """A `PairDef` with its bits; USER_DEFINED label ids come from `alloc`."""
    fwd: list[AssocType | None] = [AssocType(unlabeled_category, unlabeled[0], None)]
    inv: list[AssocType | None] = [AssocType(unlabeled_category, unlabeled[1], None)]
    if primary is None:
        fwd.append(None)
        inv.append(None)
    else:
        fwd.append(AssocType("HUBSPOT_DEFINED", primary[0], primary[2]))
        inv.append(AssocType("HUBSPOT_DEFINED", primary[1], primary[3]))
    for fwd_label, inv_label in labels:
        fwd_id = alloc.take()
        inv_id = fwd_id if (a == b and fwd_label == inv_label) else alloc.take()
        fwd.append(AssocType("USER_DEFINED", fwd_id, fwd_label))
        inv.append(AssocType("USER_DEFINED", inv_id, inv_label))
    return PairDef(a, b, tuple(fwd), tuple(inv))


def _rows_between(sorted_idx: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `sorted_idx` equal to each query, concatenated, and the query each belongs to."""
    lo = np.searchsorted(sorted_idx, queries)
    counts = np.searchsorted(sorted_idx, queries + 1) - lo
    owner = np.repeat(np.arange(len(queries)), counts)
    # position j of query i's run is lo[i] + j: shift a running count back to each run's start
    rows = np.arange(len(owner)) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return rows, owner


def _keys(a_idx: np.ndarray, b_idx: np.ndarray) -> np.ndarray:
    return (a_idx.astype(np.int64) << 32) | b_idx.astype(np.int64)


class EdgeTable:
    """Edges of one pair, sorted by (a, b); a second permutation serves lookups from b."""

    def __init__(self, pair: PairDef, a_idx: np.ndarray, b_idx: np.ndarray, bits: np.ndarray) -> None:
        self.pair = pair
        self._set(_keys(a_idx, b_idx), bits.astype(np.uint8))

    def _set(self, keys: np.ndarray, bits: np.ndarray) -> None:
        """Normalise: sort by key, merge duplicate edges by OR-ing their bits."""
        if self.pair.same_type:  # store each unordered pair once, as (min, max)
            a, b = keys >> 32, keys & 0xFFFFFFFF
            keys = (np.minimum(a, b) << 32) | np.maximum(a, b)
        order = np.argsort(keys, kind="stable")
        keys, bits = keys[order], bits[order]
        if len(keys):
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            bits = np.bitwise_or.reduceat(bits, starts).astype(np.uint8)
            keys = keys[starts]
        self.bits = bits
        self.a = (keys >> 32).astype(np.int32)
        self.b = (keys & 0xFFFFFFFF).astype(np.int32)
        self.by_b = np.argsort(self.b, kind="stable").astype(np.int32)
        self.b_sorted = self.b[self.by_b]

    def __len__(self) -> int:
        return len(self.a)

    def neighbors(self, idx: int, from_b: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(other idx, bits, seen-from-b flag) of a record's edges, sorted by other idx."""
        _, other, bits, rev = self.neighbors_of(np.array([idx]), from_b)
        return other, bits, rev

    def neighbors_of(
        self, idxs: np.ndarray, from_b: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`neighbors` of many records at once: (edge count per record, then other idx, bits and
        seen-from-b flag of every edge, grouped by record in `idxs` order, each group by other idx)."""
        queries = idxs.astype(np.int32)  # the haystacks' dtype: searching them copies nothing
        found = []
        if not from_b or self.pair.same_type:
            rows, owner = _rows_between(self.a, queries)
            found.append((owner, self.b[rows], self.bits[rows], np.zeros(len(rows), dtype=bool)))
        if from_b or self.pair.same_type:
            rows, owner = _rows_between(self.b_sorted, queries)
            rows = self.by_b[rows]
            found.append((owner, self.a[rows], self.bits[rows], np.ones(len(rows), dtype=bool)))
        owner, other, bits, rev = (np.concatenate(column) for column in zip(*found, strict=True))
        order = np.lexsort((other, owner))  # stable: by record, then other idx
        return np.bincount(owner, minlength=len(queries)), other[order], bits[order], rev[order]

    def apply(self, log: list[tuple[int, int, int | None]], dead_a: np.ndarray, dead_b: np.ndarray) -> None:
        """Commit a day's edge changes, then drop every edge touching an archived record.

        `log` holds (a_idx, b_idx, bits) adds and (a_idx, b_idx, None) removals in time order;
        an add ORs labels into the edge, a removal deletes it with all its labels.
        `dead_a`/`dead_b` are boolean masks (by idx) of archived records of each side.
        """
        final: dict[int, tuple[bool, int]] = {}  # key -> (removed first?, bits added since)
        for a, b, bit in log:
            k = (min(a, b) << 32 | max(a, b)) if self.pair.same_type else (a << 32 | b)
            reset, acc = final.get(k, (False, 0))
            final[k] = (True, 0) if bit is None else (reset, acc | bit)
        keys, bits = _keys(self.a, self.b), self.bits
        if final:
            dropped = [k for k, (reset, _) in final.items() if reset]
            if dropped:
                keep = ~np.isin(keys, np.array(dropped, dtype=np.int64))
                keys, bits = keys[keep], bits[keep]
            added = [(k, acc) for k, (_, acc) in final.items() if acc]
            if added:
                keys = np.concatenate([keys, np.array([k for k, _ in added], dtype=np.int64)])
                bits = np.concatenate([bits, np.array([v for _, v in added], dtype=np.uint8)])
        a, b = keys >> 32, keys & 0xFFFFFFFF
        alive = ~(dead_a[a] | dead_b[b])
        self._set(keys[alive], bits[alive])
