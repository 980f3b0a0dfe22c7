"""Word lists the generator draws from, including the hostile strings real accounts contain."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Isla", "Jack", "Karen",
    "Liam", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor",
    "Wendy", "Xavier", "Yara", "Zoe", "José", "Zoë", "Łukasz", "François", "Søren", "Małgorzata",
    "Nguyễn", "Иван", "王芳", "Ayşe", "Björn", "Chloé", "Dvořák", "Ólafur", "Siobhán", "Renée",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "O'Brien", "D'Angelo", "Smith, Jr.", "van der Berg", "Müller", "Ñúñez", "Kowalski", "Петров",
    "山田", "Øster", "García-López", "MacDonald", "de la Cruz", "Nakamura", "Schäfer",
)  # fmt: skip

COMPANY_WORDS: tuple[str, ...] = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oscorp", "Massive", "Dynamic", "Blue Sky",
    "Northwind", "Contoso", "Fabrikam", "Zürich", "Nordlys", "Kyōto", "Sol y Mar",
)  # fmt: skip

COMPANY_SUFFIXES: tuple[str, ...] = (
    "Inc.", ", Inc.", "LLC", "Ltd", "GmbH", "AG", "S.A.", "& Co.", "Group", "Holdings", "KK", "",
)  # fmt: skip

DOMAIN_TLDS: tuple[str, ...] = ("com", "io", "net", "org", "de", "co.uk", "fr", "jp")

CITIES: tuple[str, ...] = (
    "Boston", "Cambridge", "New York", "San Francisco", "Dublin", "Berlin", "Paris", "London",
    "Tokyo", "São Paulo", "Zürich", "Kraków", "Montréal", "Reykjavík", "Sydney", "Toronto",
)  # fmt: skip

STATES: tuple[str, ...] = ("MA", "NY", "CA", "TX", "WA", "IL", "Ontario", "Bavaria", "Île-de-France")

COUNTRIES: tuple[str, ...] = (
    "United States", "Ireland", "Germany", "France", "United Kingdom", "Japan", "Brazil",
    "Switzerland", "Poland", "Canada", "Iceland", "Australia",
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "Main St",
    "Elm Street",
    "Rue de Rivoli",
    "Hauptstraße",
    "High Street",
    "Calle Mayor",
)

JOB_TITLES: tuple[str, ...] = (
    "CEO", "CTO", "VP, Sales", "Head of Marketing", "Engineer", "Account Executive",
    "Director of Ops", "Buyer", "Founder & CEO", "Consultant", "Product Manager", "Analyst",
)  # fmt: skip

WORDS: tuple[str, ...] = (
    "alpha", "bravo", "quarterly", "review", "renewal", "pricing", "follow", "up", "demo", "call",
    "contract", "signed", "budget", "approved", "pending", "shipment", "delayed", "invoice",
    "support", "issue", "login", "error", "onboarding", "training", "kickoff", "roadmap", "café",
    "naïve", "résumé", "straße", "東京", "данные", "✓", "feature", "request", "priority",
)  # fmt: skip

DEAL_NOUNS: tuple[str, ...] = ("Renewal", "Expansion", "New Business", "Upsell", "Pilot", "Migration")

TICKET_SUBJECTS: tuple[str, ...] = (
    "Cannot log in", "Invoice question", "Feature request: export", "Bug in report",
    "Password reset", "Integration failing", "Billing, refund request", 'Error "500" on save',
)  # fmt: skip

URL_PATHS: tuple[str, ...] = ("/", "/pricing", "/blog/how-to-sync", "/contact-us", "/docs/api", "/careers")

# Strings that break naive CSV writers, spreadsheets and parsers. They appear as whole values of
# free-text properties now and then, the way users paste them into HubSpot.
HOSTILE_STRINGS: tuple[str, ...] = (
    "Hello, world",
    'She said "hi", then left',
    "line one\nline two",
    "windows line\r\nbreak",
    "tab\tseparated\tvalue",
    "🚀 launch day 🎉",
    "日本語のテキスト",
    "Ελληνικά και русский текст",
    "=SUM(A1:A9)",
    "+1 (555) 010-9999",
    "-42 degrees",
    "@channel please review",
    '"quoted", with comma\nand newline',
    "trailing spaces   ",
    "back\\slash and 'single' quotes",
    "emoji family 👨‍👩‍👧‍👦 and flag 🇮🇪",
    "",
)
