"""HubSpot's standard object types: the ones an account may hold, probed at sync time.

HubSpot has no endpoint that lists standard object types, so the export knows every type of HubSpot's
"object type ID values" table (https://developers.hubspot.com/docs/guides/crm/using-object-apis) and
probes each per account (`sync.type_access`): activatable types (appointments, courses, listings,
services) are checked against the object library's enablement endpoint, and every type answers a one-record
read or is reported unavailable with why (not activated, a scope the token lacks). Custom objects come
from the schemas API. Type ids and names follow HubSpot's table; `read_scope` is the scope a private app
needs to read the type's records (HubSpot's scope list, hubspot-api.md §10.1).
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
    read_scope: str | None = None  # what to add to the private app when its token cannot read the type
    activatable: bool = False  # listed by the object library's enablement endpoint

    @property
    def table_suffix(self) -> str:
        """OBJECTS_<PLURAL>: the upper-cased plural name (custom objects: their schema name's plural label)."""
        return _upper_name(self.name)


def _upper_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).upper()


# Activatable types: HubSpot's docs name appointments, courses, listings and services as objects an account
# must activate before their records can be read (the object library's enablement endpoint lists them).
ACTIVATABLE: frozenset[str] = frozenset({"0-162", "0-410", "0-420", "0-421"})

STANDARD_OBJECT_TYPES: tuple[ObjectTypeInfo, ...] = tuple(
    ObjectTypeInfo(
        tid, name, singular, ls, lp, name, False, display, read_scope=scope, activatable=tid in ACTIVATABLE
    )
    for tid, name, singular, ls, lp, display, scope in (
        ("0-1", "contacts", "contact", "Contact", "Contacts", "email", "crm.objects.contacts.read"),
        ("0-2", "companies", "company", "Company", "Companies", "name", "crm.objects.companies.read"),
        ("0-3", "deals", "deal", "Deal", "Deals", "dealname", "crm.objects.deals.read"),
        ("0-5", "tickets", "ticket", "Ticket", "Tickets", "subject", "tickets"),
        ("0-7", "products", "product", "Product", "Products", "name", "e-commerce"),
        ("0-8", "line_items", "line_item", "Line item", "Line items", "name", "e-commerce"),
        ("0-27", "tasks", "task", "Task", "Tasks", "hs_task_subject", "crm.objects.contacts.read"),
        ("0-46", "notes", "note", "Note", "Notes", "hs_note_body", "crm.objects.contacts.read"),
        ("0-47", "meetings", "meeting", "Meeting", "Meetings", "hs_meeting_title", "crm.objects.contacts.read"),
        ("0-48", "calls", "call", "Call", "Calls", "hs_call_title", "crm.objects.contacts.read"),
        ("0-49", "emails", "email", "Email", "Emails", "hs_email_subject", "crm.objects.contacts.read"),
        # the rest of HubSpot's table, in type id order
        ("0-14", "quotes", "quote", "Quote", "Quotes", "hs_title", "crm.objects.quotes.read"),
        ("0-18", "communications", "communication", "Communication", "Communications", "hs_communication_body",
         "crm.objects.contacts.read"),
        ("0-19", "feedback_submissions", "feedback_submission", "Feedback submission", "Feedback submissions",
         "hs_survey_name", "crm.objects.feedback_submissions.read"),
        ("0-53", "invoices", "invoice", "Invoice", "Invoices", "hs_number", "crm.objects.invoices.read"),
        ("0-54", "marketing_events", "marketing_event", "Marketing event", "Marketing events",
         "hs_event_name", "crm.objects.marketing_events.read"),
        ("0-69", "subscriptions", "subscription", "Subscription", "Subscriptions", "hs_name",
         "crm.objects.subscriptions.read"),
        ("0-74", "goal_targets", "goal_target", "Goal", "Goals", "hs_goal_name", "crm.objects.goals.read"),
        ("0-84", "discounts", "discount", "Discount", "Discounts", "hs_label", "e-commerce"),
        ("0-85", "fees", "fee", "Fee", "Fees", "hs_label", "e-commerce"),
        ("0-86", "taxes", "tax", "Tax", "Taxes", "hs_label", "e-commerce"),
        ("0-101", "commerce_payments", "commerce_payment", "Payment", "Payments", "hs_reference_number",
         "crm.objects.commercepayments.read"),
        ("0-115", "users", "user", "User", "Users", "hs_email", "crm.objects.users.read"),
        ("0-116", "postal_mail", "postal_mail", "Postal mail", "Postal mail", "hs_postal_mail_body",
         "crm.objects.contacts.read"),
        ("0-123", "orders", "order", "Order", "Orders", "hs_order_name", "crm.objects.orders.read"),
        ("0-136", "leads", "lead", "Lead", "Leads", "hs_lead_name", "crm.objects.leads.read"),
        ("0-142", "carts", "cart", "Cart", "Carts", "hs_cart_name", "crm.objects.carts.read"),
        ("0-162", "services", "service", "Service", "Services", "hs_name", "crm.objects.services.read"),
        ("0-410", "courses", "course", "Course", "Courses", "hs_course_name", "crm.objects.courses.read"),
        ("0-420", "listings", "listing", "Listing", "Listings", "hs_name", "crm.objects.listings.read"),
        ("0-421", "appointments", "appointment", "Appointment", "Appointments", "hs_appointment_name",
         "crm.objects.appointments.read"),
        ("0-970", "projects", "project", "Project", "Projects", "hs_name", "crm.objects.projects.read"),
    )
)  # fmt: skip
CUSTOM_READ_SCOPE = "crm.objects.custom.read"


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
        read_scope=CUSTOM_READ_SCOPE,
    )


def _plural_api_name(name: str, plural_label: str) -> str:
    """Custom objects are exported under their plural label (OBJECTS_VEHICLES), snake-cased."""
    snake = "_".join(plural_label.lower().split())
    snake = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in snake)
    return snake or name
