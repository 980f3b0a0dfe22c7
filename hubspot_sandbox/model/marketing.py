"""The account's marketing and content assets outside the CRM objects API: marketing emails, campaigns,
landing pages, site pages, blog posts, forms and their submissions, sequences, and deal splits.

Truth for tests, without HTTP (`sb.account.marketing` is a `Marketing`):
- `records(kind, archived=False)`: the API dicts of one kind (`KINDS`) in its default list order;
  `archived=True` only the archived ones, `None` both. Campaigns carry every property.
- `submissions(form_id)`: a form's submission dicts, newest first.
- `deal_splits(deal_id)`: one deal's split dicts ([] without splits); `split_deal_ids()` the deals with splits.
- `sequence_user_ids()`: the users owning sequences.

Everything is drawn from streams of its own (`stable_hash("marketing", ...)`), never from the CRM
types' generators, and `advance_day` runs after the CRM types' day: the CRM answers are what they were
before this module existed. Deal splits change only on deals the CRM day already wrote to.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .rng import Rng, stable_hash
from .timefmt import DAY_MS, iso_date, iso_ms
from .vocab import COMPANY_WORDS, FIRST_NAMES, HOSTILE_STRINGS, LAST_NAMES, WORDS

if TYPE_CHECKING:
    from .account import Account

KINDS: tuple[str, ...] = (
    "marketing_emails", "campaigns", "landing_pages", "site_pages", "blog_posts", "forms", "sequences",
)  # fmt: skip
HARD_DELETED = frozenset({"campaigns", "sequences"})  # gone when deleted; the others move to archived
# Records per scale (tiny, small, medium; large ten times medium). Sequences: per owning user.
COUNTS: dict[str, tuple[int, int, int]] = {
    "marketing_emails": (6, 60, 600), "campaigns": (3, 15, 80), "landing_pages": (3, 20, 150),
    "site_pages": (3, 20, 150), "blog_posts": (5, 50, 500), "forms": (2, 8, 40), "submissions": (5, 40, 300),
    "sequences": (1, 2, 3),
}  # fmt: skip
SCALE_INDEX = {"tiny": 0, "small": 1, "medium": 2, "large": 3}
# First ids, HubSpot-looking (11-12 digit content ids, 9 digit sequence ids); kinds never share a range.
ID_BASES = {
    "marketing_emails": 160_100_000_001, "landing_pages": 171_200_000_001, "site_pages": 175_300_000_001,
    "blog_posts": 182_400_000_001, "sequences": 410_000_001,
}  # fmt: skip
SPLIT_ID_BASE = 51_600_000_001
SPLIT_SHARE = 0.1  # deals with splits
SPLIT_SHARES: tuple[tuple[str, ...], ...] = (
    ("0.5", "0.5"), ("0.6", "0.4"), ("0.7", "0.3"), ("0.75", "0.25"),
    ("0.5", "0.3", "0.2"), ("0.4", "0.3", "0.3"), ("0.34", "0.33", "0.33"),
)  # fmt: skip
DOMAIN = "sandbox-corp.example.com"
DOMAINS = {
    "landing_pages": f"info.{DOMAIN}", "site_pages": f"www.{DOMAIN}", "blog_posts": f"blog.{DOMAIN}",
    "marketing_emails": f"info.{DOMAIN}",
}  # fmt: skip
LANGUAGES = (("en", 6), ("de", 2), ("fr", 1), ("ja", 1))
EMAIL_STATES = (("PUBLISHED", 50), ("DRAFT", 25), ("SCHEDULED", 10), ("AUTOMATED", 15))
PAGE_STATES = (("PUBLISHED", 60), ("DRAFT", 30), ("SCHEDULED", 10))
CAMPAIGN_STATUSES = ("planned", "in_progress", "active", "paused", "completed")
THEMES: tuple[str, ...] = (
    "Monthly newsletter", "Product update", "Webinar invite", "Black Friday, 20% off", 'The "big" launch',
    "Café & co. digest", "Onboarding, step 2", "Renewal reminder", "Événement à Zürich", "東京 seminar",
    "Q3 roadmap: what's next", "Kundenbefragung 2026",
)  # fmt: skip
FORM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("email", "Email", "email"), ("firstname", "First name", "single_line_text"),
    ("lastname", "Last name", "single_line_text"), ("company", "Company name", "single_line_text"),
    ("message", "Message", "multi_line_text"),
)  # fmt: skip
TEMPLATES = {
    "marketing_emails": "@hubspot/email/dnd/welcome.html", "landing_pages": "@hubspot/growth/templates/landing-page.html",
    "site_pages": "@hubspot/growth/templates/page.html", "blog_posts": "@hubspot/growth/templates/blog-post.html",
}  # fmt: skip
# CMS `contentTypeCategory` per kind (inferred: HubSpot's numbering of site pages, landing pages, posts).
CONTENT_CATEGORY = {"site_pages": "0", "landing_pages": "1", "blog_posts": "3"}


@dataclass(slots=True)
class Asset:
    """One record of a kind: its id, times (epoch ms; `archived_ms` 0 while live) and other fields."""

    id: str
    created_ms: int
    updated_ms: int
    body: dict[str, Any]
    archived_ms: int = 0


@dataclass(slots=True)
class Split:
    """One deal split: an owner's share of a deal."""

    id: int
    owner_id: int
    share: str
    created_ms: int
    updated_ms: int


@dataclass
class FormSubmissions:
    """A form's submission times (ascending); the k-th submission's values are drawn from (seed, form, k)."""

    times: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def encode_cursor(position: int) -> str:
    """An opaque paging cursor (HubSpot's are base64 of an offset, e.g. `MjA=` for 20)."""
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def decode_cursor(text: str) -> int | None:
    """The position of a cursor, or None when it is not one of ours."""
    try:
        value = base64.urlsafe_b64decode(text.encode()).decode()
        return int(value) if value.isdigit() else None
    except (ValueError, UnicodeDecodeError):
        return None


def _uuid(r: Rng) -> str:
    return str(uuid.UUID(int=(r.next64() << 64) | r.next64(), version=4))


def _awkward(r: Rng, text: str, p: float = 0.15) -> str:
    """Now and then the hostile strings real accounts hold, instead of or after a plain value."""
    if not r.chance(p):
        return text
    return r.choice(HOSTILE_STRINGS) if r.chance(0.5) else f"{text} {r.choice(HOSTILE_STRINGS)}"


def _slug(text: str, serial: int) -> str:
    clean = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower())
    return "-".join(p for p in clean.split("-") if p)[:40] + f"-{serial}"


class Marketing:
    """The non-CRM assets of an account and their daily changes (see the module docstring)."""

    def __init__(self, acct: Account) -> None:
        self.seed = acct.seed
        scale = SCALE_INDEX[acct.scale]
        self.scale = scale
        self.start_ms = acct.start_ms
        self.first_ms = acct.start_ms - 2 * 365 * DAY_MS  # marketing assets are at most two years old
        self.owners = [o for o in acct.directory.owners_ if not o.archived]
        self.assets: dict[str, list[Asset]] = {kind: [] for kind in KINDS}
        self._next_id = dict(ID_BASES)
        self._serial = 0
        for kind in ("campaigns", *(k for k in KINDS if k not in ("campaigns", "sequences"))):
            # campaigns first: the other kinds name them
            n = self.count(kind)
            r = Rng(stable_hash("marketing", self.seed, kind))
            created = sorted(self.first_ms + r.below(self.start_ms - self.first_ms) for _ in range(n))
            for ts in created:
                updated = ts + r.below(max(1, self.start_ms - ts))
                self._make(kind, ts, updated)
        self.sequence_users = self._sequence_users()
        for user in self.sequence_users:
            r = Rng(stable_hash("marketing", self.seed, "sequences", user))
            for _ in range(self.count("sequences")):
                ts = self.first_ms + r.below(self.start_ms - self.first_ms)
                self._make("sequences", ts, ts + r.below(max(1, self.start_ms - ts)), user=user)
        # submissions were made on the day-0 landing pages (a fixed list: later pages change no old answer)
        self._submission_urls = [a.body["url"] for a in self.assets["landing_pages"]] or [
            f"https://www.{DOMAIN}/contact"
        ]
        self.form_submissions: dict[str, FormSubmissions] = {}
        for form in self.assets["forms"]:
            r = Rng(stable_hash("marketing", self.seed, "submissions", form.id))
            n = self.count("submissions")
            times = sorted(
                form.created_ms + r.below(max(1, self.start_ms - form.created_ms)) for _ in range(n)
            )
            self.form_submissions[form.id] = FormSubmissions(np.array(times, dtype=np.int64))
        self.splits: dict[int, list[Split]] = {}
        self._next_split = SPLIT_ID_BASE
        deals = acct.tables["0-3"]
        chosen = [
            int(i) for i in deals.ids[deals.archived == 0].tolist()
            if stable_hash("marketing", self.seed, "split", i) % 1000 < SPLIT_SHARE * 1000
        ]  # fmt: skip
        views = acct.records("0-3", chosen, ["hubspot_owner_id"])
        for deal_id, view in zip(chosen, views, strict=True):
            owner = view.properties.get("hubspot_owner_id") if view else None
            r = Rng(stable_hash("marketing", self.seed, "split", deal_id))
            when = view.created_ms if view else self.start_ms
            self.splits[deal_id] = self._draw_splits(r, int(owner) if owner else None, when)

    # --- construction ----------------------------------------------------------------------------

    def count(self, kind: str) -> int:
        counts = COUNTS[kind]
        if self.scale < 3:
            return counts[self.scale]
        return counts[2] if kind == "sequences" else counts[2] * 10  # large: 3 sequences a user (inferred)

    def _sequence_users(self) -> list[int]:
        """About a third of the active users own sequences (at least one does)."""
        users = [o.user_id for o in self.owners]
        owning = [u for u in users if stable_hash("marketing", self.seed, "seq-user", u) % 3 == 0]
        return owning or users[:1]

    def _id(self, kind: str, r: Rng) -> str:
        if kind in ("campaigns", "forms"):
            return _uuid(r)
        self._next_id[kind] += r.between(1, 997)
        return str(self._next_id[kind])

    def _make(self, kind: str, created_ms: int, updated_ms: int, user: int | None = None) -> Asset:
        self._serial += 1
        r = Rng(stable_hash("marketing", self.seed, kind, "record", self._serial))
        asset = Asset(self._id(kind, r), created_ms, updated_ms, {})
        asset.body = getattr(self, f"_body_{kind}")(r, asset, user)
        self.assets[kind].append(asset)
        return asset

    def _owner(self, r: Rng):
        return r.choice(self.owners)

    def _campaign(self, r: Rng, p: float = 0.6) -> str | None:
        live = self.assets["campaigns"]
        return r.choice(live).id if live and r.chance(p) else None

    def _title(self, r: Rng) -> str:
        return _awkward(r, f"{r.choice(THEMES)} \u2013 {r.choice(WORDS)}")  # an en dash, as editors type

    def _body_marketing_emails(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        state = r.weighted(EMAIL_STATES)
        kind = (
            r.weighted((("BATCH_EMAIL", 8), ("AB_EMAIL", 2))) if state != "AUTOMATED" else "AUTOMATED_EMAIL"
        )
        sub = {"BATCH_EMAIL": "batch", "AB_EMAIL": "ab_master", "AUTOMATED_EMAIL": "automated"}[kind]
        owner = self._owner(r)
        title = self._title(r)
        body: dict[str, Any] = {
            "name": title,
            "subject": _awkward(r, f"{r.choice(FIRST_NAMES)}, {r.choice(THEMES).lower()}", 0.2),
            "state": state,
            "type": kind,
            "subcategory": sub,
            "campaign": self._campaign(r),
            "isPublished": state in ("PUBLISHED", "AUTOMATED"),
            "publishDate": a.created_ms + r.below(DAY_MS * 10) if state != "DRAFT" else None,
            "language": r.weighted(LANGUAGES),
            "activeDomain": DOMAINS["marketing_emails"],
            "from": {"fromName": f"{owner.first_name} {owner.last_name}", "replyTo": owner.email,
                     "customReplyTo": ""},
            "content": {
                "templatePath": TEMPLATES["marketing_emails"],
                "plainTextVersion": _awkward(r, f"Hi {{{{contact.firstname}}}},\n{r.choice(WORDS)} {r.choice(WORDS)}"),
                "widgets": {"hs_email_body": {"id": "hs_email_body", "name": "hs_email_body", "type": "rich_text",
                                              "body": {"html": f"<p>{r.choice(THEMES)}</p>"}}},
            },
        }  # fmt: skip
        return body

    def _body_campaigns(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        start = a.created_ms + r.below(30 * DAY_MS)
        return {
            "hs_name": _awkward(r, f"{r.choice(COMPANY_WORDS)} {r.choice(THEMES)}"),
            "hs_start_date": iso_date(start),
            "hs_end_date": iso_date(start + r.between(7, 120) * DAY_MS) if r.chance(0.8) else None,
            "hs_notes": _awkward(r, f"{r.choice(WORDS)} {r.choice(WORDS)}\n{r.choice(WORDS)}", 0.4) if r.chance(0.6) else None,
            "hs_audience": r.choice(("SMB owners", "Enterprise IT", "Développeurs", "Existing customers, EMEA")),
            "hs_currency_code": r.choice(("USD", "EUR", "GBP")),
            "hs_campaign_status": r.choice(CAMPAIGN_STATUSES),
            "hs_owner": str(self._owner(r).id),
            "hs_color_hex": f"#{r.below(0xFFFFFF):06x}",
            "hs_utm": _slug(r.choice(THEMES), r.below(100)),
        }  # fmt: skip

    def _body_page(self, kind: str, r: Rng, a: Asset) -> dict[str, Any]:
        state = r.weighted(PAGE_STATES)
        name = self._title(r)
        slug = _slug(name, int(a.id) % 10_000)
        domain = DOMAINS[kind]
        owner = self._owner(r)
        return {
            "name": name,
            "slug": slug,
            "state": state,
            "currentState": {"PUBLISHED": "PUBLISHED", "DRAFT": "DRAFT", "SCHEDULED": "SCHEDULED"}[state],
            "htmlTitle": name,
            "metaDescription": _awkward(
                r, f"{r.choice(WORDS)}, {r.choice(WORDS)} and {r.choice(WORDS)}", 0.3
            ),
            "domain": domain,
            "url": f"https://{domain}/{slug}",
            "language": r.weighted(LANGUAGES),
            "authorName": f"{owner.first_name} {owner.last_name}",
            "campaign": self._campaign(r, 0.4),
            "publishDate": a.created_ms + r.below(DAY_MS * 5),
            "currentlyPublished": state == "PUBLISHED",
            "templatePath": TEMPLATES[kind],
            "contentTypeCategory": CONTENT_CATEGORY[kind],
        }

    def _body_landing_pages(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        return {**self._body_page("landing_pages", r, a), "subcategory": "landing_page"}

    def _body_site_pages(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        return {**self._body_page("site_pages", r, a), "subcategory": "site_page"}

    def _body_blog_posts(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        body = self._body_page("blog_posts", r, a)
        body["url"] = f"https://{DOMAINS['blog_posts']}/blog/{body['slug']}"
        body.update(
            subcategory="normal_blog_post",
            contentGroupId=str(90_100_000 + r.below(2)),  # two blogs
            blogAuthorId=str(70_200_000 + r.below(5)),
            postSummary=_awkward(r, f"{r.choice(WORDS)} {r.choice(WORDS)}: {r.choice(THEMES)}", 0.3),
            tagIds=sorted({50_300_000 + r.below(12) for _ in range(r.below(4))}),
        )
        return body

    def _body_forms(self, r: Rng, a: Asset, _user: int | None) -> dict[str, Any]:
        fields = [FORM_FIELDS[0], *r.sample(FORM_FIELDS[1:], r.between(1, len(FORM_FIELDS) - 1))]
        return {
            "name": _awkward(r, f"{r.choice(THEMES)} form", 0.2),
            "formType": "hubspot",
            "fieldGroups": [
                {"groupType": "default_group", "richTextType": "text",
                 "fields": [{"objectTypeId": "0-1", "name": n, "label": label, "required": n == "email",
                             "hidden": False, "fieldType": t} for n, label, t in [f]]}
                for f in fields
            ],
            "configuration": {
                "language": r.weighted(LANGUAGES), "cloneable": True, "editable": True, "archivable": True,
                "recaptchaEnabled": r.chance(0.5), "notifyContactOwner": r.chance(0.3), "notifyRecipients": [],
                "createNewContactForNewEmail": False, "prePopulateKnownValues": True,
                "allowLinkToResetKnownValues": False, "lifecycleStages": [],
                "postSubmitAction": {"type": "thank_you", "value": "Thanks, we'll be in touch!"},
            },
            "displayOptions": {"renderRawHtml": False, "theme": "default_style", "submitButtonText": "Submit",
                               "cssClass": "", "style": {"fontFamily": "arial, helvetica, sans-serif"}},
            "legalConsentOptions": {"type": "none"},
        }  # fmt: skip

    def _body_sequences(self, r: Rng, a: Asset, user: int | None) -> dict[str, Any]:
        return {
            "name": _awkward(
                r, f"{r.choice(('Follow-up', 'Cold outreach', 'Démo', 'Re-engage'))}: {r.choice(WORDS)}"
            ),
            "userId": str(user),
            "folderId": str(8_800_000 + r.below(3)) if r.chance(0.7) else None,
        }

    def _draw_splits(self, r: Rng, deal_owner: int | None, when: int) -> list[Split]:
        shares = r.choice(SPLIT_SHARES)
        others = [o.id for o in self.owners if o.id != deal_owner]
        # the deal's owner always holds a split (HubSpot requires it of every split set)
        owners = ([deal_owner] if deal_owner else []) + r.sample(
            others, len(shares) - (1 if deal_owner else 0)
        )
        out = []
        for owner, share in zip(owners, shares, strict=True):
            self._next_split += r.between(1, 50)
            out.append(Split(self._next_split, owner, share, when, when))
        return out

    # --- reading ---------------------------------------------------------------------------------

    def live(self, kind: str, archived: bool = False) -> list[Asset]:
        """The records of a kind (only the archived ones with `archived`), in creation order."""
        return [a for a in self.assets[kind] if bool(a.archived_ms) == archived]

    def render(self, kind: str, a: Asset, properties: list[str] | None = None) -> dict[str, Any]:
        """The API dict of one record (campaigns: `properties` chooses the properties; None = all)."""
        b = a.body
        if kind == "campaigns":
            names = list(b) if properties is None else [p for p in dict.fromkeys(properties) if p in b]
            return {"id": a.id, "properties": {n: b[n] for n in names}, "createdAt": iso_ms(a.created_ms),
                    "updatedAt": iso_ms(a.updated_ms), "businessUnits": [{"id": 0}]}  # fmt: skip
        if kind == "sequences":
            return {"id": a.id, "name": b["name"], "userId": b["userId"], "folderId": b["folderId"],
                    "createdAt": iso_ms(a.created_ms), "updatedAt": iso_ms(a.updated_ms)}  # fmt: skip
        if kind == "forms":
            out = {"id": a.id, "name": b["name"], "formType": b["formType"], "createdAt": iso_ms(a.created_ms),
                   "updatedAt": iso_ms(a.updated_ms), "archived": bool(a.archived_ms)}  # fmt: skip
            if a.archived_ms:
                out["archivedAt"] = iso_ms(a.archived_ms)
            return {**out, **{k: b[k] for k in ("fieldGroups", "configuration", "displayOptions",
                                                 "legalConsentOptions")}}  # fmt: skip
        if kind == "marketing_emails":
            out = {"id": a.id, **{k: v for k, v in b.items() if v is not None}}
            if "publishDate" in out:
                out["publishDate"] = iso_ms(out["publishDate"])
            out.update(
                createdAt=iso_ms(a.created_ms), updatedAt=iso_ms(a.updated_ms), archived=bool(a.archived_ms)
            )
            return out
        # CMS pages and posts: `created`/`updated` (the docs' names); a live page's archivedAt is the epoch
        # (inferred), a post's is epoch milliseconds (its v3 schema says integer).
        out = {"id": a.id, **{k: v for k, v in b.items() if v is not None}}
        out["publishDate"] = iso_ms(b["publishDate"])
        out.update(created=iso_ms(a.created_ms), updated=iso_ms(a.updated_ms),
                   archivedAt=a.archived_ms if kind == "blog_posts" else iso_ms(a.archived_ms),
                   archivedInDashboard=bool(a.archived_ms))  # fmt: skip
        return out

    def records(self, kind: str, archived: bool | None = False) -> list[dict[str, Any]]:
        """Truth for tests: the API dicts of a kind in its default list order (see the module docstring)."""
        if kind not in KINDS:
            raise KeyError(f"unknown kind {kind!r}; expected one of {KINDS}")
        chosen = self.assets[kind] if archived is None else self.live(kind, archived)
        return [self.render(kind, a) for a in sorted(chosen, key=default_order(kind))]

    def submission(self, form_id: str, k: int) -> dict[str, Any]:
        """The k-th submission (ascending time) of a form."""
        ts = int(self.form_submissions[form_id].times[k])
        r = Rng(stable_hash("marketing", self.seed, "submission", form_id, k))
        form = next(a for a in self.assets["forms"] if a.id == form_id)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        values = []
        for group in form.body["fieldGroups"]:
            for fld in group["fields"]:
                name = fld["name"]
                value = {
                    "email": f"{first.lower()}.{k}@{r.choice(COMPANY_WORDS).lower().replace(' ', '')}.example.org",
                    "firstname": first, "lastname": last, "company": r.choice(COMPANY_WORDS),
                    "message": _awkward(r, f"{r.choice(WORDS)} {r.choice(WORDS)}", 0.5),
                }[name]  # fmt: skip
                values.append({"objectTypeId": "0-1", "name": name, "value": value})
        return {"conversionId": _uuid(r), "submittedAt": ts, "values": values,
                "pageUrl": r.choice(self._submission_urls)}  # fmt: skip

    def submissions(self, form_id: str) -> list[dict[str, Any]]:
        """Truth for tests: a form's submissions newest first (KeyError for an unknown form)."""
        n = len(self.form_submissions[form_id].times)
        return [self.submission(form_id, k) for k in range(n - 1, -1, -1)]

    def split_dict(self, split: Split) -> dict[str, Any]:
        created, updated = iso_ms(split.created_ms), iso_ms(split.updated_ms)
        props = {"hs_createdate": created, "hs_deal_split_percentage": split.share,
                 "hs_lastmodifieddate": updated, "hs_object_id": str(split.id),
                 "hubspot_owner_id": str(split.owner_id)}  # fmt: skip
        return {"id": str(split.id), "properties": props, "createdAt": created, "updatedAt": updated,
                "archived": False}  # fmt: skip

    def deal_splits(self, deal_id: int) -> list[dict[str, Any]]:
        """Truth for tests: one deal's splits ([] when it has none)."""
        return [self.split_dict(s) for s in self.splits.get(int(deal_id), [])]

    def split_deal_ids(self) -> list[int]:
        return sorted(d for d, s in self.splits.items() if s)

    def sequence_user_ids(self) -> list[int]:
        return list(self.sequence_users)

    # --- the day's changes -----------------------------------------------------------------------

    def advance_day(self, acct: Account, day: int, start_ms: int) -> None:
        """A day of changes within [start_ms, start_ms + 1 day), after the CRM types' day was applied."""
        for kind in KINDS:
            self._change_kind(kind, Rng(stable_hash("marketing-day", self.seed, day, kind)), start_ms)
        self._new_submissions(Rng(stable_hash("marketing-day", self.seed, day, "submissions")), start_ms)
        self._change_splits(acct, Rng(stable_hash("marketing-day", self.seed, day, "splits")), start_ms)

    def _change_kind(self, kind: str, r: Rng, start: int) -> None:
        live = self.live(kind)
        n = len(live)
        # one archive or delete a day, never below two live records
        gone = [live.pop(r.below(len(live)))] if n > 2 else []
        for a, ts in zip(gone, self._times(r, len(gone), start), strict=True):
            if kind in HARD_DELETED:
                self.assets[kind].remove(a)
            else:
                a.archived_ms = a.updated_ms = ts
        edited = r.sample(live, max(1, round(n * 0.02)))
        for a, ts in zip(edited, self._times(r, len(edited), start), strict=True):
            self._update(kind, a, r, ts)
        for ts in sorted(self._times(r, max(1, round(n * 0.01)), start)):
            user = r.choice(self.sequence_users) if kind == "sequences" else None
            created = self._make(kind, ts, ts, user=user)
            if kind == "forms":
                self.form_submissions[created.id] = FormSubmissions()

    def _times(self, r: Rng, k: int, start: int) -> list[int]:
        return [start + r.below(DAY_MS) for _ in range(k)]

    def _update(self, kind: str, a: Asset, r: Rng, ts: int) -> None:
        """An edit: one field changes and `updatedAt` moves to its time."""
        b = a.body
        if kind == "campaigns":
            b["hs_campaign_status"] = r.choice(CAMPAIGN_STATUSES)
            b["hs_notes"] = _awkward(r, f"{r.choice(WORDS)}, {r.choice(WORDS)}", 0.5)
        elif kind == "forms":
            b["name"] = _awkward(r, f"{r.choice(THEMES)} form (v{r.between(2, 9)})", 0.2)
        elif kind == "sequences":
            b["name"] = f"{b['name']} v{r.between(2, 9)}"
        else:
            b["name"] = self._title(r)
            if b["state"] == "DRAFT" and r.chance(0.5):
                b["state"] = "PUBLISHED"
                if kind == "marketing_emails":
                    b["isPublished"], b["publishDate"] = True, ts
                else:
                    b["currentState"], b["currentlyPublished"], b["publishDate"] = "PUBLISHED", True, ts
        a.updated_ms = max(a.updated_ms, ts)

    def _new_submissions(self, r: Rng, start: int) -> None:
        """Most live forms take a few submissions a day."""
        per_form = (1, 2, 5, 20)[self.scale]
        for form in self.live("forms"):
            if not r.chance(0.8):
                continue
            subs = self.form_submissions[form.id]
            new = sorted(self._times(r, r.between(1, per_form), start))
            subs.times = np.concatenate([subs.times, np.array(new, dtype=np.int64)])

    def _change_splits(self, acct: Account, r: Rng, start: int) -> None:
        """Splits added or re-shared on some of the deals the CRM day wrote to, at the deal's write time."""
        deals = acct.tables["0-3"]
        touched = np.flatnonzero((deals.updated >= start) & (deals.archived == 0))
        if not len(touched):
            return
        picked = r.sample(touched.tolist(), max(1, round(len(touched) * 0.3)))
        views = acct.records("0-3", [int(deals.ids[i]) for i in picked], ["hubspot_owner_id"])
        for idx, view in zip(picked, views, strict=True):
            deal_id, ts = int(deals.ids[idx]), int(deals.updated[idx])
            current = self.splits.get(deal_id)
            if current and r.chance(0.8):  # re-shared: same owners, new percentages
                shares = r.choice([s for s in SPLIT_SHARES if len(s) == len(current)])
                for split, share in zip(current, shares, strict=True):
                    split.share, split.updated_ms = share, ts
            elif current:  # splits removed: the deal's credit goes back to its owner alone
                self.splits[deal_id] = []
            else:
                owner = view.properties.get("hubspot_owner_id") if view else None
                self.splits[deal_id] = self._draw_splits(r, int(owner) if owner else None, ts)


def default_order(kind: str) -> Callable[[Asset], tuple]:
    """Sort key of a kind's default list order: ascending createdAt for the CMS kinds (the CMS docs' default)
    and for campaigns and forms (inferred), ascending updatedAt for emails (inferred), id for sequences."""
    if kind == "marketing_emails":
        return lambda a: (a.updated_ms, int(a.id))
    if kind == "sequences":
        return lambda a: (int(a.id),)
    return lambda a: (a.created_ms, a.id)
