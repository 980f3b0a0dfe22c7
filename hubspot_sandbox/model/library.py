"""The object library's types: their curated properties, associations and pipelines.

Types, ids and record counts are in `types.py` (`LIBRARY_TYPES`); this module holds what the
account builds them from. Property names are HubSpot's own (README "Object library" cites the
pages); every type also gets a little filler, so each carries about 30 properties in all.
"""

from __future__ import annotations

from dataclasses import replace

from .catalog import TIMEZONES, Prop, system_props
from .owners import Pipeline, Stage

LIBRARY_TARGET = 30  # live properties per type, curated + filler (the eleven core types carry 35-320)
CURRENCIES = ("USD", "EUR", "GBP")


def _props(group: str, *props: Prop, owner: bool = True) -> tuple[Prop, ...]:
    """System properties (owner where the type has one), then the type's own, all in `group`."""
    own = tuple(replace(p, group=group) for p in props)
    return (*system_props(owner_fill=0.7 if owner else None), *own)


def _p(name: str, label: str, kind: str, fill: float = 0.6, *options: str, calculated: bool = False) -> Prop:
    return Prop(name, label, kind, fill, "", options, calculated)


def _pipeline_props() -> tuple[Prop, ...]:
    return (_p("hs_pipeline", "Pipeline", "pipeline", 1.0), _p("hs_pipeline_stage", "Stage", "stage", 1.0))


LIBRARY_CATALOG: dict[str, tuple[Prop, ...]] = {
    "0-14": _props(
        "quoteinformation",
        _p("hs_title", "Quote name", "title", 1.0),
        _p("hs_expiration_date", "Expiration date", "date", 0.95),
        _p("hs_status", "Quote approval status", "enum", 1.0, "DRAFT", "PENDING_APPROVAL", "APPROVED",
           "REJECTED", "APPROVAL_NOT_NEEDED"),
        _p("hs_quote_amount", "Amount", "money", 0.9),
        _p("hs_currency", "Currency", "enum", 0.9, *CURRENCIES),
        _p("hs_quote_number", "Quote number", "sku", 0.8),
        _p("hs_terms", "Terms", "longtext", 0.3),
        _p("hs_esign_enabled", "E-signature enabled", "bool", 0.4),
    ),
    "0-18": _props(
        "communicationinformation",
        _p("hs_communication_channel_type", "Channel type", "enum", 1.0, "SMS", "WHATS_APP", "LINKEDIN_MESSAGE"),
        _p("hs_communication_logged_from", "Logged from", "enum", 1.0, "CRM"),
        _p("hs_communication_body", "Body", "longtext", 0.9),
        _p("hs_timestamp", "Activity date", "datetime", 1.0),
    ),
    "0-19": _props(
        "feedbacksubmissioninformation",
        _p("hs_survey_name", "Survey name", "title", 1.0),
        _p("hs_survey_type", "Survey type", "enum", 1.0, "NPS", "CSAT", "CES", "CUSTOM"),
        _p("hs_survey_channel", "Survey channel", "enum", 0.9, "EMAIL", "WEB", "CHAT"),
        _p("hs_response_value", "Response value", "count", 0.95),
        _p("hs_sentiment", "Sentiment", "enum", 0.8, "POSITIVE", "NEUTRAL", "NEGATIVE"),
        _p("hs_content", "Response", "longtext", 0.5),
        _p("hs_submission_timestamp", "Submitted at", "datetime", 1.0),
        owner=False,
    ),
    "0-53": _props(
        "invoiceinformation",
        _p("hs_number", "Invoice number", "sku", 1.0),
        _p("hs_invoice_status", "Invoice status", "enum", 1.0, "draft", "open", "paid", "voided"),
        _p("hs_currency", "Currency", "enum", 1.0, *CURRENCIES),
        _p("hs_invoice_date", "Invoice date", "date", 0.95),
        _p("hs_due_date", "Due date", "date", 0.9),
        _p("hs_amount_billed", "Amount billed", "money", 0.9),
        _p("hs_balance_due", "Balance due", "money", 0.9, calculated=True),
        _p("hs_purchase_order_number", "Purchase order number", "text", 0.2),
    ),
    "0-54": _props(
        "marketingeventinformation",
        _p("hs_event_name", "Event name", "title", 1.0),
        _p("hs_event_type", "Event type", "enum", 0.9, "WEBINAR", "CONFERENCE", "WORKSHOP"),
        _p("hs_start_datetime", "Start date", "datetime", 1.0),
        _p("hs_end_datetime", "End date", "datetime", 0.9),
        _p("hs_event_organizer", "Organizer", "company", 0.8),
        _p("hs_event_description", "Description", "longtext", 0.5),
        _p("hs_event_url", "Event URL", "website", 0.6),
        _p("hs_event_cancelled", "Cancelled", "bool", 0.9),
        owner=False,
    ),
    "0-69": _props(
        "subscriptioninformation",
        _p("hs_name", "Name", "title", 1.0),
        _p("hs_status", "Status", "enum", 1.0, "active", "scheduled", "past_due", "canceled", "expired"),
        _p("hs_recurring_billing_period", "Billing frequency", "enum", 1.0, "P1M", "P3M", "P12M"),
        _p("hs_recurring_billing_start_date", "Start date", "date", 1.0),
        _p("hs_next_payment_due_date", "Next payment due date", "date", 0.8),
        _p("hs_last_payment_amount", "Last payment amount", "money", 0.7, calculated=True),
    ),
    "0-74": _props(
        "goalinformation",
        _p("hs_goal_name", "Goal name", "title", 1.0),
        _p("hs_goal_type", "Goal type", "enum", 1.0, "REVENUE", "DEALS_CREATED", "CALLS", "MEETINGS"),
        _p("hs_target_amount", "Target", "money", 1.0),
        _p("hs_start_datetime", "Start date", "datetime", 1.0),
        _p("hs_end_datetime", "End date", "datetime", 1.0),
        _p("hs_status", "Status", "enum", 0.9, "in_progress", "achieved", "missed"),
    ),
    **{
        type_id: _props(
            group,
            _p("hs_label", "Label", "title", 1.0),
            _p("hs_value", "Value", "money", 1.0),
            _p("hs_type", "Type", "enum", 1.0, "PERCENT", "FIXED"),
            _p("hs_sort_order", "Sort order", "count", 0.5),
            *extra,
            owner=False,
        )
        for type_id, group, extra in (
            ("0-84", "discountinformation", (_p("hs_duration", "Duration", "enum", 0.8, "ONCE", "FOREVER"),)),
            ("0-85", "feeinformation", ()),
            ("0-86", "taxinformation", ()),
        )
    },
    "0-101": _props(
        "paymentinformation",
        _p("hs_reference_number", "Reference number", "sku", 1.0),
        _p("hs_initial_amount", "Gross amount", "money", 1.0),
        _p("hs_fees_amount", "Fees", "money", 0.8),
        _p("hs_net_amount", "Net amount", "money", 1.0, calculated=True),
        _p("hs_currency_code", "Currency", "enum", 1.0, *CURRENCIES),
        _p("hs_latest_status", "Status", "enum", 1.0, "succeeded", "processing", "failed", "refunded"),
        _p("hs_payment_method_type", "Payment method", "enum", 0.9, "CARD", "ACH", "SEPA"),
        _p("hs_initiated_date", "Initiated", "datetime", 1.0),
        _p("hs_customer_email", "Customer email", "email", 0.8),
        owner=False,
    ),
    "0-115": _props(
        "userinformation",
        _p("hs_email", "Email", "email", 1.0),
        _p("hs_given_name", "First name", "firstname", 0.95),
        _p("hs_family_name", "Last name", "lastname", 0.95),
        _p("hs_job_title", "Job title", "jobtitle", 0.6),
        _p("hs_internal_user_id", "User ID", "int", 1.0),
        _p("hs_availability_status", "Availability status", "enum", 0.8, "available", "away"),
        _p("hs_standard_time_zone", "Time zone", "enum", 0.7, *TIMEZONES),
        owner=False,
    ),
    "0-116": _props(
        "postalmailinformation",
        _p("hs_postal_mail_body", "Body", "longtext", 0.95),
        _p("hs_timestamp", "Activity date", "datetime", 1.0),
        _p("hs_attachment_ids", "Attached file IDs", "text", 0.1),
    ),
    "0-123": _props(
        "orderinformation",
        _p("hs_order_name", "Name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_currency_code", "Currency", "enum", 1.0, *CURRENCIES),
        _p("hs_total_price", "Total", "money", 1.0),
        _p("hs_source_store", "Source store", "text", 0.7),
        _p("hs_external_order_id", "External order ID", "sku", 0.8),
        _p("hs_fulfillment_status", "Fulfillment status", "enum", 0.8, "unfulfilled", "partial", "fulfilled"),
        _p("hs_shipping_address_city", "Shipping city", "city", 0.7),
        _p("hs_billing_address_email", "Billing email", "email", 0.7),
    ),
    "0-136": _props(
        "leadinformation",
        _p("hs_lead_name", "Lead name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_lead_type", "Lead type", "enum", 0.8, "NEW_BUSINESS", "UPSELL", "RE_ATTEMPTING"),
        _p("hs_lead_label", "Lead label", "enum", 0.7, "COLD", "WARM", "HOT"),
    ),
    "0-142": _props(
        "cartinformation",
        _p("hs_cart_name", "Name", "title", 1.0),
        _p("hs_external_cart_id", "External cart ID", "sku", 0.9),
        _p("hs_source_store", "Source store", "text", 0.7),
        _p("hs_total_price", "Total", "money", 1.0),
        _p("hs_currency_code", "Currency", "enum", 1.0, *CURRENCIES),
        _p("hs_cart_discount", "Discount", "money", 0.3),
        _p("hs_cart_url", "Cart URL", "website", 0.6),
        _p("hs_shipping_address_city", "Shipping city", "city", 0.5),
        owner=False,
    ),
    "0-162": _props(
        "serviceinformation",
        _p("hs_name", "Name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_description", "Description", "longtext", 0.5),
        _p("hs_start_date", "Start date", "date", 0.8),
        _p("hs_target_end_date", "Target end date", "date", 0.6),
    ),
    "0-410": _props(
        "courseinformation",
        _p("hs_course_name", "Course name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_description", "Description", "longtext", 0.5),
        _p("hs_start_date", "Start date", "date", 0.8),
        _p("hs_end_date", "End date", "date", 0.7),
    ),
    "0-420": _props(
        "listinginformation",
        _p("hs_name", "Listing name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_price", "Price", "money", 0.95),
        _p("hs_listing_type", "Listing type", "enum", 0.9, "house", "townhouse", "condos_co_ops", "apartment"),
        _p("hs_bedrooms", "Bedrooms", "count", 0.9),
        _p("hs_bathrooms", "Bathrooms", "count", 0.9),
        _p("hs_square_footage", "Square footage", "int", 0.7),
        _p("hs_address_1", "Address", "address", 0.9),
        _p("hs_city", "City", "city", 0.9),
        _p("hs_state_province", "State/Province", "state", 0.8),
        _p("hs_zip", "Postal code", "zip", 0.8),
    ),
    "0-421": _props(
        "appointmentinformation",
        _p("hs_appointment_name", "Appointment name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_appointment_start", "Start", "datetime", 1.0),
        _p("hs_appointment_end", "End", "datetime", 1.0),
        _p("hs_appointment_status", "Status", "enum", 1.0, "SCHEDULED", "COMPLETED", "CANCELED", "NO_SHOW"),
    ),
    "0-970": _props(
        "projectinformation",
        _p("hs_name", "Project name", "title", 1.0),
        *_pipeline_props(),
        _p("hs_description", "Description", "longtext", 0.6),
        _p("hs_start_date", "Start date", "date", 0.8),
        _p("hs_target_due_date", "Target due date", "date", 0.8),
    ),
}  # fmt: skip

# Pairs (library type, other type, probability, type id library -> other, type id other -> library):
# each record of the library type links to one record of the other type with that probability, as
# day 0 builds it and `advance()` creates it. Marketing events are the exception: contacts pick the
# event they attended (`PICKED_BY_OTHER`). The type ids are HubSpot's own (its association type id
# table, README "Object library"); None where the table has none, taken from `FREE_TYPE_IDS`.
LIBRARY_PAIRS: tuple[tuple[str, str, float, int | None, int | None], ...] = (
    ("0-14", "0-3", 0.9, 64, 63), ("0-14", "0-8", 0.9, 67, 68), ("0-14", "0-1", 0.8, 69, 70),
    ("0-14", "0-2", 0.6, 71, 72),
    ("0-18", "0-1", 0.9, 81, 82), ("0-18", "0-2", 0.4, 87, 88), ("0-18", "0-3", 0.3, 85, 86),
    ("0-18", "0-5", 0.2, 83, 84),
    ("0-19", "0-1", 0.95, 98, 97), ("0-19", "0-5", 0.4, 100, 99),
    ("0-53", "0-1", 0.9, 177, 178), ("0-53", "0-2", 0.6, 179, 180), ("0-53", "0-3", 0.5, 175, 176),
    ("0-53", "0-8", 0.8, 409, 410), ("0-53", "0-14", 0.3, 407, 408),
    ("0-54", "0-1", 0.1, None, None),
    ("0-69", "0-1", 0.9, 295, 296), ("0-69", "0-2", 0.5, 297, 298), ("0-69", "0-3", 0.4, 299, 300),
    ("0-74", "0-3", 0.6, 1356, 1357),
    ("0-84", "0-14", 0.6, 361, 362), ("0-85", "0-14", 0.4, 363, 364), ("0-86", "0-14", 0.6, 365, 366),
    ("0-86", "0-53", 0.3, 416, 415),
    ("0-101", "0-53", 0.8, 542, 541), ("0-101", "0-1", 0.8, 387, 388),
    ("0-116", "0-1", 0.9, 453, 454), ("0-116", "0-2", 0.3, 459, 460),
    ("0-123", "0-1", 0.95, 507, 508), ("0-123", "0-8", 0.9, 513, 514), ("0-123", "0-3", 0.3, 512, 511),
    ("0-136", "0-1", 1.0, 608, 609), ("0-136", "0-2", 0.7, 610, 611),
    ("0-142", "0-1", 0.9, 586, 587), ("0-142", "0-8", 0.8, 590, 591), ("0-142", "0-123", 0.4, 592, 593),
    ("0-162", "0-1", 0.8, 798, 799), ("0-162", "0-2", 0.6, 792, 793),
    ("0-410", "0-1", 0.8, 860, 861), ("0-410", "0-2", 0.4, 938, 939),
    ("0-420", "0-1", 0.7, 882, 883), ("0-420", "0-2", 0.3, 884, 885),
    ("0-421", "0-1", 0.95, 906, 907), ("0-421", "0-2", 0.3, 908, 909),
    ("0-970", "0-2", 0.7, 1236, 1237), ("0-970", "0-1", 0.6, 1242, 1243), ("0-970", "0-3", 0.4, 1238, 1239),
    ("0-970", "0-5", 0.2, 1240, 1241),
)  # fmt: skip
PICKED_BY_OTHER = frozenset({("0-54", "0-1")})
# Ids for the pairs HubSpot's table leaves out: a range of our own, far above HubSpot's.
FREE_TYPE_IDS = 30_001


def pair_type_ids(k: int) -> tuple[int, int]:
    """(library -> other, other -> library) association type ids of the k-th pair."""
    _, _, _, forward, inverse = LIBRARY_PAIRS[k]
    if forward is not None and inverse is not None:
        return forward, inverse
    return FREE_TYPE_IDS + 2 * k, FREE_TYPE_IDS + 2 * k + 1


def create_links(type_id: str) -> tuple[tuple[str, float], ...]:
    """What a record of a library type created by `advance()` links to: (other type, probability)."""
    return tuple((b, p) for a, b, p, _, _ in LIBRARY_PAIRS if a == type_id and (a, b) not in PICKED_BY_OTHER)


def _stages(base: int, *labels: str) -> tuple[Stage, ...]:
    """Numeric-id stages; the last one closes the record."""
    last = len(labels) - 1
    return tuple(
        Stage(str(base + k), label, (("isClosed", "true" if k == last else "false"),))
        for k, label in enumerate(labels)
    )


def library_pipelines(portal_id: int) -> dict[str, tuple[Pipeline, ...]]:
    """Two pipelines for each library type HubSpot gives pipelines to (the generator puts a quarter
    of the records on the second)."""
    base = (10_000 + portal_id % 90_000) * 1000
    stages = {
        "0-123": ("Orders", ("Checkout pending", "Processed", "Shipped", "Delivered")),
        "0-162": ("Services", ("Planned", "In progress", "Delivered")),
        "0-410": ("Courses", ("Draft", "Enrolling", "Running", "Finished")),
        "0-420": ("Listings", ("Coming soon", "Available", "Under contract", "Sold")),
        "0-421": ("Appointments", ("Scheduled", "Checked in", "Completed")),
        "0-970": ("Projects", ("Not started", "In progress", "On hold", "Done")),
    }
    out: dict[str, tuple[Pipeline, ...]] = {
        # Leads' default pipeline and stage ids are HubSpot's own.
        "0-136": (
            Pipeline("lead-pipeline-id", "Lead pipeline", (
                Stage("new-stage-id", "New", (("isClosed", "false"),)),
                Stage("attempting-stage-id", "Attempting", (("isClosed", "false"),)),
                Stage("connected-stage-id", "Connected", (("isClosed", "false"),)),
                Stage("qualified-stage-id", "Qualified", (("isClosed", "true"),)),
                Stage("unqualified-stage-id", "Disqualified", (("isClosed", "true"),)),
            )),
            Pipeline(str(base + 300), "Inbound leads", _stages(base + 310, "New", "Working", "Done")),
        ),
    }  # fmt: skip
    for k, (type_id, (label, labels)) in enumerate(stages.items()):
        first = base + 400 + 100 * k
        out[type_id] = (
            Pipeline(str(first), f"{label} pipeline", _stages(first + 10, *labels)),
            Pipeline(str(first + 50), "Secondary", _stages(first + 60, labels[0], labels[-1])),
        )
    return out
