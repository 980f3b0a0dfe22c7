"""Behavioural events: standard and custom event types, per-record occurrences, occurrence dicts.

Occurrences are generated from the record's seed (no storage) for the base account; events added
by `advance()` live in the record's overlay. Contacts' activity properties
(`hs_analytics_last_visit_timestamp`, ...) are derived from the same occurrences, so each equals
the latest occurrence of its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Prop
from .properties import make_spec, property_dict
from .rng import Rng, combine, stable_hash
from .timefmt import iso_ms
from .vocab import HOSTILE_STRINGS, URL_PATHS, WORDS

STANDARD_EVENTS: tuple[str, ...] = (
    "e_visited_page",
    "e_opened_email",
    "e_clicked_link_in_email",
    "e_submitted_form",
    "e_delivered_email",
)
# Listed by the event-types endpoint (HubSpot lists every type) but never occurring here.
QUIET_EVENTS: tuple[str, ...] = ("e_booked_meeting", "e_viewed_document", "e_enrolled_in_sequence")

EVENTS_KEY = stable_hash("events")


@dataclass(frozen=True)
class CustomEvent:
    """A custom behavioural event definition (`pe<portal>_<name>`)."""

    name: str
    label: str
    object_type_id: str  # the CRM type its occurrences attach to
    props: tuple[Prop, ...]


CUSTOM_EVENTS: tuple[CustomEvent, ...] = (
    CustomEvent("trial_started", "Trial started", "0-1", (
        Prop("plan", "Plan", "enum", 1.0, options=("starter", "pro", "enterprise"), hubspot_defined=False),
        Prop("seats", "Seats", "int", 1.0, hubspot_defined=False),
    )),
    CustomEvent("feature_used", "Feature used", "0-1", (
        Prop("feature", "Feature", "text", 1.0, hubspot_defined=False),
        Prop("duration_ms", "Duration (ms)", "int", 1.0, hubspot_defined=False),
    )),
    CustomEvent("invoice_paid", "Invoice paid", "0-2", (
        Prop("invoice_number", "Invoice number", "text", 1.0, hubspot_defined=False),
        Prop("amount", "Amount", "money", 1.0, hubspot_defined=False),
        Prop("currency", "Currency", "enum", 1.0, options=("USD", "EUR"), hubspot_defined=False),
    )),
)  # fmt: skip


class EventCatalog:
    """Event types of one account and how occurrences are drawn for a record."""

    def __init__(self, portal_id: int, defined_ms: int) -> None:
        self.portal_id = portal_id
        self.defined_ms = defined_ms
        self.custom_names = tuple(f"pe{portal_id}_{e.name}" for e in CUSTOM_EVENTS)
        # (event type name, weight) per CRM type that has occurrences
        self.kinds: dict[str, tuple[tuple[str, int], ...]] = {
            "0-1": (
                ("e_visited_page", 50), ("e_delivered_email", 14), ("e_opened_email", 14),
                ("e_clicked_link_in_email", 8), ("e_submitted_form", 5),
                (self.custom_names[0], 5), (self.custom_names[1], 4),
            ),
            "0-2": ((self.custom_names[2], 1),),
        }  # fmt: skip
        self._custom_by_name = dict(zip(self.custom_names, CUSTOM_EVENTS, strict=True))

    def event_types(self) -> list[str]:
        """Every event type name, standard first."""
        return [*STANDARD_EVENTS, *QUIET_EVENTS, *self.custom_names]

    def definitions(self) -> list[dict]:
        """API ExternalBehavioralEventTypeDefinition dicts of the custom events."""
        out = []
        for k, (fqn, ev) in enumerate(self._custom_by_name.items()):
            stamp = iso_ms(self.defined_ms + k * 86_400_000)
            out.append(
                {
                    "id": str(3_100_000 + k),
                    "name": ev.name,
                    "fullyQualifiedName": fqn,
                    "labels": {"singular": ev.label, "plural": f"{ev.label} events"},
                    "objectTypeId": f"6-{3_100_000 + k}",
                    "primaryObject": "CONTACT" if ev.object_type_id == "0-1" else "COMPANY",
                    "description": f"{ev.label}, sent by the product",
                    "trackingType": "MANUAL",
                    "archived": False,
                    "properties": [
                        property_dict(make_spec(f"6-{3_100_000 + k}", p, i, self.defined_ms))
                        for i, p in enumerate(ev.props)
                    ],
                    "associations": [],
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "createdUserId": "9100000",
                }
            )
        return out

    def has_events(self, type_id: str) -> bool:
        """Whether records of this type carry occurrences."""
        return type_id in self.kinds

    def draw_kind(self, type_id: str, rng: Rng) -> str:
        """One event type for a record of `type_id`, by weight."""
        return rng.weighted(self.kinds[type_id])

    def base_events(self, type_id: str, rec_seed: int, lo_ms: int, hi_ms: int) -> list[tuple[int, str, int]]:
        """Occurrences before the clock started: (occurredAt ms, event type, serial), ascending."""
        if type_id not in self.kinds or hi_ms < lo_ms:
            return []
        rng = Rng(combine(rec_seed, EVENTS_KEY))
        r = rng.random()
        if type_id == "0-2":
            n = rng.between(1, 5) if r < 0.2 else 0
        elif r < 0.35:
            n = 0
        elif r < 0.85:
            n = rng.between(1, 6)
        elif r < 0.97:
            n = rng.between(7, 30)
        else:
            n = rng.between(46, 80)  # more than the 45 values contact history keeps
        span = hi_ms - lo_ms + 1
        raw = sorted((lo_ms + rng.below(span), self.draw_kind(type_id, rng)) for _ in range(n))
        return [(ts, kind, serial) for serial, (ts, kind) in enumerate(raw)]

    def occurrence(
        self, type_id: str, record_id: int, rec_seed: int, ts: int, kind: str, serial: int
    ) -> dict:
        """API occurrence dict; properties are strings drawn from the occurrence's own seed."""
        rng = Rng(combine(rec_seed, EVENTS_KEY + 1 + serial))
        a, b = rng.next64(), rng.next64()
        h = f"{a:016x}{b:016x}"
        return {
            "id": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}",
            "eventType": kind,
            "objectType": "CONTACT" if type_id == "0-1" else "COMPANY",
            "objectId": str(record_id),
            "occurredAt": iso_ms(ts),
            "properties": self._properties(kind, rng),
        }

    def _properties(self, kind: str, rng: Rng) -> dict[str, str]:
        campaign = str(rng.between(100_000, 999_999))
        title = rng.choice(HOSTILE_STRINGS) if rng.chance(0.1) else " ".join(rng.sample(WORDS, 3)).title()
        url = f"https://www.sandbox-corp.example.com{rng.choice(URL_PATHS)}"
        if kind == "e_visited_page":
            return {
                "hs_url": url,
                "hs_title": title,
                "hs_referrer": rng.choice(("https://www.google.com/", "", "https://news.ycombinator.com/")),
                "hs_browser": rng.choice(("chrome", "firefox", "safari")),
                "hs_device_type": rng.choice(("computer", "mobile", "tablet")),
                "hs_country": rng.choice(("us", "ie", "de", "jp")),
            }
        if kind in ("e_opened_email", "e_delivered_email"):
            return {"hs_email_campaign_id": campaign, "hs_email_subject": title}
        if kind == "e_clicked_link_in_email":
            return {"hs_email_campaign_id": campaign, "hs_url": url}
        if kind == "e_submitted_form":
            return {"hs_form_id": f"{rng.next64():032x}"[:32], "hs_form_title": title, "hs_page_url": url}
        ev = self._custom_by_name[kind]
        out = {}
        for p in ev.props:
            if p.kind == "enum":
                out[p.name] = rng.choice(p.options)
            elif p.kind == "int":
                out[p.name] = str(rng.between(1, 5000))
            elif p.kind == "money":
                out[p.name] = f"{rng.between(100, 99_999)}.{rng.below(100):02d}"
            else:
                out[p.name] = title if p.name == "feature" else f"INV-{rng.between(10_000, 99_999)}"
        return out
