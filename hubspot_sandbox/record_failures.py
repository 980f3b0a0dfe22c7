"""Per-record failures of object batch reads: chosen records come back as 207 errors, not results.

A rule chooses records of one type by explicit id and/or by a deterministic share (a hash of
seed, type id and record id, so the choice never depends on request order), and fails them on
every batch read (`times=None`) or on their first `times` reads only (counted per record id).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hubspot_sandbox.model.rng import stable_hash

# What HubSpot says per category when the rule names no message. `{id}` is the record id,
# `{object}` the type's singular label in capitals (CONTACT), `{property}` the rule's property.
DEFAULT_MESSAGES: dict[str, str] = {
    "INTERNAL_ERROR": "Internal error reading the {object} object {id}; try again later.",
    "VALIDATION_ERROR": "Property value of {property} for object {id} could not be read",
    "OBJECT_NOT_FOUND": (
        "Could not get some {object} objects, they may be deleted or not exist. Check that ids are valid."
    ),
}
FALLBACK_MESSAGE = "Could not read the {object} object {id}"
_SHARE_SCALE = 2**64


@dataclass(frozen=True)
class RecordFailureRule:
    """Records of `type_ref` (id, name or fqn) failing batch reads with `category`/`message`.

    `ids` and `share` add up (a record is chosen when either picks it). `times=None` fails every
    read; `times=N` fails a chosen record's first N reads, then lets it through. `message` may
    use `{id}`, `{object}` and `{property}`; `property` defaults to the type's primary display one.
    """

    type_ref: str
    ids: frozenset[str] = field(default_factory=frozenset)
    share: float = 0.0
    category: str = "INTERNAL_ERROR"
    message: str | None = None
    times: int | None = None
    property: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", frozenset(str(i) for i in self.ids))
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("share must be within [0, 1]")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for a persistent failure)")
        if not self.category:
            raise ValueError("category must be a non-empty string")

    def template(self) -> str:
        if self.message is not None:
            return self.message
        return DEFAULT_MESSAGES.get(self.category, FALLBACK_MESSAGE)


def chosen_by_share(seed: int, type_id: str, record_id: int | str, share: float) -> bool:
    """Whether the share picks a record: a hash of (seed, type id, record id) below `share`."""
    if share <= 0.0:
        return False
    if share >= 1.0:
        return True
    return stable_hash("record-failure", seed, type_id, str(record_id)) < share * _SHARE_SCALE


class RecordFailures:
    """The rules in force and each rule's read counts; thread-safe (handlers read concurrently)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._rules: list[tuple[RecordFailureRule, str]] = []  # (rule, resolved type id)
        self._reads: list[dict[str, int]] = []  # per rule: record id -> failed reads so far

    def add(self, rule: RecordFailureRule, type_id: str) -> None:
        with self._lock:
            self._rules.append((rule, type_id))
            self._reads.append({})

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._reads.clear()

    @property
    def rules(self) -> list[RecordFailureRule]:
        with self._lock:
            return [rule for rule, _ in self._rules]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def chosen(self, type_id: str, record_id: int | str) -> bool:
        """Whether any rule chooses the record (ignoring how many reads it has failed)."""
        with self._lock:
            return any(
                self._chooses(rule, tid, str(record_id)) for rule, tid in self._rules if tid == type_id
            )

    def fail(
        self, type_id: str, record_ids: Iterable[str], describe: Callable[[RecordFailureRule, str], str]
    ) -> dict[str, tuple[str, str]]:
        """record id -> (category, message) for the reads of `record_ids` that fail now.

        The first rule that chooses a record and still fails it wins; a transient rule counts the read.
        """
        out: dict[str, tuple[str, str]] = {}
        with self._lock:
            rules = [(k, rule) for k, (rule, tid) in enumerate(self._rules) if tid == type_id]
            if not rules:
                return out
            for record_id in record_ids:
                for k, rule in rules:
                    if not self._chooses(rule, type_id, record_id):
                        continue
                    if rule.times is not None:
                        reads = self._reads[k]
                        done = reads.get(record_id, 0)
                        if done >= rule.times:
                            continue
                        reads[record_id] = done + 1
                    out[record_id] = (rule.category, describe(rule, record_id))
                    break
        return out

    def _chooses(self, rule: RecordFailureRule, type_id: str, record_id: str) -> bool:
        return record_id in rule.ids or chosen_by_share(self._seed, type_id, record_id, rule.share)
