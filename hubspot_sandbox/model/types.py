"""Object types, scales and the record view handed to the HTTP layer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .timefmt import iso_ms, ms_to_datetime

# A property-history source: (sourceType, sourceId, sourceLabel, updatedByUserId)
Source = tuple[str, str | None, str | None, int | None]
# One history entry: (value, timestamp ms, source)
Entry = tuple[str, int, Source]
# A property's history, newest first. A tuple of tuples of strings and ints: once the garbage
# collector has seen one it stops tracking it, so a cache full of histories costs collections nothing.
History = tuple[Entry, ...]


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type as HubSpot describes it (standard `0-n` or custom `2-n`)."""

    type_id: str
    name: str  # plural API name: "contacts", "line_items", custom "vehicles"
    singular: str  # "contact", "line_item"
    label_singular: str
    label_plural: str
    fully_qualified_name: str
    custom: bool
    primary_display_property: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class StandardType:
    """Static description of a standard type; `ObjectType`s are built from these."""

    type_id: str
    name: str
    singular: str
    label_singular: str
    label_plural: str
    primary_display_property: str
    id_base: int  # first record id; HubSpot-looking, distinct ranges per type
    history_cap: int  # contacts keep 45 values per property, every other type 20


STANDARD_TYPES: tuple[StandardType, ...] = (
    StandardType("0-1", "contacts", "contact", "Contact", "Contacts", "email", 1_001, 45),
    StandardType("0-2", "companies", "company", "Company", "Companies", "name", 5_790_000_001, 20),
    StandardType("0-3", "deals", "deal", "Deal", "Deals", "dealname", 9_840_000_001, 20),
    StandardType("0-5", "tickets", "ticket", "Ticket", "Tickets", "subject", 1_620_000_001, 20),
    StandardType("0-7", "products", "product", "Product", "Products", "name", 1_201_000_001, 20),
    StandardType("0-8", "line_items", "line_item", "Line item", "Line items", "name", 3_310_000_001, 20),
    StandardType("0-27", "tasks", "task", "Task", "Tasks", "hs_task_subject", 40_100_000_001, 20),
    StandardType("0-46", "notes", "note", "Note", "Notes", "hs_note_body", 40_200_000_001, 20),
    StandardType(
        "0-47", "meetings", "meeting", "Meeting", "Meetings", "hs_meeting_title", 40_300_000_001, 20
    ),
    StandardType("0-48", "calls", "call", "Call", "Calls", "hs_call_title", 40_400_000_001, 20),
    StandardType("0-49", "emails", "email", "Email", "Emails", "hs_email_subject", 40_500_000_001, 20),
)

ENGAGEMENT_TYPES: tuple[str, ...] = ("0-27", "0-46", "0-47", "0-48", "0-49")

# Record counts per scale. Custom object types take their counts from the "custom" entry.
SCALES: dict[str, dict[str, int]] = {
    "tiny": {
        "0-1": 60, "0-2": 20, "0-3": 15, "0-5": 12, "0-7": 5, "0-8": 12,
        "0-27": 6, "0-46": 8, "0-47": 4, "0-48": 6, "0-49": 6, "custom": 5,
    },
    "small": {
        "0-1": 2_000, "0-2": 500, "0-3": 400, "0-5": 300, "0-7": 40, "0-8": 700,
        "0-27": 400, "0-46": 800, "0-47": 150, "0-48": 400, "0-49": 600, "custom": 120,
    },
    "medium": {
        "0-1": 100_000, "0-2": 30_000, "0-3": 20_000, "0-5": 15_000, "0-7": 500, "0-8": 40_000,
        "0-27": 20_000, "0-46": 40_000, "0-47": 6_000, "0-48": 20_000, "0-49": 30_000, "custom": 6_000,
    },
    "large": {
        "0-1": 1_000_000, "0-2": 300_000, "0-3": 200_000, "0-5": 150_000, "0-7": 2_000, "0-8": 400_000,
        "0-27": 150_000, "0-46": 300_000, "0-47": 50_000, "0-48": 150_000, "0-49": 300_000, "custom": 50_000,
    },
}  # fmt: skip


def source_dict(source: Source) -> dict:
    """The API fields of a history source: `{sourceType, sourceId?, sourceLabel?, updatedByUserId?}`."""
    stype, sid, label, user = source
    out: dict = {"sourceType": stype}
    if sid is not None:
        out["sourceId"] = sid
    if label is not None:
        out["sourceLabel"] = label
    if user is not None:
        out["updatedByUserId"] = user
    return out


def history_dict(entry: Entry) -> dict:
    """API history entry `{value, timestamp, sourceType, sourceId?, sourceLabel?, updatedByUserId?}`."""
    value, ts, source = entry
    return {"value": value, "timestamp": iso_ms(ts), **source_dict(source)}


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record as the API shows it: requested property values (strings or None) and history.

    Timestamps are kept as epoch milliseconds (`*_ms`); the `*_at` properties give tz-aware datetimes.
    `entries` maps each requested history property to its `Entry` tuples, newest first; `history`
    gives the same as API dicts.
    """

    id: int
    created_ms: int
    updated_ms: int
    archived: bool
    archived_ms: int | None
    properties: dict[str, str | None]
    entries: dict[str, History] = field(default_factory=dict)

    @property
    def history(self) -> dict[str, list[dict]]:
        """Each requested history property's entries newest first, each
        `{value, timestamp (ISO), sourceType, sourceId?, sourceLabel?, updatedByUserId?}` (built on access)."""
        return {name: [history_dict(e) for e in found] for name, found in self.entries.items()}

    @property
    def created_at(self) -> dt.datetime:
        """Creation time (UTC)."""
        return ms_to_datetime(self.created_ms)

    @property
    def updated_at(self) -> dt.datetime:
        """Last modification time (UTC); equals the `hs_lastmodifieddate` / `lastmodifieddate` value."""
        return ms_to_datetime(self.updated_ms)

    @property
    def archived_at(self) -> dt.datetime | None:
        """When the record was archived (deleted or merged away), else None."""
        return None if self.archived_ms is None else ms_to_datetime(self.archived_ms)


@dataclass(frozen=True)
class KnownType:
    """A standard HubSpot object type the account does not model (no records, no custom properties).

    HubSpot knows these names (so it answers their definitions instead of "Unable to infer object
    type"); `read_scope` is the object read scope of hubspot-api.md §10.1 / HubSpot's scope list.
    """

    type_id: str | None  # None where HubSpot documents no objectTypeId for the type
    name: str
    singular: str
    read_scope: str


UNMODELLED_TYPES: tuple[KnownType, ...] = (
    KnownType("0-14", "quotes", "quote", "crm.objects.quotes.read"),
    KnownType("0-18", "communications", "communication", "crm.objects.contacts.read"),
    KnownType("0-19", "feedback_submissions", "feedback_submission", "crm.objects.feedback_submissions.read"),
    KnownType("0-53", "invoices", "invoice", "crm.objects.invoices.read"),
    KnownType("0-54", "marketing_events", "marketing_event", "crm.objects.marketing_events.read"),
    KnownType("0-69", "subscriptions", "subscription", "crm.objects.subscriptions.read"),
    KnownType("0-74", "goal_targets", "goal_target", "crm.objects.goals.read"),
    KnownType("0-84", "discounts", "discount", "e-commerce"),
    KnownType("0-85", "fees", "fee", "e-commerce"),
    KnownType("0-86", "taxes", "tax", "e-commerce"),
    KnownType("0-101", "commerce_payments", "commerce_payment", "crm.objects.commercepayments.read"),
    KnownType("0-115", "users", "user", "crm.objects.users.read"),
    KnownType("0-116", "postal_mail", "postal_mail", "crm.objects.contacts.read"),
    KnownType("0-123", "orders", "order", "crm.objects.orders.read"),
    KnownType("0-136", "leads", "lead", "crm.objects.leads.read"),
    KnownType("0-142", "carts", "cart", "crm.objects.carts.read"),
    KnownType("0-162", "services", "service", "crm.objects.services.read"),
    KnownType("0-410", "courses", "course", "crm.objects.courses.read"),
    KnownType("0-420", "listings", "listing", "crm.objects.listings.read"),
    KnownType("0-421", "appointments", "appointment", "crm.objects.appointments.read"),
    KnownType(None, "deal_splits", "deal_split", "crm.objects.deals.read"),
)


def known_type_refs(known: KnownType) -> tuple[str, ...]:
    """Every spelling a path may use for an unmodelled type: id, plural and singular name."""
    refs = (known.type_id, known.name, known.singular)
    return tuple(dict.fromkeys(ref for ref in refs if ref))
