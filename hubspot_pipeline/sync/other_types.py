"""The export's object types that HubSpot serves outside the objects API: what each is read from and how
its records become index-shaped rows.

HubSpot's S3 export lists marketing emails, campaigns, CMS pages, blog posts, forms, form submissions,
sequences and deal splits among its object types, but `/crm/v3/objects/{type}` does not serve them: each
has an API of its own (`OTHER_TYPES`, with the doc page each follows). Their records are flattened into
the CRM index's row shape (object id, created/updated/archived times, a map of string properties), so
OBJECTS_<TYPE> and the combined tables project them like any other type (`sync.other_objects`).

Flattening, the one rule for every such type (README, "Object types"):
- every top-level field the type lists (`fields`) is a property of that name; a nested object or array
  is its JSON text; a `properties` object (campaigns, deal splits) contributes its entries instead;
- top-level fields the list does not name go, as one JSON object, into `additional_fields`, so a field
  HubSpot adds is kept (and can be listed later) rather than lost;
- OBJECTID is HubSpot's id when numeric. Campaigns, forms and form submissions have UUIDs: their OBJECTID
  is the UUID's first 63 bits as an integer (`uuid_object_id`), and the UUID itself is the `id` property
  (`conversionId` for a submission). A submission with no conversionId gets a hash of its form, time
  and values.

None of these APIs serves property history: OBJECT_PROPERTIES_HISTORY holds each value as of the day,
timestamped with the record's updatedAt (the manifests say so).

`UNREACHABLE_TYPES` are the export's other types that a private app cannot read (no public read API, or
one limited to app developer accounts): each run reports them as NOT_AVAILABLE with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline.sync.object_types import ObjectTypeInfo

ADDITIONAL_FIELDS = "additional_fields"

# how a type's records are listed (`sync.other_objects`)
LISTING = "listing"  # one paged GET of the whole type
PER_FORM = "per_form"  # form submissions: one paged GET per form, newest first
PER_USER = "per_user"  # sequences: one paged GET per HubSpot user (userId is required)
PER_DEAL = "per_deal"  # deal splits: a batch read per 100 deal ids


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"  # HubSpot property types: string, number, datetime, bool
    label: str | None = None


@dataclass(frozen=True)
class OtherType:
    info: ObjectTypeInfo
    read: str  # LISTING, PER_FORM, PER_USER or PER_DEAL
    path: str
    doc: str  # the HubSpot page the reader follows
    fields: tuple[Field, ...]
    page_size: int = 100
    # the query parameter that keeps records updated after a time, if the API has one
    updated_after: str | None = None
    # whether `archived=true` lists the archived (deleted, restorable) records
    archived_listing: bool = False
    # listed newest-updated first with this `sort`, so a daily read stops at the last one seen
    newest_first_sort: str | None = None
    # extra query parameters of every listing call
    params: tuple[tuple[str, str], ...] = ()
    # re-read whole only every HUBSPOT_DEFINITIONS_REFRESH_DAYS days (no change feed, rarely changes)
    on_cadence: bool = False

    @property
    def type_id(self) -> str:
        return self.info.type_id

    def property_definitions(self) -> list[dict[str, Any]]:
        """The type's properties in the shape of HubSpot's properties API (the PROPERTIES table)."""
        group = f"{self.info.singular}_fields"
        names = [*self.fields, Field(ADDITIONAL_FIELDS, label="Fields not listed above (JSON)")]
        return [
            {
                "name": f.name,
                "label": f.label or f.name,
                "type": f.type,
                "fieldType": _FIELD_TYPES[f.type],
                "groupName": group,
                "description": f"{f.name} as {self.path} returns it",
                "displayOrder": i,
                "hasUniqueValue": f.name in ("id", "conversionId"),
                "hubspotDefined": True,
                "calculated": False,
                "hidden": False,
                "archived": False,
            }
            for i, f in enumerate(names)
        ]

    def flatten(self, record: Mapping[str, Any], **extra: str) -> dict[str, str]:
        """The record's properties as strings (see the module docstring), plus `extra` ones."""
        known = {f.name for f in self.fields}
        out: dict[str, str] = {}
        rest: dict[str, Any] = {}
        for key, value in record.items():
            if key == "properties" and isinstance(value, Mapping):
                for name, inner in value.items():
                    text = _text(inner)
                    if text is not None:
                        out[str(name)] = text
            elif key in known:
                text = _text(value)
                if text is not None:
                    out[key] = text
            elif value is not None:
                rest[key] = value
        if rest:
            out[ADDITIONAL_FIELDS] = _json(rest)
        out.update(extra)
        return out


_FIELD_TYPES = {"string": "text", "number": "number", "datetime": "date", "bool": "booleancheckbox"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return _json(value)
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def uuid_object_id(value: str) -> int:
    """A UUID's first 63 bits as an int64 (OBJECTID of a type whose ids are UUIDs)."""
    digits = value.replace("-", "")
    try:
        return int(digits[:16], 16) & 0x7FFF_FFFF_FFFF_FFFF
    except ValueError:
        return digest_object_id(value)


def digest_object_id(*parts: str) -> int:
    """A stable int64 for a record HubSpot gives no usable id (sha256 of its identifying parts)."""
    raw = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(raw[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def object_id(value: Any) -> int:
    """OBJECTID of an id as HubSpot returns it: the number itself, else `uuid_object_id`."""
    text = str(value)
    return int(text) if text.isdigit() else uuid_object_id(text)


def _info(
    tid: str, name: str, singular: str, label: str, labels: str, display: str, scope: str
) -> ObjectTypeInfo:
    return ObjectTypeInfo(tid, name, singular, label, labels, name, False, display, read_scope=scope)


def _fields(*spec: str) -> tuple[Field, ...]:
    """Fields from `name` or `name:type` strings."""
    return tuple(Field(*s.split(":", 1)) if ":" in s else Field(s) for s in spec)


_TIMES = ("createdAt:datetime", "updatedAt:datetime")
_CMS_PAGE_FIELDS = _fields(
    "id", "name", "slug", "state", "currentState", "htmlTitle", "metaDescription", "domain", "url", "language",
    "authorName", "campaign", "publishDate:datetime", "currentlyPublished:bool", "templatePath",
    "archivedAt:datetime", "archivedInDashboard:bool", "contentGroupId", "subcategory", "pageRedirected:bool",
    "created:datetime", "updated:datetime",  # the CMS APIs' names for createdAt and updatedAt
)  # fmt: skip
_CMS = "https://developers.hubspot.com/docs/api-reference/latest/cms/pages/guide"

OTHER_TYPES: tuple[OtherType, ...] = (
    OtherType(
        _info("0-29", "marketing_emails", "marketing_email", "Marketing email", "Marketing emails", "name",
              "content"),
        LISTING, "/marketing/v3/emails",
        "https://developers.hubspot.com/docs/api-reference/latest/marketing/emails/marketing-emails/guide",
        _fields("id", "name", "subject", "state", "type", "subcategory", "campaign", "campaignName",
                "publishDate:datetime", "isPublished:bool", "language", "activeDomain", "archived:bool",
                "from", "to", "content", "webversion", "subscriptionDetails", "businessUnitId", *_TIMES),
        updated_after="updatedAfter", archived_listing=True,
    ),
    OtherType(
        _info("0-35", "campaigns", "campaign", "Campaign", "Campaigns", "hs_name", "marketing.campaigns.read"),
        LISTING, "/marketing/v3/campaigns",
        "https://developers.hubspot.com/docs/api-reference/latest/marketing/campaigns/guide",
        _fields("id", "hs_name", "hs_start_date", "hs_end_date", "hs_notes", "hs_audience", "hs_currency_code",
                "hs_campaign_status", "hs_owner", "hs_color_hex", "hs_utm", "hs_goal", "hs_budget_items_sum_amount",
                "hs_spend_items_sum_amount", "businessUnits", *_TIMES),
        newest_first_sort="-updatedAt",
        params=(("properties", "hs_name,hs_start_date,hs_end_date,hs_notes,hs_audience,hs_currency_code,"
                 "hs_campaign_status,hs_owner,hs_color_hex,hs_utm,hs_goal,hs_budget_items_sum_amount,"
                 "hs_spend_items_sum_amount"),),
    ),
    OtherType(
        _info("0-25", "landing_pages", "landing_page", "Landing page", "Landing pages", "name", "content"),
        LISTING, "/cms/v3/pages/landing-pages", _CMS, _CMS_PAGE_FIELDS,
        updated_after="updatedAfter", archived_listing=True,
    ),
    OtherType(
        _info("0-38", "site_pages", "site_page", "Website page", "Website pages", "name", "content"),
        LISTING, "/cms/v3/pages/site-pages", _CMS, _CMS_PAGE_FIELDS,
        updated_after="updatedAfter", archived_listing=True,
    ),
    OtherType(
        _info("0-39", "blog_posts", "blog_post", "Blog post", "Blog posts", "name", "content"),
        LISTING, "/cms/v3/blogs/posts",
        "https://developers.hubspot.com/docs/api-reference/latest/cms/blogs/blog-posts/guide",
        (*_CMS_PAGE_FIELDS, *_fields("blogAuthorId", "postSummary", "tagIds", "featuredImage")),
        updated_after="updatedAfter", archived_listing=True,
    ),
    OtherType(
        _info("0-28", "forms", "form", "Form", "Forms", "name", "forms"),
        LISTING, "/marketing/v3/forms",
        "https://developers.hubspot.com/docs/api-reference/latest/marketing/forms/guide",
        _fields("id", "name", "formType", "archived:bool", "fieldGroups", "configuration", "displayOptions",
                "legalConsentOptions", *_TIMES),
        page_size=50, archived_listing=True, params=(("formTypes", "all"),),  # the default is "hubspot" only
    ),
    OtherType(
        _info("0-15", "form_submissions", "form_submission", "Form submission", "Form submissions",
              "conversionId", "forms"),
        PER_FORM, "/form-integrations/v1/submissions/forms/{form_id}",
        "https://developers.hubspot.com/docs/api-reference/legacy/forms-v2/guide",
        _fields("conversionId", "submittedAt:datetime", "values", "pageUrl", "form_id"),
        page_size=50,
    ),
    OtherType(
        _info("0-58", "sequences", "sequence", "Sequence", "Sequences", "name", "automation.sequences.read"),
        PER_USER, "/automation/v4/sequences",
        "https://developers.hubspot.com/docs/api-reference/latest/automation/sequences/guide",
        _fields("id", "name", "userId", "folderId", "steps", "settings", "dependencies", *_TIMES),
        on_cadence=True,
    ),
    OtherType(
        _info("0-72", "deal_splits", "deal_split", "Deal split", "Deal splits", "hs_deal_split_percentage",
              "crm.dealsplits.read_write"),
        PER_DEAL, "/crm/v3/objects/deals/splits/batch/read",
        "https://developers.hubspot.com/docs/api-reference/latest/crm/objects/deal-splits/guide",
        _fields("id", "deal_id", "hs_deal_split_percentage", "hubspot_owner_id", "archived:bool", *_TIMES),
    ),
)  # fmt: skip

OTHER_BY_ID: dict[str, OtherType] = {t.type_id: t for t in OTHER_TYPES}

# The export's other types no private app can read, with why (README, "Object types").
UNREACHABLE_TYPES: tuple[tuple[ObjectTypeInfo, str], ...] = tuple(
    (_info(tid, name, singular, label, labels, "name", ""), why)
    for tid, name, singular, label, labels, why in (
        ("0-30", "ad_accounts", "ad_account", "Ad account", "Ad accounts", "HubSpot has no public read API for ads"),
        ("0-31", "ad_campaigns", "ad_campaign", "Ad campaign", "Ad campaigns", "HubSpot has no public read API for ads"),
        ("0-32", "ad_groups", "ad_group", "Ad group", "Ad groups", "HubSpot has no public read API for ads"),
        ("0-33", "ads", "ad", "Ad", "Ads", "HubSpot has no public read API for ads"),
        ("0-57", "media_bridge", "media_bridge", "Media bridge", "Media bridge",
         "the media bridge API serves only apps of a developer account, not a private app"),
        ("0-83", "sales_documents", "sales_document", "Sales document", "Sales documents",
         "HubSpot has no public read API for sales documents"),
    )
)  # fmt: skip


def sequence_users(owners: list[dict] | None) -> list[str]:
    """The user ids sequences are read for (HubSpot lists sequences per user): the owners' users,
    numeric order."""
    users = {str(o["userId"]) for o in owners or [] if o.get("userId") is not None}
    return sorted(users, key=lambda u: (0, int(u), "") if u.isdigit() else (1, 0, u))
