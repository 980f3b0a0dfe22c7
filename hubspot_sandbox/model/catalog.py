"""Curated property catalog: the HubSpot-defined properties each type carries, and the custom types.

Each entry is `Prop(name, label, kind, fill, ...)`; `kind` names the value generator (see
`generate.py`) and implies the API `type`/`fieldType` (see `properties.KIND_TYPES`). `fill` is the
share of records holding a value. Filler properties are added on top by `properties.py` so
that each type reaches a realistic count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prop:
    """One curated property; see the module docstring."""

    name: str
    label: str
    kind: str
    fill: float = 0.3
    group: str = ""
    options: tuple[str, ...] = ()
    calculated: bool = False
    hubspot_defined: bool = True
    unique: bool = False


def _opts(*values: str) -> tuple[str, ...]:
    return values


LIFECYCLE = _opts(
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)  # fmt: skip
LEAD_STATUS = _opts(
    "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED"
)
ANALYTICS_SOURCE = _opts(
    "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS", "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL",
)  # fmt: skip
INDUSTRY = _opts(
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
)
LANGUAGES = _opts("en", "de", "fr", "es", "ja", "pt-br")
TIMEZONES = _opts("america_slash_new_york", "europe_slash_dublin", "europe_slash_berlin", "asia_slash_tokyo")


def system_props(
    lastmodified: str = "hs_lastmodifieddate", owner_fill: float | None = 0.7
) -> tuple[Prop, ...]:
    """Properties every type has; the owner (set on `owner_fill` of the records) where the type has one."""
    owner = () if owner_fill is None else (Prop("hubspot_owner_id", "Owner", "owner", owner_fill, "system"),)
    return (
        Prop("hs_object_id", "Record ID", "object_id", 1.0, "system"),
        Prop("createdate", "Create Date", "createdate", 1.0, "system"),
        Prop(lastmodified, "Last Modified Date", "lastmodified", 1.0, "system"),
        *owner,
    )


def _activity(group: str) -> tuple[Prop, ...]:
    return (Prop("hs_last_activity_timestamp", "Last Activity Date", "activity:*", 1.0, group),)


CONTACTS: tuple[Prop, ...] = (
    *system_props("lastmodifieddate"),
    Prop("email", "Email", "email", 0.92, "contactinformation", unique=True),
    Prop("firstname", "First Name", "firstname", 0.95, "contactinformation"),
    Prop("lastname", "Last Name", "lastname", 0.93, "contactinformation"),
    Prop("phone", "Phone Number", "phone", 0.5, "contactinformation"),
    Prop("mobilephone", "Mobile Phone Number", "phone", 0.2, "contactinformation"),
    Prop("fax", "Fax Number", "phone", 0.02, "contactinformation"),
    Prop("company", "Company Name", "company", 0.6, "contactinformation"),
    Prop("jobtitle", "Job Title", "jobtitle", 0.5, "contactinformation"),
    Prop("website", "Website URL", "website", 0.3, "contactinformation"),
    Prop("address", "Street Address", "address", 0.3, "contactinformation"),
    Prop("city", "City", "city", 0.45, "contactinformation"),
    Prop("state", "State/Region", "state", 0.35, "contactinformation"),
    Prop("zip", "Postal Code", "zip", 0.3, "contactinformation"),
    Prop("country", "Country/Region", "country", 0.45, "contactinformation"),
    Prop("industry", "Industry", "text", 0.15, "contactinformation"),
    Prop("message", "Message", "longtext", 0.1, "contactinformation"),
    Prop("salutation", "Salutation", "text", 0.05, "contactinformation"),
    Prop("date_of_birth", "Date of birth", "date", 0.05, "contactinformation"),
    Prop("hs_additional_emails", "Additional email addresses", "text", 0.03, "contactinformation"),
    Prop("twitterhandle", "Twitter Username", "text", 0.04, "socialmediainformation"),
    Prop("linkedinbio", "LinkedIn Bio", "longtext", 0.03, "socialmediainformation"),
    Prop("lifecyclestage", "Lifecycle Stage", "enum", 0.9, "contactinformation", LIFECYCLE),
    Prop("hs_lead_status", "Lead Status", "enum", 0.4, "sales_properties", LEAD_STATUS),
    Prop(
        "hs_persona",
        "Persona",
        "enum",
        0.1,
        "contactinformation",
        _opts("persona_1", "persona_2", "persona_3"),
    ),
    Prop("hs_language", "Preferred language", "enum", 0.2, "contactinformation", LANGUAGES),
    Prop("hs_timezone", "Time Zone", "enum", 0.3, "contactinformation", TIMEZONES),
    Prop("hs_email_optout", "Unsubscribed from all email", "bool", 0.3, "emailinformation"),
    Prop(
        "hs_marketable_until_renewal",
        "Marketing contact until next update",
        "bool",
        0.4,
        "contactinformation",
    ),
    Prop(
        "numemployees",
        "Number of Employees",
        "enum",
        0.1,
        "contactinformation",
        _opts("1-5", "5-25", "25-50", "50-100", "100-500", "1000+"),
    ),
    Prop("annualrevenue", "Annual Revenue", "text", 0.05, "contactinformation"),
    Prop("hs_analytics_source", "Original Source", "enum", 0.8, "analyticsinformation", ANALYTICS_SOURCE),
    Prop("hs_analytics_first_visit_timestamp", "Time First Seen", "datetime", 0.5, "analyticsinformation"),
    Prop(
        "hs_analytics_num_page_views",
        "Number of Pageviews",
        "count",
        0.6,
        "analyticsinformation",
        calculated=True,
    ),
    Prop(
        "hs_analytics_num_visits", "Number of Sessions", "count", 0.6, "analyticsinformation", calculated=True
    ),
    Prop(
        "hs_analytics_last_visit_timestamp",
        "Time Last Seen",
        "activity:e_visited_page",
        1.0,
        "analyticsinformation",
    ),
    Prop(
        "hs_email_last_open_date",
        "Last marketing email open date",
        "activity:e_opened_email",
        1.0,
        "emailinformation",
    ),
    Prop(
        "hs_email_last_click_date",
        "Last marketing email click date",
        "activity:e_clicked_link_in_email",
        1.0,
        "emailinformation",
    ),
    Prop(
        "hs_email_last_send_date",
        "Last marketing email send date",
        "activity:e_delivered_email",
        1.0,
        "emailinformation",
    ),
    Prop(
        "recent_conversion_date",
        "Recent Conversion Date",
        "activity:e_submitted_form",
        1.0,
        "conversioninformation",
    ),
    *_activity("sales_properties"),
    Prop(
        "num_associated_deals",
        "Number of Associated Deals",
        "count",
        0.3,
        "deal_information",
        calculated=True,
    ),
    Prop(
        "hs_lifecyclestage_lead_date",
        "Became a Lead Date",
        "datetime",
        0.4,
        "contactinformation",
        calculated=True,
    ),
    Prop(
        "hs_lifecyclestage_customer_date",
        "Became a Customer Date",
        "datetime",
        0.15,
        "contactinformation",
        calculated=True,
    ),
    Prop("hs_time_in_lead", "Time in Lead", "int", 0.3, "contactinformation", calculated=True),
    Prop("hs_email_domain", "Email Domain", "domain", 0.9, "contactinformation", calculated=True),
    Prop("hs_merged_object_ids", "Merged Contact IDs", "merged_ids", 0.0, "contactinformation"),
)

COMPANIES: tuple[Prop, ...] = (
    *system_props("hs_lastmodifieddate"),
    Prop("name", "Company name", "company", 0.97, "companyinformation"),
    Prop("domain", "Company Domain Name", "domain", 0.85, "companyinformation", unique=True),
    Prop("website", "Website URL", "website", 0.7, "companyinformation"),
    Prop("phone", "Phone Number", "phone", 0.5, "companyinformation"),
    Prop("address", "Street Address", "address", 0.4, "companyinformation"),
    Prop("city", "City", "city", 0.6, "companyinformation"),
    Prop("state", "State/Region", "state", 0.5, "companyinformation"),
    Prop("zip", "Postal Code", "zip", 0.4, "companyinformation"),
    Prop("country", "Country/Region", "country", 0.6, "companyinformation"),
    Prop("industry", "Industry", "enum", 0.5, "companyinformation", INDUSTRY),
    Prop("numberofemployees", "Number of Employees", "int", 0.5, "companyinformation"),
    Prop("annualrevenue", "Annual Revenue", "money", 0.3, "companyinformation"),
    Prop("description", "Description", "longtext", 0.35, "companyinformation"),
    Prop(
        "type",
        "Type",
        "enum",
        0.4,
        "companyinformation",
        _opts("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"),
    ),
    Prop("lifecyclestage", "Lifecycle Stage", "enum", 0.8, "companyinformation", LIFECYCLE),
    Prop("founded_year", "Year Founded", "text", 0.2, "companyinformation"),
    Prop("timezone", "Time Zone", "enum", 0.2, "companyinformation", TIMEZONES),
    Prop("linkedin_company_page", "LinkedIn Company Page", "website", 0.3, "socialmediainformation"),
    Prop("twitterhandle", "Twitter Handle", "text", 0.1, "socialmediainformation"),
    Prop("is_public", "Is Public", "bool", 0.2, "companyinformation"),
    Prop("total_money_raised", "Total Money Raised", "money", 0.05, "companyinformation"),
    Prop(
        "hs_analytics_source", "Original Source Type", "enum", 0.6, "analyticsinformation", ANALYTICS_SOURCE
    ),
    *_activity("companyinformation"),
    Prop(
        "num_associated_contacts",
        "Number of Associated Contacts",
        "count",
        0.8,
        "companyinformation",
        calculated=True,
    ),
    Prop(
        "num_associated_deals",
        "Number of Associated Deals",
        "count",
        0.5,
        "companyinformation",
        calculated=True,
    ),
    Prop(
        "hs_num_child_companies",
        "Number of child companies",
        "count",
        0.05,
        "companyinformation",
        calculated=True,
    ),
    Prop("total_revenue", "Total Revenue", "money", 0.3, "companyinformation", calculated=True),
    Prop("hs_merged_object_ids", "Merged Company IDs", "merged_ids", 0.0, "companyinformation"),
)

DEALS: tuple[Prop, ...] = (
    *system_props("hs_lastmodifieddate"),
    Prop("dealname", "Deal Name", "title", 0.99, "dealinformation"),
    Prop("amount", "Amount", "money", 0.8, "dealinformation"),
    Prop("closedate", "Close Date", "datetime", 0.85, "dealinformation"),
    Prop("pipeline", "Pipeline", "pipeline", 1.0, "dealinformation"),
    Prop("dealstage", "Deal Stage", "stage", 1.0, "dealinformation"),
    Prop("dealtype", "Deal Type", "enum", 0.5, "dealinformation", _opts("newbusiness", "existingbusiness")),
    Prop("description", "Deal Description", "longtext", 0.2, "dealinformation"),
    Prop("hs_priority", "Priority", "enum", 0.3, "dealinformation", _opts("low", "medium", "high")),
    Prop("hs_next_step", "Next step", "text", 0.2, "dealinformation"),
    Prop("hs_acv", "Annual contract value", "money", 0.2, "dealinformation"),
    Prop("hs_mrr", "Monthly recurring revenue", "money", 0.2, "dealinformation"),
    Prop("deal_currency_code", "Currency", "enum", 0.6, "dealinformation", _opts("USD", "EUR", "GBP", "JPY")),
    Prop(
        "hs_analytics_source", "Original Source Type", "enum", 0.4, "analyticsinformation", ANALYTICS_SOURCE
    ),
    Prop(
        "hs_deal_stage_probability", "Deal probability", "percent", 0.95, "dealinformation", calculated=True
    ),
    Prop("hs_is_closed", "Is Deal Closed?", "bool", 0.95, "dealinformation", calculated=True),
    Prop("hs_is_closed_won", "Is Closed Won", "bool", 0.95, "dealinformation", calculated=True),
    Prop("days_to_close", "Days to close", "int", 0.4, "dealinformation", calculated=True),
    Prop(
        "amount_in_home_currency",
        "Amount in company currency",
        "money",
        0.8,
        "dealinformation",
        calculated=True,
    ),
    Prop("hs_forecast_amount", "Forecast amount", "money", 0.7, "dealinformation", calculated=True),
    Prop("num_associated_contacts", "Number of Contacts", "count", 0.9, "dealinformation", calculated=True),
    Prop("hs_merged_object_ids", "Merged Deal IDs", "merged_ids", 0.0, "dealinformation"),
)

TICKETS: tuple[Prop, ...] = (
    *system_props("hs_lastmodifieddate"),
    Prop("subject", "Ticket name", "title", 0.99, "ticketinformation"),
    Prop("content", "Ticket description", "longtext", 0.8, "ticketinformation"),
    Prop("hs_pipeline", "Pipeline", "pipeline", 1.0, "ticketinformation"),
    Prop("hs_pipeline_stage", "Ticket status", "stage", 1.0, "ticketinformation"),
    Prop(
        "hs_ticket_category",
        "Category",
        "enum",
        0.5,
        "ticketinformation",
        _opts("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
    ),
    Prop(
        "hs_ticket_priority",
        "Priority",
        "enum",
        0.7,
        "ticketinformation",
        _opts("LOW", "MEDIUM", "HIGH", "URGENT"),
    ),
    Prop("source_type", "Source", "enum", 0.8, "ticketinformation", _opts("EMAIL", "CHAT", "PHONE", "FORM")),
    Prop("hs_ticket_id", "Ticket ID", "object_id", 1.0, "ticketinformation"),
    Prop("closed_date", "Close date", "datetime", 0.4, "ticketinformation"),
    Prop(
        "hs_resolution",
        "Resolution",
        "enum",
        0.3,
        "ticketinformation",
        _opts("ISSUE_FIXED", "TRAINING_PROVIDED", "DUPLICATE", "WONT_FIX"),
    ),
    Prop("time_to_close", "Time to close", "int", 0.4, "ticketinformation", calculated=True),
    Prop(
        "hs_num_times_contacted",
        "Number of times contacted",
        "count",
        0.5,
        "ticketinformation",
        calculated=True,
    ),
    Prop("hs_merged_object_ids", "Merged Ticket IDs", "merged_ids", 0.0, "ticketinformation"),
)

PRODUCTS: tuple[Prop, ...] = (
    *system_props("hs_lastmodifieddate"),
    Prop("name", "Name", "title", 1.0, "productinformation"),
    Prop("description", "Description", "longtext", 0.6, "productinformation"),
    Prop("price", "Unit price", "money", 0.95, "productinformation"),
    Prop("hs_sku", "SKU", "sku", 0.8, "productinformation", unique=True),
    Prop("hs_cost_of_goods_sold", "Unit cost", "money", 0.4, "productinformation"),
    Prop(
        "hs_recurring_billing_period",
        "Term",
        "enum",
        0.3,
        "productinformation",
        _opts("P1M", "P3M", "P12M", "P24M"),
    ),
    Prop(
        "hs_product_type",
        "Product type",
        "enum",
        0.7,
        "productinformation",
        _opts("inventory", "non_inventory", "service"),
    ),
)

LINE_ITEMS: tuple[Prop, ...] = (
    *system_props("hs_lastmodifieddate"),
    Prop("name", "Name", "title", 1.0, "lineiteminformation"),
    Prop("quantity", "Quantity", "int", 1.0, "lineiteminformation"),
    Prop("price", "Unit price", "money", 1.0, "lineiteminformation"),
    Prop("hs_product_id", "Product ID", "product_ref", 0.8, "lineiteminformation"),
    Prop("hs_sku", "SKU", "sku", 0.6, "lineiteminformation"),
    Prop("hs_discount_percentage", "Discount percentage", "percent", 0.2, "lineiteminformation"),
    Prop("description", "Description", "longtext", 0.2, "lineiteminformation"),
    Prop("amount", "Net price", "money", 1.0, "lineiteminformation", calculated=True),
)


def _engagement(*props: Prop) -> tuple[Prop, ...]:
    return (
        *system_props("hs_lastmodifieddate"),
        Prop("hs_timestamp", "Activity date", "datetime", 1.0, "engagement"),
        *props,
    )


TASKS = _engagement(
    Prop("hs_task_subject", "Task Title", "title", 1.0, "task"),
    Prop("hs_task_body", "Notes", "longtext", 0.5, "task"),
    Prop(
        "hs_task_status",
        "Task Status",
        "enum",
        1.0,
        "task",
        _opts("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
    ),
    Prop("hs_task_priority", "Priority", "enum", 0.8, "task", _opts("LOW", "MEDIUM", "HIGH")),
    Prop("hs_task_type", "Task Type", "enum", 0.9, "task", _opts("CALL", "EMAIL", "TODO")),
)
NOTES = _engagement(
    Prop("hs_note_body", "Note body", "longtext", 0.98, "note"),
    Prop("hs_attachment_ids", "Attached file IDs", "text", 0.05, "note"),
)
MEETINGS = _engagement(
    Prop("hs_meeting_title", "Meeting name", "title", 1.0, "meeting"),
    Prop("hs_meeting_body", "Meeting description", "longtext", 0.5, "meeting"),
    Prop("hs_meeting_start_time", "Start Time", "datetime", 1.0, "meeting"),
    Prop("hs_meeting_end_time", "End Time", "datetime", 1.0, "meeting"),
    Prop("hs_meeting_location", "Location", "city", 0.4, "meeting"),
    Prop(
        "hs_meeting_outcome",
        "Meeting outcome",
        "enum",
        0.7,
        "meeting",
        _opts("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
    ),
)
CALLS = _engagement(
    Prop("hs_call_title", "Call Title", "title", 0.9, "call"),
    Prop("hs_call_body", "Call notes", "longtext", 0.6, "call"),
    Prop("hs_call_duration", "Call duration (ms)", "int", 0.9, "call"),
    Prop("hs_call_direction", "Call direction", "enum", 1.0, "call", _opts("INBOUND", "OUTBOUND")),
    Prop(
        "hs_call_status",
        "Call status",
        "enum",
        1.0,
        "call",
        _opts("COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED"),
    ),
    Prop("hs_call_to_number", "To Number", "phone", 0.8, "call"),
    Prop("hs_call_from_number", "From Number", "phone", 0.8, "call"),
)
EMAILS = _engagement(
    Prop("hs_email_subject", "Email subject", "title", 1.0, "email"),
    Prop("hs_email_text", "Email body", "longtext", 0.9, "email"),
    Prop(
        "hs_email_direction",
        "Email direction",
        "enum",
        1.0,
        "email",
        _opts("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
    ),
    Prop(
        "hs_email_status",
        "Email send status",
        "enum",
        0.9,
        "email",
        _opts("SENT", "BOUNCED", "FAILED", "SCHEDULED"),
    ),
    Prop("hs_email_sender_email", "From email", "email", 0.9, "email"),
    Prop("hs_email_to_email", "To email", "email", 0.9, "email"),
)

STANDARD_CATALOG: dict[str, tuple[Prop, ...]] = {
    "0-1": CONTACTS, "0-2": COMPANIES, "0-3": DEALS, "0-5": TICKETS, "0-7": PRODUCTS, "0-8": LINE_ITEMS,
    "0-27": TASKS, "0-46": NOTES, "0-47": MEETINGS, "0-48": CALLS, "0-49": EMAILS,
}  # fmt: skip

# Total live property counts per type (curated + filler); `wide` raises deals to WIDE_DEALS.
TARGET_COUNTS: dict[str, int] = {
    "0-1": 320, "0-2": 180, "0-3": 140, "0-5": 110, "0-7": 40, "0-8": 40,
    "0-27": 35, "0-46": 30, "0-47": 35, "0-48": 35, "0-49": 35,
}  # fmt: skip
WIDE_DEALS = 950
CUSTOM_TARGET = 25


@dataclass(frozen=True)
class CustomTypeSpec:
    """A custom object type: API names and its own properties (the system ones are added)."""

    name: str  # plural API name, also the schema name
    singular: str
    label_singular: str
    label_plural: str
    primary: str
    props: tuple[Prop, ...]
    associated_with: tuple[str, ...]  # other type ids (standard, or "custom:<name>")


CUSTOM_TYPES: tuple[CustomTypeSpec, ...] = (
    CustomTypeSpec(
        "vehicles",
        "vehicle",
        "Vehicle",
        "Vehicles",
        "vehicle_name",
        (
            Prop("vehicle_name", "Vehicle name", "title", 1.0, "vehicle_information", hubspot_defined=False),
            Prop("vin", "VIN", "sku", 0.95, "vehicle_information", hubspot_defined=False, unique=True),
            Prop(
                "make",
                "Make",
                "enum",
                0.9,
                "vehicle_information",
                _opts("toyota", "ford", "vw", "tesla", "skoda"),
                hubspot_defined=False,
            ),
            Prop("model", "Model", "text", 0.8, "vehicle_information", hubspot_defined=False),
            Prop("year", "Year", "int", 0.9, "vehicle_information", hubspot_defined=False),
            Prop("purchase_date", "Purchase date", "date", 0.6, "vehicle_information", hubspot_defined=False),
            Prop("mileage", "Mileage", "int", 0.5, "vehicle_information", hubspot_defined=False),
            Prop(
                "features",
                "Features",
                "multi",
                0.4,
                "vehicle_information",
                _opts("sunroof", "tow_hitch", "heated_seats", "awd"),
                hubspot_defined=False,
            ),
        ),
        ("0-1", "0-2"),
    ),
    CustomTypeSpec(
        "shipments",
        "shipment",
        "Shipment",
        "Shipments",
        "shipment_name",
        (
            Prop(
                "shipment_name", "Shipment name", "title", 1.0, "shipment_information", hubspot_defined=False
            ),
            Prop(
                "tracking_number",
                "Tracking number",
                "sku",
                0.9,
                "shipment_information",
                hubspot_defined=False,
                unique=True,
            ),
            Prop(
                "carrier",
                "Carrier",
                "enum",
                0.9,
                "shipment_information",
                _opts("ups", "fedex", "dhl", "an_post"),
                hubspot_defined=False,
            ),
            Prop("weight_kg", "Weight (kg)", "money", 0.7, "shipment_information", hubspot_defined=False),
            Prop("shipped_at", "Shipped at", "datetime", 0.8, "shipment_information", hubspot_defined=False),
            Prop("delivered", "Delivered", "bool", 0.8, "shipment_information", hubspot_defined=False),
            Prop("notes", "Notes", "longtext", 0.3, "shipment_information", hubspot_defined=False),
        ),
        ("0-1", "0-3", "custom:vehicles"),
    ),
)

# Custom types that `advance()` creates, in order, every other schema-change day.
LATER_CUSTOM_TYPES: tuple[CustomTypeSpec, ...] = tuple(
    CustomTypeSpec(
        name, singular, singular.capitalize(), name.capitalize(), f"{singular}_name",
        (
            Prop(f"{singular}_name", f"{singular.capitalize()} name", "title", 1.0, f"{singular}_information", hubspot_defined=False),
            Prop("status", "Status", "enum", 0.8, f"{singular}_information", _opts("planned", "active", "done"), hubspot_defined=False),
            Prop("budget", "Budget", "money", 0.5, f"{singular}_information", hubspot_defined=False),
            Prop("due_date", "Due date", "date", 0.5, f"{singular}_information", hubspot_defined=False),
        ),
        ("0-1", "0-2"),
    )
    for name, singular in (("projects", "project"), ("contracts", "contract"), ("warranties", "warranty"),
                           ("assets", "asset"), ("licenses", "license"), ("venues", "venue"))
)  # fmt: skip
