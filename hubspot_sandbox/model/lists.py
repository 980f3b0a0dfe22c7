"""Lists (segments): definitions and memberships, held as sorted numpy arrays per list."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rng import np_rng
from .timefmt import iso_ms

LIST_COUNTS = {"tiny": 6, "small": 12, "medium": 20, "large": 30}
PROCESSING_TYPES = ("MANUAL", "DYNAMIC", "SNAPSHOT")
LIST_NAMES = ("Newsletter subscribers", "MQLs, last 90 days", "Webinar: \"Q3 launch\" attendees", "Customers",
              "Churn risk", "Trade show leads", "Do not contact", "EMEA prospects", "Renewals due",
              "Beta testers 🚀", "Partners", "Re-engagement")  # fmt: skip
FOLDERS = ("Marketing", "Sales", "", "Ops")


@dataclass
class ListState:
    """One list and its members (record positions and when each was added)."""

    list_id: int
    name: str
    object_type_id: str
    processing_type: str
    created_ms: int
    updated_ms: int
    filters_updated_ms: int
    folder: str
    members: np.ndarray  # int64 record positions, ascending
    added_ms: np.ndarray  # int64, aligned with members
    list_version: int = 1
    last_added_ms: int = 0
    last_removed_ms: int = 0
    pending: list[tuple[int, int, bool]] = field(default_factory=list)  # (idx, ms, added: else removed)
    _joined: np.ndarray | None = field(default=None, repr=False)  # join order, built on demand

    def join_order(self) -> np.ndarray:
        """Indices into `members` in the order they joined (ties by record id)."""
        if self._joined is None:
            self._joined = np.lexsort((self.members, self.added_ms))
        return self._joined

    def commit(self, dead: np.ndarray, removed_at: int) -> list[tuple[int, int, bool]]:
        """Apply pending adds/removals in order, then drop archived records (HubSpot does so); the
        adds and removals that changed the list, as (idx, ms, added), in order (the drops are not)."""
        if not self.pending and not dead[self.members].any():
            return []
        current = dict(zip(self.members.tolist(), self.added_ms.tolist(), strict=True))
        done: list[tuple[int, int, bool]] = []
        for idx, ts, added in self.pending:
            if not added:
                if current.pop(idx, None) is not None:
                    self.last_removed_ms = max(self.last_removed_ms, removed_at)
                    done.append((idx, ts, False))
            elif idx not in current:
                current[idx] = ts
                self.last_added_ms = max(self.last_added_ms, ts)
                done.append((idx, ts, True))
        for idx in [i for i in current if dead[i]]:
            del current[idx]
            self.last_removed_ms = max(self.last_removed_ms, removed_at)
        self.pending.clear()
        self._joined = None
        order = sorted(current)
        self.members = np.array(order, dtype=np.int64)
        self.added_ms = np.array([current[i] for i in order], dtype=np.int64)
        return done

    def as_dict(self) -> dict:
        """API list dict (the `/crm/v3/lists/search` shape)."""
        return {
            "listId": str(self.list_id),
            "listVersion": self.list_version,
            "name": self.name,
            "objectTypeId": self.object_type_id,
            "processingType": self.processing_type,
            "processingStatus": "COMPLETE",
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "filtersUpdatedAt": iso_ms(self.filters_updated_ms),
            "createdById": "9100000",
            "updatedById": "9100000",
            "size": len(self.members),
            "additionalProperties": {
                "hs_list_size": str(len(self.members)),
                "hs_last_record_added_at": str(self.last_added_ms) if self.last_added_ms else None,
                "hs_last_record_removed_at": str(self.last_removed_ms) if self.last_removed_ms else None,
                "hs_folder_name": self.folder or None,
                "hs_list_reference_count": str(self.list_id % 3),
            },
        }


def build_lists(
    seed: int,
    scale: str,
    sizes: dict[str, int],
    created: dict[str, np.ndarray],
    live: dict[str, np.ndarray],
    first_ms: int,
    start_ms: int,
) -> list[ListState]:
    """Lists of each processing type; list 0 holds 15% of contacts (over 250 members at `small`).

    `created[type]` gives record creation times by idx, `live[type]` live flags by idx.
    """
    rng = np_rng("lists", seed)
    out = []
    for i in range(LIST_COUNTS[scale]):
        type_id = "0-1" if i % 4 != 3 else ("0-2" if i % 8 == 3 else "0-3")
        n = sizes[type_id]
        share = 0.15 if i == 0 else float(rng.choice([0.005, 0.02, 0.05, 0.1]))
        k = max(1, min(n, int(n * share)))
        idx = np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
        idx = idx[live[type_id][idx]]
        list_created = int(first_ms + rng.integers(0, (start_ms - first_ms) // 2))
        # a member joins when both it and the list exist
        joined = np.maximum(created[type_id][idx], list_created)
        added = joined + (rng.random(len(idx)) * (start_ms - joined)).astype(np.int64)
        ptype = PROCESSING_TYPES[i % 3]
        updated = int(added.max()) if ptype == "MANUAL" and len(added) else list_created
        out.append(
            ListState(
                list_id=5 + 7 * i,
                name=LIST_NAMES[i % len(LIST_NAMES)] + ("" if i < len(LIST_NAMES) else f" ({i})"),
                object_type_id=type_id,
                processing_type=ptype,
                created_ms=list_created,
                updated_ms=updated,
                filters_updated_ms=list_created,
                folder=FOLDERS[i % len(FOLDERS)],
                members=idx,
                added_ms=added,
                last_added_ms=int(added.max()) if len(added) else 0,
            )
        )
    return out
