"""The account's change journal: every create, write, delete, merge, restore, association change and
list-membership change the days make, with its time, as HubSpot's webhooks journal records them for
an app's subscriptions (the API over it, its entries and subscriptions: `hubspot_sandbox/journal.py`).

Recorded as the changes happen (`changes.Day`, `Account.restore`), so what the journal says is what the
account did, not a diff. HubSpot keeps 3 days of it; older changes are dropped when the clock moves.

What it leaves out, as the sandbox's HubSpot is modelled: a calculated property's silent change (no
write to the record, so no UPDATE), and the associations and list memberships a deleted record loses
(the DELETE says it).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from .timefmt import DAY_MS

RETENTION_MS = 3 * DAY_MS
OBJECT_ACTIONS = ("CREATE", "UPDATE", "DELETE", "MERGE", "RESTORE")
ASSOCIATION_ACTIONS = ("ASSOCIATION_ADDED", "ASSOCIATION_REMOVED")
LIST_ACTIONS = ("ADDED_TO_LIST", "REMOVED_FROM_LIST")


@dataclass(frozen=True, slots=True)
class Change:
    """One change to one record."""

    ts: int  # when it happened, epoch ms
    action: str  # one of OBJECT_ACTIONS, ASSOCIATION_ACTIONS, LIST_ACTIONS
    type_id: str
    object_id: int
    properties: tuple[tuple[str, str], ...] = ()  # UPDATE, MERGE, RESTORE: (property, value) written
    to_type_id: str = ""  # association: the other side
    to_object_id: int = 0
    association_type_ids: tuple[int, ...] = ()  # ASSOCIATION_ADDED: the types (labels) added
    list_id: int = 0  # list membership
    merged_ids: tuple[int, ...] = ()  # MERGE: the records merged into `object_id`

    @property
    def subscription_type(self) -> str:
        if self.action in ASSOCIATION_ACTIONS:
            return "ASSOCIATION"
        return "LIST_MEMBERSHIP" if self.action in LIST_ACTIONS else "OBJECT"


class Journal:
    """The changes of the last `RETENTION_MS`, in time order."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._stamps: list[int] = []

    def extend(self, changes: list[Change]) -> None:
        """Add a day's changes (any order; none earlier than what is held)."""
        fresh = sorted(changes, key=lambda c: c.ts)
        if fresh and self._stamps and fresh[0].ts < self._stamps[-1]:
            raise ValueError("journal changes must not go back in time")
        self.changes.extend(fresh)
        self._stamps.extend(c.ts for c in fresh)

    def prune(self, now_ms: int) -> None:
        """Forget what is older than the retention."""
        cut = bisect.bisect_left(self._stamps, now_ms - RETENTION_MS)
        if cut:
            del self.changes[:cut], self._stamps[:cut]

    def between(self, start_ms: int, end_ms: int) -> list[Change]:
        """The changes with start_ms <= ts < end_ms."""
        lo = bisect.bisect_left(self._stamps, start_ms)
        return self.changes[lo : bisect.bisect_left(self._stamps, end_ms, lo)]

    @property
    def oldest_ms(self) -> int | None:
        return self._stamps[0] if self._stamps else None
