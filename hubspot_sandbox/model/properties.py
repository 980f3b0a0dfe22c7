"""Property definitions per type: the registry, filler properties, and the API `Property` dict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .catalog import CUSTOM_TARGET, STANDARD_CATALOG, TARGET_COUNTS, WIDE_DEALS, Prop
from .rng import Rng, stable_hash
from .timefmt import iso_ms

# kind -> (API type, fieldType)
KIND_TYPES: dict[str, tuple[str, str]] = {
    "object_id": ("number", "number"),
    "createdate": ("datetime", "date"),
    "lastmodified": ("datetime", "date"),
    "merged_ids": ("enumeration", "checkbox"),
    "owner": ("enumeration", "select"),
    "pipeline": ("enumeration", "select"),
    "stage": ("enumeration", "select"),
    "email": ("string", "text"),
    "firstname": ("string", "text"),
    "lastname": ("string", "text"),
    "phone": ("string", "phonenumber"),
    "company": ("string", "text"),
    "domain": ("string", "text"),
    "website": ("string", "text"),
    "city": ("string", "text"),
    "state": ("string", "text"),
    "country": ("string", "text"),
    "zip": ("string", "text"),
    "address": ("string", "text"),
    "jobtitle": ("string", "text"),
    "title": ("string", "text"),
    "sku": ("string", "text"),
    "text": ("string", "text"),
    "longtext": ("string", "textarea"),
    "int": ("number", "number"),
    "count": ("number", "number"),
    "money": ("number", "number"),
    "percent": ("number", "number"),
    "product_ref": ("number", "number"),
    "date": ("date", "date"),
    "datetime": ("datetime", "date"),
    "enum": ("enumeration", "select"),
    "multi": ("enumeration", "checkbox"),
    "bool": ("bool", "booleancheckbox"),
}

SYSTEM_KINDS = frozenset({"object_id", "createdate", "lastmodified", "merged_ids"})
# Kinds an ordinary "update" change may rewrite (system, derived and activity ones excluded).
UPDATABLE_KINDS = frozenset(KIND_TYPES) - SYSTEM_KINDS - {"pipeline", "product_ref"}

BOOL_OPTIONS: tuple[tuple[str, str], ...] = (("true", "Yes"), ("false", "No"))


def api_types(kind: str) -> tuple[str, str]:
    """(type, fieldType) of a value kind; activity kinds are datetimes."""
    return ("datetime", "date") if kind.startswith("activity:") else KIND_TYPES[kind]


@dataclass(frozen=True, slots=True)
class PropSpec:
    """A property definition plus what the generator needs (kind, fill rate, stable key)."""

    name: str
    label: str
    kind: str
    type: str
    field_type: str
    group: str
    description: str
    options: tuple[tuple[str, str], ...]  # (value, label)
    fill: float
    calculated: bool
    hubspot_defined: bool
    unique: bool
    hidden: bool
    display_order: int
    created_ms: int
    updated_ms: int
    archived_ms: int | None
    key: int  # stable 64-bit key mixed into per-record seeds
    option_values: tuple[str, ...] = field(init=False, repr=False, compare=False)  # values, display order
    drawn: bool = field(init=False, repr=False, compare=False)  # values come from the record's draws

    def __post_init__(self) -> None:
        # Derived once: the generator asks for both with every value it makes.
        object.__setattr__(self, "option_values", tuple(v for v, _ in self.options))
        # System and activity kinds follow from the record (ids, dates, events) and draw nothing.
        object.__setattr__(
            self, "drawn", self.kind not in SYSTEM_KINDS and not self.kind.startswith("activity:")
        )


def make_spec(
    type_id: str, prop: Prop, order: int, created_ms: int, archived_ms: int | None = None
) -> PropSpec:
    """Turn a catalog `Prop` into a `PropSpec` of a given type."""
    ptype, field_type = api_types(prop.kind)
    if prop.kind == "bool":
        options = BOOL_OPTIONS
    else:
        options = tuple((v, v.replace("_", " ").title()) for v in prop.options)
    return PropSpec(
        name=prop.name,
        label=prop.label,
        kind=prop.kind,
        type=ptype,
        field_type=field_type,
        group=prop.group or "custom_properties",
        description=f"{prop.label} of the record" if prop.hubspot_defined else "",
        options=options,
        fill=prop.fill,
        calculated=prop.calculated,
        hubspot_defined=prop.hubspot_defined,
        unique=prop.unique,
        hidden=prop.kind in SYSTEM_KINDS and prop.kind != "createdate",
        display_order=order,
        created_ms=created_ms,
        updated_ms=created_ms,
        archived_ms=archived_ms,
        key=stable_hash("prop", type_id, prop.name),
    )


_FILLER_A = ("preferred", "last", "primary", "secondary", "legacy", "partner", "billing", "renewal", "region",
             "support", "product", "campaign", "account", "signup", "trial", "nps", "churn", "tier", "segment",
             "territory", "referral", "import", "sync", "erp", "crm", "marketing", "custom")  # fmt: skip
_FILLER_B = ("channel", "score", "date", "notes", "status", "owner_email", "code", "count", "flag", "source",
             "category", "level", "reason", "amount", "id", "type", "region", "plan", "language", "rating")  # fmt: skip
# (kind, weight) for filler properties
_FILLER_KINDS = (("text", 30), ("enum", 18), ("int", 8), ("money", 6), ("date", 8), ("datetime", 8),
                 ("bool", 10), ("multi", 5), ("longtext", 4), ("percent", 3))  # fmt: skip
_FILLER_FILLS = (0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7)


def filler_props(type_id: str, count: int, taken: set[str], seed: int) -> list[Prop]:
    """`count` extra properties with realistic names/types; mostly sparse, some calculated."""
    rng = Rng(stable_hash("filler", seed, type_id))
    out: list[Prop] = []
    serial = 0
    while len(out) < count:
        serial += 1
        hs = rng.chance(0.35) and not type_id.startswith(
            "2-"
        )  # custom objects hold no HubSpot-defined filler
        base = f"{rng.choice(_FILLER_A)}_{rng.choice(_FILLER_B)}"
        name = f"hs_{base}" if hs else base
        if name in taken:
            name = f"{name}_{serial}"
        taken.add(name)
        kind = rng.weighted(_FILLER_KINDS)
        options: tuple[str, ...] = ()
        if kind in ("enum", "multi"):
            options = tuple(f"{base}_{i}" for i in range(rng.between(2, 7)))
        label = name.removeprefix("hs_").replace("_", " ").capitalize()
        calculated = kind in ("int", "money", "percent") and rng.chance(0.25)
        out.append(Prop(name, label, kind, rng.choice(_FILLER_FILLS), "", options, calculated, hs))
    return out


@dataclass
class PropertyRegistry:
    """Live and archived property definitions of one object type."""

    type_id: str
    live: dict[str, PropSpec] = field(default_factory=dict)
    archived: list[PropSpec] = field(default_factory=list)
    lastmodified: str = "hs_lastmodifieddate"
    _derived: dict[str, list[PropSpec]] = field(default_factory=dict, repr=False)  # per-kind caches

    def add(self, spec: PropSpec) -> None:
        """Register a live or archived definition."""
        self._derived.clear()
        if spec.archived_ms is None:
            self.live[spec.name] = spec
            if spec.kind == "lastmodified":
                self.lastmodified = spec.name
        else:
            self.archived.append(spec)

    def _cached(self, key: str, pick: Callable[[PropSpec], bool]) -> list[PropSpec]:
        found = self._derived.get(key)
        if found is None:
            found = self._derived[key] = [s for s in self.live.values() if pick(s)]
        return found

    def calculated(self) -> list[PropSpec]:
        """Live calculated properties, in definition order."""
        return self._cached("calculated", lambda s: s.calculated)

    def updatable(self, at_ms: int) -> list[PropSpec]:
        """Live properties an ordinary update may set at `at_ms` (not calculated, system or derived)."""
        specs = self._cached("updatable", lambda s: not s.calculated and s.kind in UPDATABLE_KINDS)
        if not specs or specs[-1].created_ms <= at_ms:  # added in time order: the last is the youngest
            return specs
        return [s for s in specs if s.created_ms <= at_ms]

    def activity(self, event_type: str) -> list[PropSpec]:
        """Live activity properties an occurrence of `event_type` sets (its own and the general one)."""
        kinds = (f"activity:{event_type}", "activity:*")
        return self._cached(f"activity:{event_type}", lambda s: s.kind in kinds)


def build_registry(
    type_id: str,
    catalog: tuple[Prop, ...],
    target: int,
    seed: int,
    defined_ms: int,
    custom_created_ms: int,
    archived_ms: int,
    n_archived: int = 3,
) -> PropertyRegistry:
    """Registry of a type: the curated catalog, filler up to `target`, `n_archived` archived customs.

    HubSpot-defined properties date from `defined_ms`; custom ones from `custom_created_ms`; the
    archived ones were archived at `archived_ms`. All precede every record of the account.
    """
    reg = PropertyRegistry(type_id)
    taken = {p.name for p in catalog}
    props = list(catalog) + filler_props(type_id, max(0, target - len(catalog)), taken, seed)
    for order, prop in enumerate(props):
        created = defined_ms if prop.hubspot_defined else custom_created_ms
        reg.add(make_spec(type_id, prop, order, created))
    for i in range(n_archived):
        old = Prop(f"old_field_{i + 1}", f"Old field {i + 1}", ("text", "enum", "int")[i], 0.0, "",
                   ("a", "b") if i == 1 else (), hubspot_defined=False)  # fmt: skip
        reg.add(make_spec(type_id, old, len(props) + i, custom_created_ms, archived_ms))
    return reg


def standard_target(type_id: str, wide: bool) -> int:
    """How many live properties a standard type carries."""
    return WIDE_DEALS if wide and type_id == "0-3" else TARGET_COUNTS[type_id]


def standard_catalog(type_id: str) -> tuple[Prop, ...]:
    """The curated catalog of a standard type."""
    return STANDARD_CATALOG[type_id]


def custom_target() -> int:
    """How many live properties a custom type carries."""
    return CUSTOM_TARGET


def property_dict(spec: PropSpec, options: tuple[tuple[str, str], ...] | None = None) -> dict:
    """The API `Property` dict (every field of hubspot-api.md §4). `options` overrides dynamic ones."""
    opts = spec.options if options is None else options
    read_only = spec.calculated or spec.kind in SYSTEM_KINDS or spec.kind.startswith("activity:")
    out: dict = {
        "name": spec.name,
        "label": spec.label,
        "type": spec.type,
        "fieldType": spec.field_type,
        "groupName": spec.group,
        "description": spec.description,
        "options": [
            {"label": label, "value": value, "hidden": False, "description": "", "displayOrder": i}
            for i, (value, label) in enumerate(opts)
        ],
        "displayOrder": spec.display_order,
        "calculated": spec.calculated,
        "externalOptions": spec.kind in ("owner", "pipeline", "stage"),
        "hasUniqueValue": spec.unique,
        "hidden": spec.hidden,
        "hubspotDefined": spec.hubspot_defined,
        "formField": spec.type in ("string", "enumeration", "bool") and not read_only,
        "archived": spec.archived_ms is not None,
        "createdAt": iso_ms(spec.created_ms),
        "updatedAt": iso_ms(spec.updated_ms),
        "dataSensitivity": "non_sensitive",
        "modificationMetadata": {
            "archivable": not spec.hubspot_defined,
            "readOnlyDefinition": spec.hubspot_defined,
            "readOnlyValue": read_only,
        },
    }
    if spec.calculated:
        out["calculationFormula"] = "hubspot_calculated"
    if spec.kind == "owner":
        out["referencedObjectType"] = "OWNER"
    if spec.archived_ms is not None:
        out["archivedAt"] = iso_ms(spec.archived_ms)
    if not spec.hubspot_defined:
        out["createdUserId"] = "1000001"
        out["updatedUserId"] = "1000001"
    if spec.type == "number":
        out["showCurrencySymbol"] = spec.kind == "money"
        out["numberDisplayHint"] = "currency" if spec.kind == "money" else "formatted"
    return out
