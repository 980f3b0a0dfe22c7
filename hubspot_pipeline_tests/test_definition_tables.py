"""Definition tables in-process: snapshots are fetched once per day, reused by re-runs, and borrowed by
backfills of earlier days with what was created after the day left out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.registry import SPECS
from hubspot_pipeline_tests.fake_http import json_server
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-definitions"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=11, scale="tiny", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        sb.advance(days=3)  # the third day of changes adds a contact property on 2026-11-24
        yield sb


def export(sb: Sandbox, dest: LocalDestination, day: str, table: str, run_id: str = "run-0001"):
    ctx = ExportContext(
        day=date.fromisoformat(day),
        destination=dest,
        run_id=run_id,
        client_factory=lambda: HubSpotClient(sb.base_url, TOKEN),
    )
    return export_spec(ctx, SPECS[table])


def property_names(dest: LocalDestination, day: str) -> set[tuple[str, str]]:
    table = read_table(dest, day, "PROPERTY_DEFINITIONS")
    return set(zip(table.column("OBJECTTYPEID").to_pylist(), table.column("NAME").to_pylist(), strict=True))


def test_snapshots_fetched_once_reused_and_borrowed_by_backfills(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    added = ("0-1", "sandbox_added_day_2")
    live_contacts = {p["name"] for p in sandbox.account.property_definitions("0-1")}
    assert added[1] in live_contacts, "the sandbox added a property on 2026-11-24"

    sandbox.reset_calls()
    # the table it references first, so its blocking check passes and it is published
    types = export(sandbox, dest, "2026-11-24", "OBJECT_AND_EVENT_TYPE_DEFINITIONS")
    first = export(sandbox, dest, "2026-11-24", "PROPERTY_DEFINITIONS")
    fetched = sandbox.total_calls()
    assert fetched > 0 and types.api_calls + first.api_calls == fetched
    assert added in property_names(dest, "2026-11-24")
    assert all(c.passed for c in first.checks if c.name == "primary_key_unique")

    again = export(sandbox, dest, "2026-11-24", "PROPERTY_DEFINITIONS", run_id="run-0002")
    assert again.api_calls == 0 and sandbox.total_calls() == fetched, "a re-run reuses the day's snapshot"

    export(sandbox, dest, "2026-11-23", "OBJECT_AND_EVENT_TYPE_DEFINITIONS")
    backfill = export(sandbox, dest, "2026-11-23", "PROPERTY_DEFINITIONS")
    assert backfill.api_calls == 0 and sandbox.total_calls() == fetched, "a backfill borrows a later snapshot"
    before = property_names(dest, "2026-11-23")
    assert added not in before, "created after the day, so left out of it"
    assert before == property_names(dest, "2026-11-24") - {added}
    notes = read_manifest(dest, "2026-11-23", "PROPERTY_DEFINITIONS")["notes"]
    assert notes == ["definitions taken from the snapshot fetched for 2026-11-24, filtered by creation time"]


def test_reference_check_fails_when_the_referenced_table_is_missing(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    outcome = export(sandbox, dest, "2026-11-23", "OWNER_TEAM")
    refs = {c.name: c for c in outcome.checks if c.name.startswith("references_")}
    assert set(refs) == {"references_owners", "references_teams"}
    assert not refs["references_owners"].passed
    assert "OWNERS has no export for 2026-11-23" in refs["references_owners"].metadata["error"]

    export(sandbox, dest, "2026-11-23", "OWNERS")
    export(sandbox, dest, "2026-11-23", "TEAMS")
    outcome = export(sandbox, dest, "2026-11-23", "OWNER_TEAM", run_id="run-0002")
    assert all(c.passed for c in outcome.checks), outcome.checks
    assert outcome.main.result.rows > 0


def test_reference_check_reports_dangling_rows(sandbox: Sandbox, tmp_path: Path) -> None:
    """A team that vanished from the teams endpoint while owners still name it is caught, with examples."""
    dest = LocalDestination(tmp_path)
    export(sandbox, dest, "2026-11-23", "OWNERS")
    ctx = ExportContext(
        day=date(2026, 11, 23),
        destination=dest,
        run_id="run-0001",
        client_factory=lambda: HubSpotClient(sandbox.base_url, TOKEN),
    )
    teams = ctx.snapshot("teams")
    kept = teams.data[1:]
    ctx.state.save(teams.day, "teams", kept, teams.fetched_at)
    export(sandbox, dest, "2026-11-23", "TEAMS", run_id="run-0002")
    outcome = export(sandbox, dest, "2026-11-23", "OWNER_TEAM", run_id="run-0003")
    check = next(c for c in outcome.checks if c.name == "references_teams")
    assert not check.passed
    assert check.metadata["dangling"] == 1
    assert check.metadata["examples"] == [[str(teams.data[0]["id"])]]


def test_a_lone_surrogate_from_hubspot_reaches_the_bucket_as_a_replacement_character(tmp_path: Path) -> None:
    """The whole path of a value HubSpot escapes as half a UTF-16 pair: the client's JSON, the day's
    snapshot on the store, the OWNERS table read back. Nothing fails; the value keeps all but the
    half character."""
    answers = {
        "/account-info/v3/details": b'{"portalId": 321, "timeZone": "UTC"}',
        "/crm/v3/owners": (
            b'{"results": [{"id": "7", "email": "a@example.com", "firstName": "Zo\\ud83d",'
            b' "lastName": "\\udc00ne", "userId": 9, "type": "PERSON", "archived": false,'
            b' "createdAt": "2026-11-01T00:00:00.000Z", "updatedAt": "2026-11-02T00:00:00.000Z"}]}'
        ),
    }

    def answer(path: str) -> bytes:
        route, _, query = path.partition("?")
        return b'{"results": []}' if "archived=true" in query else answers.get(route, b'{"results": []}')

    with json_server(answer) as base_url:
        dest = LocalDestination(tmp_path)
        client = HubSpotClient(base_url, TOKEN)
        ctx = ExportContext(date(2026, 11, 20), dest, "run-0001", lambda: client)
        outcome = export_spec(ctx, SPECS["OWNERS"])
    assert outcome.published
    table = read_table(dest, "2026-11-20", "OWNERS")
    assert table.column("FIRSTNAME").to_pylist() == ["Zo\ufffd"]
    assert table.column("LASTNAME").to_pylist() == ["\ufffdne"]
    assert client.replaced_text == {"GET /crm/v3/owners": 2}
