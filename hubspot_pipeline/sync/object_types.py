"""HubSpot's standard object types: the ones an account may hold, probed at sync time.

HubSpot has no endpoint that lists standard object types, so the export probes each of these through the
properties API and keeps the ones the account answers for. Custom objects come from the schemas API.
Type ids and names follow HubSpot's "object type ID values" table.
"""

from __future__ import annotations

from dataclasses import dataclass


def modified_property(type_id: str) -> str:
    """The property HubSpot stamps on every write to a record (search filters and sorts on it)."""
    return "lastmodifieddate" if type_id == "0-1" else "hs_lastmodifieddate"


@dataclass(frozen=True)
class ObjectTypeInfo:
    type_id: str
    name: str  # plural API name, e.g. "line_items"
    singular: str  # e.g. "line_item"
    label_singular: str
    label_plural: str
    fully_qualified_name: str
    custom: bool
    primary_display_property: str | None
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def table_suffix(self) -> str:
        """OBJECTS_<PLURAL>: the upper-cased plural name (custom objects: their schema name's plural label)."""
        return _upper_name(self.name)


def _upper_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).upper()


STANDARD_OBJECT_TYPES: tuple[ObjectTypeInfo, ...] = tuple(
    ObjectTypeInfo(tid, name, singular, ls, lp, name, False, display)
    for tid, name, singular, ls, lp, display in (
        ("0-1", "contacts", "contact", "Contact", "Contacts", "email"),
        ("0-2", "companies", "company", "Company", "Companies", "name"),
        ("0-3", "deals", "deal", "Deal", "Deals", "dealname"),
        ("0-5", "tickets", "ticket", "Ticket", "Tickets", "subject"),
        ("0-7", "products", "product", "Product", "Products", "name"),
        ("0-8", "line_items", "line_item", "Line item", "Line items", "name"),
        ("0-27", "tasks", "task", "Task", "Tasks", "hs_task_subject"),
        ("0-46", "notes", "note", "Note", "Notes", "hs_note_body"),
        ("0-47", "meetings", "meeting", "Meeting", "Meetings", "hs_meeting_title"),
        ("0-48", "calls", "call", "Call", "Calls", "hs_call_title"),
        ("0-49", "emails", "email", "Email", "Emails", "hs_email_subject"),
    )
)


def custom_object_type(schema: dict) -> ObjectTypeInfo:
    """An ObjectTypeInfo from a schemas-API ObjectSchema."""
    labels = schema.get("labels") or {}
    name = str(schema["name"])
    plural = labels.get("plural") or name
    return ObjectTypeInfo(
        type_id=str(schema.get("objectTypeId") or f"2-{schema['id']}"),
        name=_plural_api_name(name, plural),
        singular=name,
        label_singular=labels.get("singular") or name,
        label_plural=plural,
        fully_qualified_name=str(schema.get("fullyQualifiedName") or name),
        custom=True,
        primary_display_property=schema.get("primaryDisplayProperty"),
        created_at=schema.get("createdAt"),
        updated_at=schema.get("updatedAt"),
    )


def _plural_api_name(name: str, plural_label: str) -> str:
    """Custom objects are exported under their plural label (OBJECTS_VEHICLES), snake-cased."""
    snake = "_".join(plural_label.lower().split())
    snake = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in snake)
    return snake or name
