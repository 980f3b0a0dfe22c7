"""The export's types HubSpot serves outside the objects API (marketing emails, campaigns, pages, blog
posts, forms, form submissions, sequences, deal splits): read from their own APIs into OBJECTS_<TYPE>,
the combined tables and SYNC_HEALTH, a day of changes read incrementally, and a missing scope reported."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from hubspot_pipeline.store import LocalDestination, read_manifest, read_table
from hubspot_pipeline.sync import other_objects
from hubspot_pipeline.sync.other_types import OTHER_TYPES, object_id
from hubspot_pipeline.sync.type_access import required_scopes
from hubspot_pipeline.tables.registry import CRM_TABLES
from hubspot_pipeline_tests.daily_runs import HEALTH, TOKEN, Account
from hubspot_pipeline_tests.sandbox_session import OTHER_KINDS, other_type_ids
from hubspot_sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.slow

START = date(2026, 5, 12)
DAY0 = START - timedelta(days=1)
TABLES = (*CRM_TABLES, *HEALTH[1:])
CONTENT = {"0-29", "0-25", "0-38", "0-39"}  # the types the `content` scope reads


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, dict, dict, dict]]:
    """A tiny account exported for DAY0 and START (a day of changes between); the sandbox's truth of
    each day and the calls START's run made, per endpoint."""
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = Account(sb, LocalDestination(tmp_path_factory.mktemp("other") / "store"), refresh_days=7)
        account.run(DAY0, TABLES)
        before = other_type_ids(sb)
        sb.advance(1)
        sb.reset_calls()
        account.run(START, TABLES)
        yield account, before, other_type_ids(sb), dict(sb.calls)


def test_every_other_type_is_exported_with_the_sandbox_records(synced: tuple) -> None:
    account, before, after, _ = synced
    for day, truth in ((DAY0, before), (START, after)):
        for spec in OTHER_TYPES:
            tid = spec.type_id
            rows = read_table(account.dest, day.isoformat(), f"OBJECTS_{spec.info.table_suffix}").to_pylist()
            expected = truth[tid]
            if tid == "0-58":
                expected = before[tid]  # sequences are re-read every 7 days: START shows DAY0's
            assert {int(r["OBJECTID"]) for r in rows} == expected, (day, spec.info.name)
            assert account.object_ids(day, tid) == expected
            assert account.health(day)[(tid, "SYNCED")] == len(expected)
    assert all(after[t] for t in after), "the tiny sandbox has records of every other type"
    assert any(before[t] - after[t] for t in OTHER_KINDS), "a day of changes deletes some record"
    assert any(after[t] - before[t] for t in after), "a day of changes creates some record"


def test_values_are_the_apis_fields_awkward_text_included(synced: tuple) -> None:
    account, _, _, _ = synced
    market = account.sb.account.marketing
    rows = read_table(account.dest, START.isoformat(), "OBJECTS_MARKETING_EMAILS").to_pylist()
    by_id = {int(r["OBJECTID"]): r for r in rows}
    for email in market.records("marketing_emails"):
        row = by_id[object_id(email["id"])]
        assert row["PROPERTY_ID"] == email["id"] and row["PROPERTY_NAME"] == email["name"]
        assert row["PROPERTY_SUBJECT"] == email.get("subject")
    campaigns = read_table(account.dest, START.isoformat(), "OBJECTS_CAMPAIGNS").to_pylist()
    names = {r["PROPERTY_ID"]: r["PROPERTY_HS_NAME"] for r in campaigns}
    assert names == {c["id"]: c["properties"].get("hs_name") for c in market.records("campaigns")}
    values = read_table(account.dest, START.isoformat(), "OBJECT_PROPERTIES").to_pylist()
    assert {r["OBJECTTYPEID"] for r in values} >= {t.type_id for t in OTHER_TYPES}
    notes = " ".join(read_manifest(account.dest, START.isoformat(), "OBJECTS_FORMS")["notes"])
    assert "no property history" in notes


def test_a_day_of_changes_reads_only_what_changed(synced: tuple) -> None:
    """START's run reads the changes: one page per filtered listing (live and archived), campaigns down to
    the last seen, one page per form, splits of the deals modified; sequences not at all (cadence)."""
    account, _, _, calls = synced
    market = account.sb.account.marketing
    assert calls.get("GET /marketing/v3/emails", 0) <= 1 + 2  # the probe, then live and archived changes
    assert calls.get("GET /automation/v4/sequences", 0) <= 1  # the probe only: re-read every 7 days
    forms = len(market.records("forms", archived=None))  # archived forms' submissions are read too
    assert calls.get("GET /form-integrations/v1/submissions/forms/{formGuid}", 0) == forms


def test_without_a_scope_its_types_are_reported_and_the_rest_exported(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        sb.add_token("pat-app", scopes=set(required_scopes()) - {"content"})
        account = Account(sb, LocalDestination(tmp_path / "store"), token="pat-app")
        account.run(DAY0, TABLES)
        reported = account.unavailable(DAY0)
        assert set(reported) >= CONTENT
        assert all(reported[t]["ERRORCATEGORY"] == "MISSING_SCOPES" for t in CONTENT)
        assert all("content" in reported[t]["HOWTOFIX"] for t in CONTENT)
        assert not account.object_ids(DAY0, "0-29")
        assert account.object_ids(DAY0, "0-28") == other_type_ids(sb)["0-28"]


def test_a_listing_larger_than_a_page_reads_only_the_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 2 records: DAY0 pages the types whole, START asks only for what changed since (one page
    live and one archived for emails), and both days still equal the sandbox."""
    small = tuple(dataclasses.replace(t, page_size=2) if t.read == "listing" else t for t in OTHER_TYPES)
    monkeypatch.setattr(other_objects, "OTHER_TYPES", small)
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = Account(sb, LocalDestination(tmp_path / "store"), refresh_days=7)
        emails = len(sb.account.marketing.records("marketing_emails"))
        archived = len(sb.account.marketing.records("marketing_emails", archived=True))
        sb.reset_calls()
        account.run(DAY0, TABLES)
        whole = sb.calls["GET /marketing/v3/emails"]
        assert whole == 1 + math.ceil(emails / 2) + max(1, math.ceil(archived / 2))  # the probe, then pages
        before = other_type_ids(sb)
        sb.advance(1)
        sb.reset_calls()
        account.run(START, TABLES)
        assert sb.calls["GET /marketing/v3/emails"] == 1 + 1 + 1  # the probe, the changes live and archived
        truth = other_type_ids(sb)
        for tid in ("0-29", "0-25", "0-38", "0-39"):
            assert account.object_ids(START, tid) == truth[tid], tid
        # a campaign deleted for good is seen by the next whole read (7 days), a new or edited one at once
        assert account.object_ids(START, "0-35") == truth["0-35"] | before["0-35"]
        rows = read_table(account.dest, START.isoformat(), "OBJECTS_MARKETING_EMAILS").to_pylist()
        names = {r["PROPERTY_ID"]: r["PROPERTY_NAME"] for r in rows}
        assert names == {e["id"]: e["name"] for e in sb.account.marketing.records("marketing_emails")}


def test_a_type_the_sync_settings_leave_out_is_not_read(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=5, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = Account(sb, LocalDestination(tmp_path / "store"))
        account.selection_json = json.dumps({"object_types": {"campaigns": {"sync": False}}})
        sb.reset_calls()
        account.run(DAY0, TABLES)
        assert sb.calls["GET /marketing/v3/campaigns"] == 1  # the daily probe only
        assert not account.object_ids(DAY0, "0-35")
        assert account.object_ids(DAY0, "0-29") == other_type_ids(sb)["0-29"]
        notes = " ".join(read_manifest(account.dest, DAY0.isoformat(), "OBJECTS")["notes"])
        assert "campaigns (0-35)" in notes  # "object types not synced (sync settings)"
