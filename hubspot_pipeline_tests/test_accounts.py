"""Several HubSpot accounts in one deployment: the default one from the plain variables, another from
HUBSPOT_ACCOUNTS, exported side by side from two sandbox accounts, each with its own token, store,
asset key prefix, resources and HubSpot pool."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from hubspot_pipeline.definitions import defs as load_defs
from hubspot_pipeline.defs.accounts_config import AccountsConfigError, configured_accounts
from hubspot_pipeline.store import LocalDestination, read_table
from hubspot_pipeline_tests.sandbox_session import other_objects_rows, served_types
from hubspot_sandbox import Sandbox, SandboxConfig

START = date(2026, 3, 1)
DAY = (START - timedelta(days=1)).isoformat()


def test_the_accounts_setting_is_checked_with_messages_that_say_what_to_fix(tmp_path: Path) -> None:
    assert [c.account.name for c in configured_accounts({})] == ["default"]
    cases = {
        "[1]": "HUBSPOT_ACCOUNTS[0] must be an object",
        '[{"name": "emea"}]': "lacks ['export_url', 'token_env']",
        '[{"name": "Emea", "token_env": "T", "export_url": "x"}]': "account name 'Emea' must be",
        '[{"name": "default", "token_env": "T", "export_url": "x"}]': "the name 'default' is the default",
        '[{"name": "a", "token_env": "T", "export_url": "x", "colour": 1}]': "unknown keys ['colour']",
        '[{"name": "a", "token_env": "T", "export_url": "x", "key_prefix": "hubspot"}]': "the key_prefix 'hubspot'",
        '[{"name": "a", "token_env": "T", "export_url": "x", "rate_limit_per_10s": 500}]': "HUBSPOT_RATE_LIMIT_PER_10S must be",
        "[{": "invalid JSON at line 1",
        str(tmp_path / "missing.json"): "cannot read",
    }
    for text, message in cases.items():
        with pytest.raises(
            (AccountsConfigError, ValueError), match=message.replace("[", r"\[").replace("]", r"\]")
        ):
            configured_accounts({"HUBSPOT_ACCOUNTS": text})
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps([{"name": "emea", "token_env": "EMEA_TOKEN", "export_url": "s3://b/emea"}]))
    (_, emea) = configured_accounts({"HUBSPOT_ACCOUNTS": str(path)})
    assert emea.account.key_prefix == "hubspot_emea" and emea.token_var == "EMEA_TOKEN"
    assert (emea.account.pool, emea.account.job_name) == ("hubspot_api_emea", "daily_export_emea")


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("accounts")
    with (
        Sandbox(SandboxConfig(seed=3, scale="tiny", token="pat-default", start_date=START)) as a,
        Sandbox(SandboxConfig(seed=8, scale="tiny", token="pat-emea", start_date=START)) as b,
    ):
        env = {
            "HUBSPOT_ACCESS_TOKEN": "pat-default",
            "HUBSPOT_API_BASE_URL": a.base_url,
            "HUBSPOT_EXPORT_URL": str(tmp / "default"),
            "EMEA_TOKEN": "pat-emea",
            "HUBSPOT_RATE_LIMIT_PER_10S": "190",
            "DAGSTER_HOME": str(tmp / "home"),
            "HUBSPOT_ACCOUNTS": json.dumps(
                [
                    {
                        "name": "emea",
                        "token_env": "EMEA_TOKEN",
                        "export_url": str(tmp / "emea"),
                        "api_base_url": b.base_url,
                    }
                ]
            ),
        }
        for name, value in env.items():
            monkeypatch_module.setenv(name, value)
        (tmp / "home").mkdir()
        defs = load_defs()
        with warnings.catch_warnings(), dg.instance_for_test() as instance:
            warnings.simplefilter("ignore")
            results = {
                job: defs.resolve_job_def(job).execute_in_process(partition_key=DAY, instance=instance)
                for job in ("daily_export", "daily_export_emea")
            }
        yield {"defs": defs, "results": results, "a": a, "b": b, "tmp": tmp}


@pytest.mark.slow
def test_two_accounts_export_side_by_side(two: dict) -> None:
    assert all(r.success for r in two["results"].values())
    for sandbox, folder in ((two["a"], "default"), (two["b"], "emea")):
        objects = read_table(LocalDestination(two["tmp"] / folder), DAY, "OBJECTS")
        ids = {
            (t, i)
            for t, i in zip(objects["OBJECTTYPEID"].to_pylist(), objects["OBJECTID"].to_pylist(), strict=True)
        }
        expected = {
            (t.type_id, str(r.id))
            for t in served_types(sandbox)
            for r in sandbox.account.all_records(t.type_id, properties=[])
            if not r.archived
        }
        assert ids == expected | other_objects_rows(sandbox), folder
        assert sandbox.total_calls() > 0  # each account read from its own sandbox, with its own token
    materialized = {
        e.asset_key.to_user_string()
        for r in two["results"].values()
        for e in r.get_asset_materialization_events()
    }
    assert {
        "hubspot/objects",
        "hubspot/crm_index",
        "hubspot_emea/objects",
        "hubspot_emea/crm_index",
    } <= materialized


def test_each_account_has_its_prefix_resources_pool_job_and_schedule(two: dict) -> None:
    defs: dg.Definitions = two["defs"]
    graph = defs.resolve_asset_graph()
    emea = {k for k in graph.get_all_asset_keys() if k.path[0] == "hubspot_emea"}
    default = {k for k in graph.get_all_asset_keys() if k.path[0] == "hubspot"}
    assert {tuple(k.path[1:]) for k in emea} == {tuple(k.path[1:]) for k in default}
    assert graph.get(dg.AssetKey(["hubspot_emea", "crm_index"])).pools == {"hubspot_api_emea"}
    assert graph.get(dg.AssetKey(["hubspot", "crm_index"])).pools == {"hubspot_api"}
    assert set(graph.get(dg.AssetKey(["hubspot_emea", "objects"])).parent_keys) == {
        dg.AssetKey(["hubspot_emea", "crm_index"])
    }
    job = defs.resolve_job_def("daily_export_emea")
    assert {k.path[0] for k in job.asset_layer.selected_asset_keys} == {"hubspot_emea"}
    assert {s.name for s in defs.schedules or ()} >= {"daily_export_schedule", "daily_export_emea_schedule"}
