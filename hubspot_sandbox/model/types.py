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

# The object library: standard types modelled after the eleven above, like them but with small record
# counts and few properties (README "Object library"). Their tables, pairs and daily draws come after
# every other type's, so the types above answer as they did before these existed.
LIBRARY_TYPES: tuple[StandardType, ...] = tuple(
    StandardType(type_id, name, singular, label, plural, primary, 50_000_000_001 + 100_000_000 * k, 20)
    for k, (type_id, name, singular, label, plural, primary) in enumerate((
        ("0-14", "quotes", "quote", "Quote", "Quotes", "hs_title"),
        ("0-18", "communications", "communication", "Communication", "Communications",
         "hs_communication_body"),
        ("0-19", "feedback_submissions", "feedback_submission", "Feedback submission", "Feedback submissions",
         "hs_survey_name"),
        ("0-53", "invoices", "invoice", "Invoice", "Invoices", "hs_number"),
        ("0-54", "marketing_events", "marketing_event", "Marketing event", "Marketing events", "hs_event_name"),
        ("0-69", "subscriptions", "subscription", "Subscription", "Subscriptions", "hs_name"),
        ("0-74", "goal_targets", "goal_target", "Goal", "Goals", "hs_goal_name"),
        ("0-84", "discounts", "discount", "Discount", "Discounts", "hs_label"),
        ("0-85", "fees", "fee", "Fee", "Fees", "hs_label"),
        ("0-86", "taxes", "tax", "Tax", "Taxes", "hs_label"),
        ("0-101", "commerce_payments", "commerce_payment", "Payment", "Payments", "hs_reference_number"),
        ("0-115", "users", "user", "User", "Users", "hs_email"),
        ("0-116", "postal_mail", "postal_mail", "Postal mail", "Postal mail", "hs_postal_mail_body"),
        ("0-123", "orders", "order", "Order", "Orders", "hs_order_name"),
        ("0-136", "leads", "lead", "Lead", "Leads", "hs_lead_name"),
        ("0-142", "carts", "cart", "Cart", "Carts", "hs_cart_name"),
        ("0-162", "services", "service", "Service", "Services", "hs_name"),
        ("0-410", "courses", "course", "Course", "Courses", "hs_course_name"),
        ("0-420", "listings", "listing", "Listing", "Listings", "hs_name"),
        ("0-421", "appointments", "appointment", "Appointment", "Appointments", "hs_appointment_name"),
        ("0-970", "projects", "project", "Project", "Projects", "hs_name"),
    ))
)  # fmt: skip
LIBRARY_TYPE_IDS: frozenset[str] = frozenset(t.type_id for t in LIBRARY_TYPES)
# Types an account activates or deactivates (HubSpot's object library enablement); the others always exist.
ACTIVATABLE_TYPES: tuple[str, ...] = ("0-162", "0-410", "0-420", "0-421")
DEFAULT_DEACTIVATED: tuple[str, ...] = ("0-410", "0-420")  # courses and listings, as in HubSpot's example

ENGAGEMENT_TYPES: tuple[str, ...] = ("0-27", "0-46", "0-47", "0-48", "0-49")

# Record counts per scale. Custom object types take their counts from the "custom" entry.
_CORE_SCALES: dict[str, dict[str, int]] = {
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
# Object-library counts (tiny, small, medium); large holds ten times medium. Kept small: these types
# are many, and an account of the kind the pipeline serves holds few records of most of them.
_LIBRARY_COUNTS: dict[str, tuple[int, int, int]] = {
    "0-14": (5, 120, 3_000), "0-18": (4, 60, 1_500), "0-19": (4, 80, 2_000), "0-53": (5, 100, 2_500),
    "0-54": (3, 20, 300), "0-69": (4, 60, 1_500), "0-74": (3, 20, 300), "0-84": (3, 20, 300),
    "0-85": (3, 20, 300), "0-86": (3, 20, 300), "0-101": (4, 80, 2_000), "0-115": (4, 30, 400),
    "0-116": (3, 25, 500), "0-123": (5, 150, 4_000), "0-136": (6, 150, 4_000), "0-142": (4, 90, 2_500),
    "0-162": (4, 40, 800), "0-410": (3, 30, 600), "0-420": (3, 40, 900), "0-421": (5, 100, 2_500),
    "0-970": (4, 30, 600),
}  # fmt: skip
SCALES: dict[str, dict[str, int]] = {
    scale: {**core, **{t: (*c, c[2] * 10)[k] for t, c in _LIBRARY_COUNTS.items()}}
    for k, (scale, core) in enumerate(_CORE_SCALES.items())
}


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


# Deal splits have no object type id and an API of their own; every other standard type is modelled.
UNMODELLED_TYPES: tuple[KnownType, ...] = (
    KnownType(None, "deal_splits", "deal_split", "crm.objects.deals.read"),
)


def known_type_refs(known: KnownType) -> tuple[str, ...]:
    """Every spelling a path may use for an unmodelled type: id, plural and singular name."""
    refs = (known.type_id, known.name, known.singular)
    return tuple(dict.fromkeys(ref for ref in refs if ref))
