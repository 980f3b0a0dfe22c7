"""Owners, teams, users and pipelines: the account's small reference data."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .rng import Rng, stable_hash
from .timefmt import iso_ms
from .vocab import FIRST_NAMES, LAST_NAMES

OWNER_COUNTS = {"tiny": 6, "small": 25, "medium": 80, "large": 200}
TEAM_NAMES = ("Sales EMEA", "Sales NA", "Customer Success", "Support, Tier 1", "Marketing", "Partnerships",
              "Onboarding", "Renewals", "Enterprise", "SMB", "Solutions", "Ops")  # fmt: skip
ROLES = (("7001", "Sales Rep"), ("7002", "Sales Manager"), ("7003", "Support Agent"), ("7004", "Admin"))


@lru_cache(maxsize=4096)  # names come from small vocabularies; emails and domains draw them constantly
def ascii_handle(text: str) -> str:
    """Lower-case ASCII letters of a name (for email addresses)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "user"


@dataclass(frozen=True)
class Owner:
    """One owner; archived owners keep their user id only in `userIdIncludingInactive`."""

    id: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    archived: bool
    created_ms: int
    updated_ms: int
    team_ids: tuple[int, ...]  # first one is the primary team


@dataclass(frozen=True)
class Team:
    """A team of users."""

    id: int
    name: str


class Directory:
    """Owners, their users and teams; deterministic from the seed and scale."""

    def __init__(self, seed: int, scale: str, start_ms: int, first_ms: int) -> None:
        rng = Rng(stable_hash("owners", seed))
        n_teams = {"tiny": 2, "small": 4, "medium": 8, "large": 12}[scale]
        self.teams_: list[Team] = [Team(400_001 + 17 * i, TEAM_NAMES[i]) for i in range(n_teams)]
        self.owners_: list[Owner] = []
        n = OWNER_COUNTS[scale]
        for i in range(n):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = first_ms + rng.below(max(1, (start_ms - first_ms) // 2))
            archived = i % 6 == 5  # one in six owners has left the company
            updated = created + rng.below(max(1, start_ms - created - 1))
            teams: tuple[int, ...] = ()
            if rng.chance(0.85):
                primary = rng.choice(self.teams_).id
                extra = [t.id for t in self.teams_ if t.id != primary and rng.chance(0.15)]
                teams = (primary, *extra)
            self.owners_.append(
                Owner(
                    id=61_000_000 + 1_009 * i + rng.below(1_000),
                    user_id=9_100_000 + 37 * i + rng.below(30),
                    email=f"{ascii_handle(first)}.{ascii_handle(last)}{i}@sandbox-corp.example.com",
                    first_name=first,
                    last_name=last,
                    archived=archived,
                    created_ms=created,
                    updated_ms=updated,
                    team_ids=teams,
                )
            )
        self.live_owner_ids: tuple[int, ...] = tuple(o.id for o in self.owners_ if not o.archived)
        self.all_owner_ids: tuple[int, ...] = tuple(o.id for o in self.owners_)
        self.live_user_ids: tuple[int, ...] = tuple(o.user_id for o in self.owners_ if not o.archived)
        self._team_names = {t.id: t.name for t in self.teams_}

    def owner_dicts(self, archived: bool) -> list[dict]:
        """API owner dicts (`/crm/v3/owners`), live or only archived ones."""
        out = []
        for o in self.owners_:
            if o.archived != archived:
                continue
            out.append(
                {
                    "id": str(o.id),
                    "email": o.email,
                    "firstName": o.first_name,
                    "lastName": o.last_name,
                    "userId": None if o.archived else o.user_id,
                    "userIdIncludingInactive": o.user_id,
                    "type": "PERSON",
                    "createdAt": iso_ms(o.created_ms),
                    "updatedAt": iso_ms(o.updated_ms),
                    "archived": o.archived,
                    "teams": [
                        {"id": str(t), "name": self._team_names[t], "primary": k == 0}
                        for k, t in enumerate(o.team_ids)
                    ],
                }
            )
        return out

    def team_dicts(self) -> list[dict]:
        """Settings API teams with primary (`userIds`) and secondary members (active users only)."""
        out = []
        for t in self.teams_:
            primary = [str(o.user_id) for o in self.owners_ if not o.archived and o.team_ids[:1] == (t.id,)]
            secondary = [str(o.user_id) for o in self.owners_ if not o.archived and t.id in o.team_ids[1:]]
            out.append({"id": str(t.id), "name": t.name, "userIds": primary, "secondaryUserIds": secondary})
        return out

    def user_dicts(self) -> list[dict]:
        """Settings API users: one per active owner."""
        out = []
        for k, o in enumerate(o for o in self.owners_ if not o.archived):
            role_id = ROLES[k % len(ROLES)][0]
            out.append(
                {
                    "id": str(o.user_id),
                    "email": o.email,
                    "firstName": o.first_name,
                    "lastName": o.last_name,
                    "roleId": role_id,
                    "roleIds": [role_id],
                    "primaryTeamId": str(o.team_ids[0]) if o.team_ids else None,
                    "secondaryTeamIds": [str(t) for t in o.team_ids[1:]],
                    "superAdmin": k == 0,
                    "seatNames": ["core"],
                    "sendWelcomeEmail": False,
                }
            )
        return out

    def role_dicts(self) -> list[dict]:
        """Settings API roles."""
        return [{"id": rid, "name": name, "requiresBillingWrite": rid == "7004"} for rid, name in ROLES]


@dataclass(frozen=True)
class Stage:
    """A pipeline stage with HubSpot's string metadata."""

    id: str
    label: str
    metadata: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pipeline:
    """A deal or ticket pipeline."""

    id: str
    label: str
    stages: tuple[Stage, ...]


def _deal_stage(sid: str, label: str, probability: str, closed: bool) -> Stage:
    return Stage(sid, label, (("isClosed", "true" if closed else "false"), ("probability", probability)))


def _ticket_stage(sid: str, label: str, state: str) -> Stage:
    return Stage(sid, label, (("ticketState", state),))


def build_pipelines(portal_id: int) -> dict[str, tuple[Pipeline, ...]]:
    """Deal and ticket pipelines: HubSpot's defaults plus one custom pipeline each (numeric ids)."""
    base = 10_000 + portal_id % 90_000
    deals = (
        Pipeline("default", "Sales Pipeline", (
            _deal_stage("appointmentscheduled", "Appointment Scheduled", "0.2", False),
            _deal_stage("qualifiedtobuy", "Qualified To Buy", "0.4", False),
            _deal_stage("presentationscheduled", "Presentation Scheduled", "0.6", False),
            _deal_stage("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
            _deal_stage("contractsent", "Contract Sent", "0.9", False),
            _deal_stage("closedwon", "Closed Won", "1.0", True),
            _deal_stage("closedlost", "Closed Lost", "0.0", True),
        )),
        Pipeline(str(base * 1000 + 1), "Renewals, EMEA", (
            _deal_stage(str(base * 1000 + 11), "Renewal due", "0.5", False),
            _deal_stage(str(base * 1000 + 12), "Quote sent", "0.75", False),
            _deal_stage(str(base * 1000 + 13), "Renewed", "1.0", True),
            _deal_stage(str(base * 1000 + 14), "Churned", "0.0", True),
        )),
    )  # fmt: skip
    tickets = (
        Pipeline("0", "Support Pipeline", (
            _ticket_stage("1", "New", "OPEN"),
            _ticket_stage("2", "Waiting on contact", "OPEN"),
            _ticket_stage("3", "Waiting on us", "OPEN"),
            _ticket_stage("4", "Closed", "CLOSED"),
        )),
        Pipeline(str(base * 1000 + 2), "Onboarding", (
            _ticket_stage(str(base * 1000 + 21), "Kick-off", "OPEN"),
            _ticket_stage(str(base * 1000 + 22), "Configuring", "OPEN"),
            _ticket_stage(str(base * 1000 + 23), "Live", "CLOSED"),
        )),
    )  # fmt: skip
    return {"0-3": deals, "0-5": tickets}


def pipeline_dict(p: Pipeline, order: int, created_ms: int) -> dict:
    """API Pipeline dict with its stages."""
    stamp = iso_ms(created_ms)
    return {
        "id": p.id,
        "label": p.label,
        "displayOrder": order,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": s.id,
                "label": s.label,
                "displayOrder": k,
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "metadata": dict(s.metadata),
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for k, s in enumerate(p.stages)
        ],
    }
