"""The CRM tables end to end over HTTP: sandbox HubSpot, moto S3, `dagster.materialize` in-process.

Every CRM table is read back from S3 and compared with the sandbox's own records, history and
associations (custom objects included, hostile values byte for byte); the same for a wide account
(900+ deal properties, no 414); and a past day re-materialised after three more days equals its
first export without a single API call.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT
from hubspot_pipeline.defs.account_defs import account_assets, account_resources
from hubspot_pipeline.defs.assets import asset_key
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.defs.sync_asset import CRM_INDEX_KEY
from hubspot_pipeline.store import Destination, LocalDestination, open_destination, read_manifest, read_table
from hubspot_pipeline.sync.full_sync import sync_plan
from hubspot_pipeline.sync.incremental import EXACT
from hubspot_pipeline.sync.index_sync import sync_index
from hubspot_pipeline.sync.other_types import OTHER_BY_ID
from hubspot_pipeline.sync.timestamps import iso_ms
from hubspot_pipeline.tables.context import ExportContext
from hubspot_pipeline.tables.crm_tables import (
    IndexBehindError,
    check_per_type_counts,
    check_values_match_history,
)
from hubspot_pipeline.tables.export import ExportOutcome, export_spec
from hubspot_pipeline.tables.registry import SPECS
from hubspot_pipeline_tests.fixtures_s3 import FAKE_ACCESS_KEY_ID, REGION
from hubspot_pipeline_tests.sandbox_session import served_types
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.model import RecordView

pytestmark = pytest.mark.slow

TOKEN = "pat-crm-e2e-token"
START = date(2026, 3, 1)
DAY0 = START - timedelta(days=1)
DEFINITION_TABLES = ("OBJECT_AND_EVENT_TYPE_DEFINITIONS", "PROPERTY_DEFINITIONS", "ASSOCIATION_DEFINITIONS")
CRM_TABLES = ("OBJECTS", "OBJECT_WITH_OBJECT_PROPERTIES", "OBJECT_PROPERTIES", "OBJECT_PROPERTIES_HISTORY")
ASSOCIATIONS = "ASSOCIATIONS"


def crm_assets() -> list[dg.AssetsDefinition]:
    wanted = {asset_key(t) for t in (*DEFINITION_TABLES, *CRM_TABLES, ASSOCIATIONS)}
    return [a for a in account_assets(DEFAULT_ACCOUNT, None) if a.key in wanted or a.key == CRM_INDEX_KEY]


@dataclass
class Account:
    """A sandbox exported to one S3 prefix."""

    sb: Sandbox
    dest: Destination
    resources: dict[str, Any]

    def materialize(self, day: date) -> dg.ExecuteInProcessResult:
        return dg.materialize(crm_assets(), partition_key=day.isoformat(), resources=self.resources)

    def export(self, day: date) -> list[ExportOutcome]:
        """The same work as `materialize`, by calling the sync and export functions (much faster)."""
        ctx = ExportContext(day, self.dest, f"run{day:%m%d}x", self.resources["hubspot"].client)
        outcomes = [export_spec(ctx, SPECS[t]) for t in DEFINITION_TABLES]
        plan = sync_plan(*(ctx.snapshot(s).data for s in ("schemas", "properties", "association_labels")))
        # every silent change re-read daily: the day equals the sandbox as it stands at its end
        sync_index(self.dest, ctx.as_of, ctx.run_id, lambda: ctx.client, lambda: plan, settings=EXACT)
        outcomes += [export_spec(ctx, SPECS[t]) for t in (*CRM_TABLES, ASSOCIATIONS)]
        assert all(c.passed for o in outcomes for c in o.checks), [c for o in outcomes for c in o.checks]
        return outcomes

    def table(self, day: date, name: str) -> pa.Table:
        return read_table(self.dest, day.isoformat(), name)


@pytest.fixture(scope="module")
def s3_endpoint(moto_server: str, monkeypatch_module: pytest.MonkeyPatch) -> str:
    for name, value in {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch_module.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN"):
        monkeypatch_module.delenv(name, raising=False)
    return moto_server


def hubspot(sb: Sandbox, tmp: Path) -> HubSpotResource:
    return HubSpotResource(
        access_token=TOKEN, base_url=sb.base_url, rate_limit_per_10s=100_000, pace_file=str(tmp / "pace")
    )


def open_account(sb: Sandbox, endpoint: str, bucket: str, tmp: Path) -> Account:
    """The account exported to a moto S3 bucket."""
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(Bucket=bucket)
    s3 = S3Resource(endpoint_url=endpoint, region_name=REGION)
    url = f"s3://{bucket}/export"
    resources = account_resources(
        DEFAULT_ACCOUNT, hubspot(sb, tmp), ExportStoreResource(export_url=url, s3=s3)
    )
    return Account(sb, open_destination(url, s3=s3), resources)


def local_account(sb: Sandbox, tmp: Path) -> Account:
    """The account exported to a local folder: for the tests that export many days (S3 is covered above)."""
    return Account(sb, LocalDestination(tmp / "export"), {"hubspot": hubspot(sb, tmp)})


@pytest.fixture(scope="module")
def tiny(
    s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Account, dg.ExecuteInProcessResult]]:
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = open_account(sb, s3_endpoint, "crm-e2e-tiny", tmp_path_factory.mktemp("tiny"))
        sb.reset_calls()
        yield account, account.materialize(DAY0)


# -- ground truth ------------------------------------------------------------------------------------


def live_names(sb: Sandbox, type_id: str) -> list[str]:
    return sorted(p["name"] for p in sb.account.property_definitions(type_id))


def records(sb: Sandbox, type_id: str) -> list[RecordView]:
    """Every record of the type (archived too), every live property with its history."""
    return list(sb.account.all_records(type_id, properties=live_names(sb, type_id)))


def iso(ms: int) -> str:
    return iso_ms(ms) or ""


def updated_as_of(record: RecordView, as_of_ms: int) -> str:
    stamps = [
        ms for entries in record.history.values() for e in entries if (ms := to_ms(e["timestamp"])) < as_of_ms
    ]
    return iso(max(stamps, default=record.created_ms))


def to_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


def crm_only(table: pa.Table) -> pa.Table:
    """The rows of the objects API's types (the types read from other APIs: test_other_types.py)."""
    if "OBJECTTYPEID" not in table.column_names:
        return table
    other = pa.array(list(OTHER_BY_ID), pa.string())
    return table.filter(pc.invert(pc.is_in(table.column("OBJECTTYPEID"), value_set=other)))


def rows(table: pa.Table, *cols: str) -> set[tuple]:
    table = crm_only(table)
    return set(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


def text(value: object) -> str | None:
    return None if value is None else str(value)


def type_ids(sb: Sandbox) -> list[str]:
    return [t.type_id for t in served_types(sb)]


# -- the tables against the sandbox -------------------------------------------------------------------


def test_every_check_passes_and_tables_call_no_api(tiny: tuple[Account, dg.ExecuteInProcessResult]) -> None:
    _, result = tiny
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        e.check_name for e in evaluations if not e.passed
    ]
    names = {(e.asset_key, e.check_name) for e in evaluations}
    assert (asset_key("OBJECTS"), "per_type_counts_add_up") in names
    assert (asset_key("OBJECT_PROPERTIES"), "values_match_history") in names
    assert (asset_key(ASSOCIATIONS), "references_objects_via_fromobjecttypeid_fromobjectid") in names
    assert (asset_key(ASSOCIATIONS), "references_objects_via_toobjecttypeid_toobjectid") in names
    metadata = {
        m.asset_key: m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    for table in (*CRM_TABLES, ASSOCIATIONS):
        assert metadata[asset_key(table)]["api_calls"].value == 0, table
    index = metadata[CRM_INDEX_KEY]
    calls, floor = index["api_calls"].value, index["api_calls_floor"].value
    assert 0 < floor <= calls <= floor * 1.10


def test_objects_and_per_type_tables_match_the_sandbox(
    tiny: tuple[Account, dg.ExecuteInProcessResult],
) -> None:
    account, _ = tiny
    sb = account.sb
    as_of = to_ms("2026-03-01T00:00:00Z")
    objects = account.table(DAY0, "OBJECTS")
    expected_objects = set()
    for type_info in served_types(sb):
        type_id, names = type_info.type_id, live_names(sb, type_info.type_id)
        live = [r for r in records(sb, type_id) if not r.archived]
        expected_objects |= {(type_id, str(r.id), iso(r.created_ms), updated_as_of(r, as_of)) for r in live}
        per_type = account.table(DAY0, f"OBJECTS_{type_info.name.upper()}")
        props = [f"PROPERTY_{n.upper()}" for n in names]
        assert per_type.column_names == [
            "OBJECTTYPEID",
            "OBJECTID",
            "CREATEDAT",
            "UPDATEDAT",
            "INGESTEDAT",
            *props,
        ]
        got = {row["OBJECTID"]: [row[p] for p in props] for row in per_type.to_pylist()}
        assert got == {str(r.id): [r.properties.get(n) for n in names] for r in live}, type_id
    assert rows(objects, "OBJECTTYPEID", "OBJECTID", "CREATEDAT", "UPDATEDAT") == expected_objects
    assert crm_only(objects).num_rows == len(expected_objects)
    custom = {t.type_id for t in sb.account.object_types() if t.custom}
    assert custom and custom <= {t for t, *_ in expected_objects}, "custom objects are exported"


def test_properties_json_long_and_history_match_the_sandbox(
    tiny: tuple[Account, dg.ExecuteInProcessResult],
) -> None:
    account, _ = tiny
    sb = account.sb
    expected_json, expected_values, expected_history = {}, set(), set()
    for type_id in type_ids(sb):
        for r in records(sb, type_id):
            if r.archived:
                continue
            values = {n: v for n, v in sorted(r.properties.items()) if v is not None}
            expected_json[(type_id, str(r.id))] = values
            for name, value in values.items():
                newest = r.history[name][0]
                assert newest["value"] == value  # the sandbox's current value is its newest history entry
                expected_values.add((type_id, str(r.id), name, value, iso(to_ms(newest["timestamp"]))))
            for name, entries in r.history.items():
                for e in entries:
                    expected_history.add(
                        (
                            type_id,
                            str(r.id),
                            name,
                            e["value"],
                            iso(to_ms(e["timestamp"])),
                            e["sourceType"],
                            e.get("sourceId"),
                            text(e.get("updatedByUserId")),
                        )
                    )
    owop = account.table(DAY0, "OBJECT_WITH_OBJECT_PROPERTIES")
    got_json = {(t, i): json.loads(p) for t, i, p in rows(owop, "OBJECTTYPEID", "OBJECTID", "PROPERTIES")}
    assert got_json == expected_json
    assert crm_only(owop).num_rows == len(expected_json)

    values = account.table(DAY0, "OBJECT_PROPERTIES")
    assert rows(values, "OBJECTTYPEID", "OBJECTID", "NAME", "VALUE", "UPDATEDAT") == expected_values
    assert crm_only(values).num_rows == len(expected_values)

    history = account.table(DAY0, "OBJECT_PROPERTIES_HISTORY")
    cols = (
        "OBJECTTYPEID",
        "OBJECTID",
        "NAME",
        "VALUE",
        "UPDATEDAT",
        "SOURCETYPE",
        "SOURCEID",
        "UPDATEDBYUSERID",
    )
    assert rows(history, *cols) == expected_history
    assert crm_only(history).num_rows == len(expected_history)  # each distinct entry once

    # the hostile values survived the CSV round trip byte for byte (compared above); they are really there
    exported = values.column("VALUE").to_pylist()
    assert any(len(v) >= 100_000 for v in exported)
    for probe in ('"', ",", "\r\n", "\t"):
        assert any(probe in v for v in exported), repr(probe)
    assert any(v.startswith("=") for v in exported)
    assert any(any(ord(ch) > 0xFFFF for ch in v) for v in exported), "an emoji"


def test_associations_match_the_sandbox(tiny: tuple[Account, dg.ExecuteInProcessResult]) -> None:
    account, _ = tiny
    sb = account.sb
    types = {t.type_id: t for t in served_types(sb)}
    live = {
        t: {r.id for r in sb.account.all_records(t, include_archived=False, properties=())} for t in types
    }
    expected: dict[tuple[str, str], set[tuple]] = {}
    for a in types:
        for b in types:
            if not sb.account.association_labels(a, b):
                continue
            expected[(a, b)] = {
                (str(i), str(to_id), str(kind["typeId"]), kind["category"], kind["label"])
                for i in live[a]
                for to_id, kinds in sb.account.associations(a, i, b)
                if to_id in live[b]
                for kind in kinds
            }
    combined = account.table(DAY0, ASSOCIATIONS)
    cols = (
        "FROMOBJECTTYPEID",
        "FROMOBJECTID",
        "TOOBJECTTYPEID",
        "TOOBJECTID",
        "ASSOCIATIONTYPEID",
        "CATEGORY",
        "LABEL",
    )
    assert rows(combined, *cols) == {
        (a, f, b, t, *rest) for (a, b), links in expected.items() for f, t, *rest in links
    }
    assert combined.num_rows == sum(len(v) for v in expected.values())
    assert any(types[a].custom or types[b].custom for (a, b), links in expected.items() if links)

    for (a, b), links in expected.items():
        name = f"ASSOCIATIONS_{types[a].name.upper()}_TO_{types[b].name.upper()}"
        table = account.table(DAY0, name)
        first, second = table.column_names[:2]
        assert rows(table, first, second, "ASSOCIATIONTYPEID", "CATEGORY", "LABEL") == links, name
        for category, label, primary in rows(table, "CATEGORY", "LABEL", "ISPRIMARY"):
            is_primary = category == "HUBSPOT_DEFINED" and (label or "").lower() == "primary"
            assert primary == ("true" if is_primary else "false"), name
    contacts_to_companies = account.table(DAY0, "ASSOCIATIONS_CONTACTS_TO_COMPANIES")
    assert contacts_to_companies.column_names[:2] == ["CONTACT_OBJECTID", "COMPANY_OBJECTID"]
    assert "true" in contacts_to_companies.column("ISPRIMARY").to_pylist()
    notes = read_manifest(account.dest, DAY0.isoformat(), ASSOCIATIONS)["notes"]
    assert any("current state" in n for n in notes)


# -- a wide account --------------------------------------------------------------------------------------


def test_wide_account_every_property_present_and_no_414(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=4, scale="tiny", token=TOKEN, start_date=START, wide=True)) as sb:
        account = local_account(sb, tmp_path)
        account.export(DAY0)
        assert not any(key.startswith("414") for key in sb.rejected), sb.rejected
        names = live_names(sb, "0-3")
        assert len(names) >= 900
        deals = account.table(DAY0, "OBJECTS_DEALS")
        assert deals.column_names[5:] == [f"PROPERTY_{n.upper()}" for n in names]
        live = [r for r in records(sb, "0-3") if not r.archived]
        got = {row["OBJECTID"]: [row[f"PROPERTY_{n.upper()}"] for n in names] for row in deals.to_pylist()}
        assert got == {str(r.id): [r.properties.get(n) for n in names] for r in live}
        assert sum(v is not None for values in got.values() for v in values) > 10 * len(live)


# -- as of a past day -------------------------------------------------------------------------------------


def test_a_past_day_rerun_equals_its_first_export_without_a_call(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=6, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = local_account(sb, tmp_path)
        account.export(DAY0)
        days = [START + timedelta(days=k) for k in range(3)]
        first: dict[str, list[dict]] = {}
        for k, day in enumerate(days):
            sb.advance()
            account.export(day)
            if k == 0:
                tables = [*CRM_TABLES, *(f"OBJECTS_{t.name.upper()}" for t in served_types(sb))]
                first = {t: account.table(day, t).to_pylist() for t in tables}
                # the day as the sandbox stands at its end
                expected = {
                    (t, str(r.id), n, v)
                    for t in type_ids(sb)
                    for r in records(sb, t)
                    if not r.archived
                    for n, v in r.properties.items()
                    if v is not None
                }
                got = rows(
                    account.table(day, "OBJECT_PROPERTIES"), "OBJECTTYPEID", "OBJECTID", "NAME", "VALUE"
                )
                assert got == expected
        calls = sb.total_calls()
        account.export(days[0])
        assert sb.total_calls() == calls, "a past day is a projection of the index: no API call"
        for table, expected_rows in first.items():
            assert account.table(days[0], table).to_pylist() == expected_rows, table
        # the days really differ: records created or archived after day 1 are placed by the as-of rules
        last = rows(account.table(days[-1], "OBJECTS"), "OBJECTTYPEID", "OBJECTID")
        day1 = rows(account.table(days[0], "OBJECTS"), "OBJECTTYPEID", "OBJECTID")
        assert last - day1, "records created after day 1 are only in later days"
        assert day1 - last, "records archived after day 1 are still in day 1"
        # a day the index has not been synced past is refused, not exported from a stale index
        ahead = ExportContext(days[-1] + timedelta(days=1), account.dest, "ahead001", lambda: None)  # type: ignore[arg-type,return-value]
        with pytest.raises(IndexBehindError, match="materialise hubspot/crm_index"):
            export_spec(ahead, SPECS["OBJECTS"])


# -- the checks fail on a bad export ---------------------------------------------------------------------


def test_checks_fail_on_a_tampered_export(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=8, scale="tiny", token=TOKEN, start_date=START)) as sb:
        account = local_account(sb, tmp_path)
        outcomes = {o.spec.name: o for o in account.export(DAY0)}
    ctx = ExportContext(DAY0, account.dest, "tamper01", lambda: None)  # type: ignore[arg-type,return-value]

    # one value changed in the written CSV: the read-back comparison with the history notices
    written = outcomes["OBJECT_PROPERTIES"].tables
    part = written[0].result.parts[0]
    path = tmp_path / "export" / part.key
    table = list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8"), newline="")))
    header, first = table[0], table[1]
    first[header.index("VALUE")] = "tampered"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(table)
    path.write_bytes(gzip.compress(out.getvalue().encode("utf-8")))
    outcome = check_values_match_history(ctx, written)
    assert not outcome.passed
    assert outcome.metadata["types_differing"] == [first[header.index("OBJECTTYPEID")]]
    assert outcome.metadata["rows_written"] == outcome.metadata["rows_expected"]

    # a per-type table that lost a row no longer adds up to OBJECTS
    objects = outcomes["OBJECTS"].tables
    assert check_per_type_counts(ctx, objects).passed
    last = objects[-1]
    short = [*objects[:-1], replace(last, result=replace(last.result, rows=last.result.rows - 1))]
    assert not check_per_type_counts(ctx, short).passed
