"""Every table is its own asset, written and loaded by the table IO manager.

A day of the sandbox is materialized with no account state (the per-type tables are still written, by
their combined table's step); a refresh of the account state then gives each per-type table its own
asset, which can be materialized on its own, and a user's asset downstream of `objects_contacts` and
`object_properties_history` gets the day's table as a pandas DataFrame or a pyarrow Table equal to
the sandbox's records.
"""

from __future__ import annotations

import asyncio
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest
from dagster.components.utils.project_paths import get_local_state_dir
from dagster_aws.s3 import S3Resource

from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT
from hubspot_pipeline.defs.account_component import PROJECT_ROOT, HubSpotAccountComponent
from hubspot_pipeline.defs.account_defs import account_assets, account_resources
from hubspot_pipeline.defs.account_state import AccountState
from hubspot_pipeline.defs.assets import asset_key
from hubspot_pipeline.defs.partitions import daily_partitions
from hubspot_pipeline.defs.refresh_state import describe_from_store
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource
from hubspot_pipeline.defs.sync_asset import CRM_INDEX_KEY
from hubspot_pipeline.store import LocalDestination, read_manifest
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.model import RecordView

pytestmark = pytest.mark.slow

TOKEN = "pat-table-assets"
START = date(2026, 3, 1)
DAY0 = START - timedelta(days=1)


@dataclass
class Exported:
    sb: Sandbox
    root: Path
    resources: dict[str, Any]
    state: AccountState
    first: dg.ExecuteInProcessResult

    def assets(self, state: AccountState | None = None) -> list[dg.AssetsDefinition]:
        return account_assets(DEFAULT_ACCOUNT, state)


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch
) -> Iterator[Exported]:
    tmp = tmp_path_factory.mktemp("table_assets")
    with Sandbox(SandboxConfig(seed=3, scale="tiny", token=TOKEN, start_date=START)) as sb:
        hubspot = HubSpotResource(
            access_token=TOKEN, base_url=sb.base_url, rate_limit_per_10s=100_000, pace_file=str(tmp / "pace")
        )
        store = ExportStoreResource(export_url=str(tmp / "export"), s3=S3Resource())
        resources = account_resources(DEFAULT_ACCOUNT, hubspot, store)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = dg.materialize(
                account_assets(DEFAULT_ACCOUNT, None), partition_key=DAY0.isoformat(), resources=resources
            )
        assert first.success
        calls = sb.total_calls()
        state = describe_from_store(hubspot, store, DAY0)
        assert sb.total_calls() == calls  # the refresh reads the store, not HubSpot
        yield Exported(sb, tmp / "export", resources, state, first)


def live_contacts(sb: Sandbox) -> list[RecordView]:
    names = sorted(p["name"] for p in sb.account.property_definitions("0-1"))
    return [r for r in sb.account.all_records("0-1", properties=names) if not r.archived]


def test_without_state_the_per_type_tables_are_written_and_named(exported: Exported) -> None:
    observations = [
        e.event_specific_data.asset_observation  # type: ignore[union-attr]
        for e in exported.first.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    named = {o.asset_key: o.metadata["tables_without_asset"].value for o in observations}
    assert "OBJECTS_CONTACTS" in named[asset_key("OBJECTS")]
    assert "ASSOCIATIONS_CONTACTS_TO_COMPANIES" in named[asset_key("ASSOCIATIONS")]
    dest = LocalDestination(exported.root)
    for table in exported.state.per_type("OBJECTS"):
        assert read_manifest(dest, DAY0.isoformat(), table) is not None, table


def test_the_refreshed_state_gives_each_per_type_table_its_asset(exported: Exported) -> None:
    state = exported.state
    custom = [t for t in exported.sb.account.object_types() if t.custom]
    assert custom and all(f"OBJECTS_{t.name.upper()}" in state.per_type("OBJECTS") for t in custom)
    assert state.per_type("EVENTS"), "event types have their tables"
    graph = dg.Definitions(assets=exported.assets(state), resources=exported.resources).resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for table in (*state.per_type("OBJECTS"), *state.per_type("ASSOCIATIONS"), *state.per_type("EVENTS")):
        assert asset_key(table) in keys, table
    contacts = graph.get(asset_key("OBJECTS_CONTACTS"))
    assert set(contacts.parent_keys) == {CRM_INDEX_KEY}
    assert contacts.group_name == "crm"
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == asset_key("OBJECTS_CONTACTS")}
    assert checks == {"primary_key_unique", "columns_unchanged"}


def test_a_per_type_table_materializes_on_its_own_with_its_checks_for_the_day(exported: Exported) -> None:
    key = asset_key("OBJECTS_CONTACTS")
    result = dg.materialize(
        exported.assets(exported.state),
        selection=[key],
        partition_key=DAY0.isoformat(),
        resources=exported.resources,
    )
    assert result.success
    (materialization,) = [m.materialization for m in result.get_asset_materialization_events()]
    assert materialization.asset_key == key and materialization.partition == DAY0.isoformat()
    metadata = materialization.metadata
    assert metadata["dagster/row_count"].value == len(live_contacts(exported.sb))
    uri = metadata["dagster/uri"].value
    assert uri.startswith("file:///") and uri.endswith(f"/{DAY0}/OBJECTS_CONTACTS/_manifest.json")
    schema = metadata["dagster/column_schema"].schema
    assert [c.name for c in schema.columns][:2] == ["OBJECTTYPEID", "OBJECTID"]
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name, e.passed, e.partition) for e in evaluations} == {
        (key, "primary_key_unique", True, DAY0.isoformat()),
        (key, "columns_unchanged", True, DAY0.isoformat()),
    }


def test_a_downstream_asset_loads_the_day_as_dataframe_and_arrow(exported: Exported) -> None:
    seen: dict[str, Any] = {}

    @dg.asset(
        partitions_def=daily_partitions,
        ins={
            "contacts": dg.AssetIn(asset_key("OBJECTS_CONTACTS")),
            "history": dg.AssetIn(asset_key("OBJECT_PROPERTIES_HISTORY")),
        },
    )
    def churn(contacts: pd.DataFrame, history: pa.Table) -> None:
        seen["contacts"], seen["history"] = contacts, history

    assets = exported.assets(exported.state)
    result = dg.materialize(
        [*assets, churn], selection=[churn.key], partition_key=DAY0.isoformat(), resources=exported.resources
    )
    assert result.success
    contacts, history = seen["contacts"], seen["history"]
    assert isinstance(contacts, pd.DataFrame) and isinstance(history, pa.Table)
    live = {r.id: r for r in live_contacts(exported.sb)}
    assert sorted(contacts["OBJECTID"].tolist()) == sorted(live)
    assert contacts["OBJECTID"].dtype == pd.ArrowDtype(pa.int64())
    emails = {r.id: r.properties.get("email") for r in live.values()}
    assert any(emails.values())
    pairs = zip(contacts["OBJECTID"], contacts["PROPERTY_EMAIL"], strict=True)
    assert {i: (None if pd.isna(v) else v) for i, v in pairs} == emails
    assert history.schema.field("OBJECTID").type == pa.int64()
    assert history.schema.field("UPDATEDAT").type == pa.timestamp("ms", tz="UTC")
    email_history = history.filter(
        pa.compute.and_(
            pa.compute.equal(history["OBJECTTYPEID"], "0-1"), pa.compute.equal(history["NAME"], "email")
        )
    )
    expected = sum(len(r.history.get("email", [])) for r in live.values())
    assert email_history.num_rows == expected


def test_load_asset_value_and_several_days_by_day(exported: Exported) -> None:
    defs = dg.Definitions(assets=exported.assets(exported.state), resources=exported.resources)
    with dg.instance_for_test() as instance:  # not the deployment's DAGSTER_HOME
        owners = defs.load_asset_value(asset_key("OWNERS"), partition_key=DAY0.isoformat(), instance=instance)
    assert isinstance(owners, pd.DataFrame)
    manifest = read_manifest(LocalDestination(exported.root), DAY0.isoformat(), "OWNERS")
    assert manifest is not None and len(owners) == manifest["rows"] > 0
    assert list(owners.columns) == [c["name"] for c in manifest["columns"]]
    # the next day of a definitions table is projected from the snapshots: no call
    day1 = (DAY0 + timedelta(days=1)).isoformat()
    assert dg.materialize(
        exported.assets(), selection=[asset_key("OWNERS")], partition_key=day1, resources=exported.resources
    ).success
    seen: dict[str, Any] = {}

    @dg.asset(
        partitions_def=daily_partitions,
        ins={
            "owners": dg.AssetIn(
                asset_key("OWNERS"), partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1)
            )
        },
    )
    def two_days(owners: dict[str, pd.DataFrame]) -> None:
        seen.update(owners)

    assert dg.materialize(
        [*exported.assets(), two_days],
        selection=[two_days.key],
        partition_key=day1,
        resources=exported.resources,
    ).success
    assert sorted(seen) == [DAY0.isoformat(), day1]
    assert all(len(df) == len(owners) for df in seen.values())


def test_the_component_refreshes_its_state_and_loads_the_per_type_assets(
    exported: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    hubspot = exported.resources["hubspot"]
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_API_BASE_URL", hubspot.base_url)
    monkeypatch.setenv("HUBSPOT_EXPORT_URL", str(exported.root))  # this test's store: a key of its own
    component = HubSpotAccountComponent()
    before = {k.to_user_string() for k in component.load_defs().resolve_asset_graph().get_all_asset_keys()}
    assert "hubspot/objects_contacts" not in before  # a fresh store key: no state yet
    calls = exported.sb.total_calls()
    try:
        assert asyncio.run(component.refresh_state(PROJECT_ROOT)) == "__local__"
        assert exported.sb.total_calls() == calls  # described from the store
        after = {k.to_user_string() for k in component.load_defs().resolve_asset_graph().get_all_asset_keys()}
    finally:
        shutil.rmtree(get_local_state_dir(component.defs_state_config.key, PROJECT_ROOT), ignore_errors=True)
    added = after - before
    assert "hubspot/objects_contacts" in added and "hubspot/associations_contacts_to_companies" in added
    assert added == {f"hubspot/{t.lower()}" for tables in exported.state.tables.values() for t in tables}
