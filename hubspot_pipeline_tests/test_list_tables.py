"""LISTS and LIST_MEMBERSHIPS against the sandbox over HTTP: every list and membership, as of the day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.export import export_spec
from hubspot_pipeline.tables.list_tables import REMOVALS_NOTE
from hubspot_pipeline.tables.registry import SPECS
from hubspot_sandbox import Sandbox, SandboxConfig

TOKEN = "pat-lists"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, scale="small", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        sb.advance(days=3)  # memberships are added (and removed) on 2026-11-22 .. 2026-11-24
        yield sb


def export(sb: Sandbox, dest: LocalDestination, day: str, table: str):
    ctx = ExportContext(
        day=date.fromisoformat(day),
        destination=dest,
        run_id="run-lists",
        client_factory=lambda: HubSpotClient(sb.base_url, TOKEN),
    )
    # OBJECTS needs the CRM index, which this test does not build: without it the reference check
    # would fail and keep the table unpublished
    spec = SPECS[table]
    outcome = export_spec(
        ctx, replace(spec, references=tuple(r for r in spec.references if r.table != "OBJECTS"))
    )
    assert outcome.published, outcome.failed
    return outcome


def expected_memberships(sb: Sandbox, before: str) -> set[tuple[str, str, str, str]]:
    out = set()
    for item in sb.account.lists():
        if item["createdAt"] >= before:
            continue
        for record_id, added in sb.account.list_memberships(int(item["listId"])):
            if added < before:
                out.add((str(item["listId"]), item["objectTypeId"], str(record_id), added))
    return out


def test_lists_and_memberships_as_of_each_day(sandbox: Sandbox, tmp_path: Path) -> None:
    dest = LocalDestination(tmp_path)
    sandbox.reset_calls()
    export(sandbox, dest, "2026-11-24", "LISTS")  # the memberships reference it
    today = export(sandbox, dest, "2026-11-24", "LIST_MEMBERSHIPS")
    lists = sandbox.account.lists()
    big = [x for x in lists if int(x["additionalProperties"]["hs_list_size"]) > 250]
    assert big, "some list has more than one page of memberships"
    assert sandbox.calls["POST /crm/v3/lists/search"] == 1
    pages = sum(max(1, -(-int(x["size"]) // 250)) for x in lists)  # 250 memberships a page
    assert sandbox.calls["GET /crm/v3/lists/{listId}/memberships/join-order"] == pages
    assert sandbox.calls["GET /account-info/v3/details"] == 1
    assert sandbox.total_calls() == 2 + pages

    table = read_table(dest, "2026-11-24", "LIST_MEMBERSHIPS")
    got = set(
        zip(
            *(table.column(c).to_pylist() for c in ("LISTID", "OBJECTTYPEID", "OBJECTID", "ADDEDAT")),
            strict=True,
        )
    )
    assert got == expected_memberships(sandbox, "2026-11-25T00:00:00.000Z")
    assert next(c for c in today.checks if c.name == "primary_key_unique").passed
    assert REMOVALS_NOTE in read_manifest(dest, "2026-11-24", "LIST_MEMBERSHIPS")["notes"]

    # an earlier day, exported afterwards, costs no call and leaves out what was added after it
    calls = sandbox.total_calls()
    export(sandbox, dest, "2026-11-22", "LISTS")
    earlier = export(sandbox, dest, "2026-11-22", "LIST_MEMBERSHIPS")
    assert sandbox.total_calls() == calls
    table = read_table(dest, "2026-11-22", "LIST_MEMBERSHIPS")
    got_earlier = set(
        zip(
            *(table.column(c).to_pylist() for c in ("LISTID", "OBJECTTYPEID", "OBJECTID", "ADDEDAT")),
            strict=True,
        )
    )
    assert got_earlier == expected_memberships(sandbox, "2026-11-23T00:00:00.000Z")
    assert got_earlier < got, "memberships were added on 2026-11-23 and 2026-11-24"
    assert next(c for c in earlier.checks if c.name == "references_lists").passed

    listed = read_table(dest, "2026-11-22", "LISTS")
    sizes = dict(zip(listed.column("LISTID").to_pylist(), listed.column("SIZE").to_pylist(), strict=True))
    per_list: dict[str, int] = {}
    for list_id, *_ in got_earlier:
        per_list[list_id] = per_list.get(list_id, 0) + 1
    assert {k: int(v) for k, v in sizes.items() if int(v)} == per_list
    types = set(listed.column("LISTTYPE").to_pylist())
    assert types == {"MANUAL", "DYNAMIC", "SNAPSHOT"}


def test_unchanged_lists_keep_their_rows_and_changed_ones_are_paged_again(tmp_path: Path) -> None:
    """Day after day only the lists whose size or last added or removed time moved are paged again;
    the table equals one paged in full, and every list is paged again after the refresh days."""
    memberships = "GET /crm/v3/lists/{listId}/memberships/join-order"
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=date(2026, 11, 22))) as sb:
        kept, fresh = LocalDestination(tmp_path / "kept"), LocalDestination(tmp_path / "fresh")

        def run(dest: LocalDestination, day: date, every: int) -> int:
            sb.reset_calls()
            ctx = ExportContext(
                day,
                dest,
                f"run{day:%d}",
                lambda: HubSpotClient(sb.base_url, TOKEN),
                definitions_refresh_days=every,
            )
            spec = SPECS["LIST_MEMBERSHIPS"]
            outcome = export_spec(ctx, replace(spec, references=()))
            assert outcome.published, outcome.failed
            return sb.calls[memberships]

        first = run(kept, date(2026, 11, 21), 3)
        lists = len(sb.account.lists())
        assert first >= lists
        paged = []
        for n in range(1, 4):
            sb.advance(days=1)
            day = date(2026, 11, 21 + n)
            paged.append(run(kept, day, 3))
            run(fresh, day, 1)  # every list paged: what the kept rows must equal
            ours = read_table(kept, day.isoformat(), "LIST_MEMBERSHIPS").to_pylist()
            theirs = read_table(fresh, day.isoformat(), "LIST_MEMBERSHIPS").to_pylist()
            assert sorted(
                map(lambda r: tuple((k, v) for k, v in r.items() if k != "INGESTEDAT"), ours)
            ) == sorted(map(lambda r: tuple((k, v) for k, v in r.items() if k != "INGESTEDAT"), theirs))
        # the sandbox changes a few lists a day: those are paged, the others kept; on day 3 every
        # list's rows are 3 days old, so all are paged again
        assert 0 < paged[0] < first and paged[1] < first
        assert paged[2] >= lists
