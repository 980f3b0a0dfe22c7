"""Sandbox per-record failures of object batch reads (207 errors) and restores from the recycle bin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hubspot_pipeline_tests.sandbox_session import clean_session
from hubspot_sandbox import RecordFailureRule, Sandbox, SandboxConfig
from hubspot_sandbox.record_failures import chosen_by_share
from hubspot_sandbox.responses import iso_ms

CONFIG = SandboxConfig(seed=3, scale="tiny")
BATCH_KEY = "POST /crm/v3/objects/{objectType}/batch/read"
MISSING_MESSAGE = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(CONFIG) as sandbox:
        sandbox.advance(2)  # so archived and merged records exist
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    sb.clear_record_failures()
    with clean_session(sb) as session:
        yield session
    sb.clear_record_failures()


def all_ids(sb: Sandbox, type_id: str = "0-1", archived: bool = False) -> list[int]:
    return sb.account.record_ids(type_id, archived=archived, after=None, limit=10**9)


def batch_read(
    sb: Sandbox, api: requests.Session, ids: list[int | str], ref: str = "contacts", archived: bool = False
) -> requests.Response:
    return api.post(
        f"{sb.base_url}/crm/v3/objects/{ref}/batch/read",
        params={"archived": "true"} if archived else None,
        json={"inputs": [{"id": str(i)} for i in ids], "properties": ["email"]},
    )


def result_ids(body: dict[str, Any]) -> list[int]:
    return [int(r["id"]) for r in body["results"]]


def errors_of(body: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(e["category"], e["message"], e["context"]["ids"]) for e in body.get("errors", [])]


def internal(record_id: int | str, label: str = "CONTACT") -> str:
    return f"Internal error reading the {label} object {record_id}; try again later."


# -- record failures ----------------------------------------------------------------------------


def test_explicit_ids_fail_with_207_naming_exactly_them(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)[:6]
    sb.set_record_failures("contacts", ids=[ids[1], ids[4]])
    response = batch_read(sb, api, ids)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert sorted(result_ids(body)) == [ids[0], ids[2], ids[3], ids[5]]
    assert body["numErrors"] == 2
    assert errors_of(body) == [
        ("INTERNAL_ERROR", internal(ids[1]), [str(ids[1])]),
        ("INTERNAL_ERROR", internal(ids[4]), [str(ids[4])]),
    ]
    error = body["errors"][0]
    assert error["status"] == "error" and error["errors"] == [] and error["links"] == {}
    # the records that did come back are whole
    assert all(r["properties"]["hs_object_id"] == r["id"] for r in body["results"])


def test_one_error_entry_per_category_and_message(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)[:8]
    sb.set_record_failures("0-1", ids=ids[:3], category="SERVICE_UNAVAILABLE", message="Try again later")
    sb.set_record_failures("contact", ids=[ids[5]], category="VALIDATION_ERROR", property="firstname")
    sb.set_record_failures("CONTACTS", ids=[ids[6]], category="VALIDATION_ERROR")
    body = batch_read(sb, api, ids).json()
    assert result_ids(body) == [ids[3], ids[4], ids[7]]
    assert errors_of(body) == [
        ("SERVICE_UNAVAILABLE", "Try again later", [str(i) for i in ids[:3]]),
        (
            "VALIDATION_ERROR",
            f"Property value of firstname for object {ids[5]} could not be read",
            [str(ids[5])],
        ),
        # the property defaults to the type's primary display property
        ("VALIDATION_ERROR", f"Property value of email for object {ids[6]} could not be read", [str(ids[6])]),
    ]
    assert body["numErrors"] == 3


def test_persistent_failure_fails_every_read(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)[:3]
    sb.set_record_failures("contacts", ids=[ids[0]], category="VALIDATION_ERROR")
    for _ in range(4):
        body = batch_read(sb, api, ids).json()
        assert result_ids(body) == ids[1:]
        assert [e[2] for e in errors_of(body)] == [[str(ids[0])]]


def test_transient_failure_fails_n_reads_per_record_then_succeeds(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)[:4]
    sb.set_record_failures("contacts", ids=ids[:2], times=2)
    first = batch_read(sb, api, [ids[0], ids[2]])
    assert first.status_code == 207
    assert errors_of(first.json()) == [("INTERNAL_ERROR", internal(ids[0]), [str(ids[0])])]
    second = batch_read(sb, api, ids).json()  # ids[0]'s second read, ids[1]'s first
    assert result_ids(second) == ids[2:]
    assert [e[2] for e in errors_of(second)] == [[str(ids[0])], [str(ids[1])]]
    third = batch_read(sb, api, ids)  # ids[0] has failed twice: it comes back; ids[1] fails once more
    assert result_ids(third.json()) == [ids[0], ids[2], ids[3]]
    assert [e[2] for e in errors_of(third.json())] == [[str(ids[1])]]
    fourth = batch_read(sb, api, ids)
    assert fourth.status_code == 200, fourth.text
    assert result_ids(fourth.json()) == ids
    assert "errors" not in fourth.json() and "numErrors" not in fourth.json()


def test_share_is_deterministic_by_seed_and_near_the_share(api: requests.Session) -> None:
    def failing(seed: int, reverse: bool) -> tuple[list[int], list[int]]:
        with Sandbox(SandboxConfig(seed=seed, scale="tiny")) as box, box.session() as session:
            box.set_record_failures("contacts", share=0.3)
            ids = all_ids(box)
            body = batch_read(box, session, ids[::-1] if reverse else ids).json()
            failed = sorted(int(i) for e in errors_of(body) for i in e[2])
            assert sorted(result_ids(body) + failed) == ids
            live = set(ids)  # record_failure_ids covers archived records too
            assert failed == [i for i in box.record_failure_ids("0-1") if i in live]
            return ids, failed

    ids_a, first = failing(3, reverse=False)
    ids_b, again = failing(3, reverse=True)  # the request order changes nothing
    assert ids_a == ids_b and first == again
    assert 6 <= len(first) <= 30  # 60 contacts at 0.3
    _, other_seed = failing(4, reverse=False)
    assert other_seed != first
    picked = sum(chosen_by_share(3, "0-1", i, 0.3) for i in range(1, 20_001))
    assert abs(picked / 20_000 - 0.3) < 0.015
    assert not any(chosen_by_share(3, "0-1", i, 0.0) for i in range(100))
    assert all(chosen_by_share(3, "0-1", i, 1.0) for i in range(100))


def test_object_not_found_alongside_and_missing_wins(sb: Sandbox, api: requests.Session) -> None:
    live = all_ids(sb)[:3]
    archived = all_ids(sb, archived=True)[0]
    sb.set_record_failures("contacts", ids=[live[1], 999_999_999, archived])
    response = batch_read(sb, api, [live[0], "999999999", live[1], archived, "not-a-number", live[2]])
    assert response.status_code == 207
    body = response.json()
    assert result_ids(body) == [live[0], live[2]]
    assert errors_of(body) == [
        ("OBJECT_NOT_FOUND", MISSING_MESSAGE, ["999999999", str(archived), "not-a-number"]),
        ("INTERNAL_ERROR", internal(live[1]), [str(live[1])]),
    ]


def test_archived_reads_fail_too(sb: Sandbox, api: requests.Session) -> None:
    archived = all_ids(sb, archived=True)[:2]
    sb.set_record_failures("contacts", ids=[archived[0]], category="VALIDATION_ERROR", property="email")
    body = batch_read(sb, api, archived, archived=True).json()
    assert result_ids(body) == [archived[1]]
    assert body["results"][0]["archived"] is True
    message = f"Property value of email for object {archived[0]} could not be read"
    assert errors_of(body) == [("VALIDATION_ERROR", message, [str(archived[0])])]


def test_custom_types_by_name_and_short_fqn(sb: Sandbox, api: requests.Session) -> None:
    custom = next(t for t in sb.account.object_types() if t.custom)
    ids = all_ids(sb, custom.type_id)[:3]
    sb.set_record_failures(f"p_{custom.name}", ids=[ids[0]])
    sb.set_record_failures(custom.name, ids=[ids[2]], times=1)
    body = batch_read(sb, api, ids, ref=custom.type_id).json()
    label = custom.singular.upper()
    assert result_ids(body) == [ids[1]]
    assert errors_of(body) == [
        ("INTERNAL_ERROR", internal(ids[0], label), [str(ids[0])]),
        ("INTERNAL_ERROR", internal(ids[2], label), [str(ids[2])]),
    ]
    assert result_ids(batch_read(sb, api, ids, ref=custom.name).json()) == ids[1:]


def test_lists_and_search_still_return_failing_records(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)
    sb.set_record_failures("contacts", share=1.0)
    listed = api.get(f"{sb.base_url}/crm/v3/objects/contacts", params={"limit": 100}).json()
    assert result_ids(listed) == ids
    found = api.post(
        f"{sb.base_url}/crm/v3/objects/contacts/search",
        json={"sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 100},
    ).json()
    assert result_ids(found) == ids and found["total"] == len(ids)
    one = api.get(f"{sb.base_url}/crm/v3/objects/contacts/{ids[0]}")
    assert one.status_code == 200
    body = batch_read(sb, api, ids[:5]).json()
    assert body["results"] == [] and [e[2] for e in errors_of(body)] == [[str(i)] for i in ids[:5]]


def test_failing_reads_are_counted_and_clearing_ends_them(sb: Sandbox, api: requests.Session) -> None:
    ids = all_ids(sb)[:2]
    sb.set_record_failures("contacts", ids=ids)
    before = sb.calls[BATCH_KEY]
    assert batch_read(sb, api, ids).status_code == 207
    assert batch_read(sb, api, ids).status_code == 207
    assert sb.calls[BATCH_KEY] == before + 2
    sb.clear_record_failures()
    response = batch_read(sb, api, ids)
    assert response.status_code == 200 and result_ids(response.json()) == ids
    with pytest.raises(KeyError):
        sb.set_record_failures("no-such-type", ids=[1])
    with pytest.raises(ValueError):
        sb.set_record_failures("contacts", share=1.5)
    with pytest.raises(ValueError):
        sb.set_record_failures("contacts", ids=[1], times=0)


def test_rules_from_the_config() -> None:
    probe = Sandbox(SandboxConfig(seed=3, scale="tiny"))
    ids = all_ids(probe)[:3]
    rule = RecordFailureRule("0-1", ids=frozenset({str(ids[2])}), category="VALIDATION_ERROR", times=1)
    with Sandbox(SandboxConfig(seed=3, scale="tiny", record_failures=(rule,))) as box, box.session() as s:
        body = batch_read(box, s, ids).json()
        message = f"Property value of email for object {ids[2]} could not be read"
        assert errors_of(body) == [("VALIDATION_ERROR", message, [str(ids[2])])]
        assert result_ids(batch_read(box, s, ids).json()) == ids
        assert box.record_failures.rules == [rule]
    assert SandboxConfig().record_failures == ()


# -- restore --------------------------------------------------------------------------------------


@pytest.fixture
def fresh() -> Iterator[tuple[Sandbox, requests.Session]]:
    with Sandbox(CONFIG) as sandbox, sandbox.session() as session:
        sandbox.advance(2)
        yield sandbox, session


def listed_ids(sb: Sandbox, api: requests.Session, archived: bool) -> list[int]:
    out: list[int] = []
    params: dict[str, Any] = {"limit": 7, "archived": str(archived).lower()}
    while True:
        body = api.get(f"{sb.base_url}/crm/v3/objects/contacts", params=params).json()
        out += result_ids(body)
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return out
        params["after"] = after


def search_by_id(sb: Sandbox, api: requests.Session, record_id: int) -> dict[str, Any]:
    group = {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": str(record_id)}]}
    return api.post(
        f"{sb.base_url}/crm/v3/objects/contacts/search",
        json={"filterGroups": [group], "properties": ["email", "lastmodifieddate"]},
    ).json()


def deleted_not_merged(sb: Sandbox) -> list[int]:
    table = sb.account.tables["0-1"]
    merged = {int(table.ids[i]) for i in table.merged}
    return [i for i in all_ids(sb, archived=True) if i not in merged]


def test_restore_brings_an_archived_record_back_everywhere(fresh: tuple[Sandbox, requests.Session]) -> None:
    sb, api = fresh
    record_id = deleted_not_merged(sb)[0]
    archived_view = sb.account.record("0-1", record_id, ["lastmodifieddate"])
    assert archived_view is not None and archived_view.archived
    assert record_id in listed_ids(sb, api, archived=True)
    assert record_id not in listed_ids(sb, api, archived=False)
    assert errors_of(batch_read(sb, api, [record_id]).json())[0][0] == "OBJECT_NOT_FOUND"
    assert search_by_id(sb, api, record_id)["total"] == 0
    email_before = batch_read(sb, api, [record_id], archived=True).json()["results"][0]["properties"]["email"]

    sb.restore("contacts", record_id)

    assert record_id in listed_ids(sb, api, archived=False)
    assert record_id not in listed_ids(sb, api, archived=True)
    response = batch_read(sb, api, [record_id])
    assert response.status_code == 200, response.text
    (record,) = response.json()["results"]
    assert record["archived"] is False and "archivedAt" not in record
    assert record["properties"]["email"] == email_before
    now = iso_ms(sb.account.now)
    assert record["updatedAt"] == now  # a restore is a write (HubSpot sets the modification date)
    archived_read = batch_read(sb, api, [record_id], archived=True).json()
    assert archived_read["results"] == [] and archived_read["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    found = search_by_id(sb, api, record_id)
    assert found["total"] == 1 and result_ids(found) == [record_id]
    assert found["results"][0]["properties"]["lastmodifieddate"] == now
    one = api.get(f"{sb.base_url}/crm/v3/objects/contacts/{record_id}").json()
    assert one["archived"] is False and one["updatedAt"] == now


def test_restore_without_touch_keeps_the_archive_time(fresh: tuple[Sandbox, requests.Session]) -> None:
    sb, api = fresh
    record_id = deleted_not_merged(sb)[1]
    before = batch_read(sb, api, [record_id], archived=True).json()["results"][0]
    sb.restore("0-1", str(record_id), touch=False)
    after = batch_read(sb, api, [record_id]).json()["results"][0]
    assert after["updatedAt"] == before["updatedAt"]
    assert after["properties"]["lastmodifieddate"] == before["properties"]["lastmodifieddate"]
    # invisible to a modified-date search from after the archive
    group = {
        "filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": before["updatedAt"]}]
    }
    modified = api.post(
        f"{sb.base_url}/crm/v3/objects/contacts/search", json={"filterGroups": [group]}
    ).json()
    assert record_id not in result_ids(modified)
    assert search_by_id(sb, api, record_id)["total"] == 1


def test_restore_refuses_merged_live_and_unknown_records(fresh: tuple[Sandbox, requests.Session]) -> None:
    sb, api = fresh
    table = sb.account.tables["0-1"]
    assert table.merged, "advance(2) merges contacts"
    victim, survivor = next(iter(table.merged.items()))
    victim_id, survivor_id = int(table.ids[victim]), int(table.ids[survivor])
    with pytest.raises(ValueError, match=f"merged into {survivor_id}"):
        sb.restore("contacts", victim_id)
    assert victim_id in listed_ids(sb, api, archived=True)  # unchanged
    with pytest.raises(ValueError, match="not archived"):
        sb.restore("contacts", all_ids(sb)[0])
    with pytest.raises(KeyError):
        sb.restore("contacts", 999_999_999)
    with pytest.raises(KeyError):
        sb.restore("no-such-type", 1)


def test_cli_record_failures_option() -> None:
    from hubspot_sandbox.__main__ import _parser

    args = _parser().parse_args(
        ["serve", "--record-failures", "contacts:0.1", "--record-failures", "0-2:0.5:VALIDATION_ERROR:2"]
    )
    assert args.record_failures == [
        RecordFailureRule("contacts", share=0.1),
        RecordFailureRule("0-2", share=0.5, category="VALIDATION_ERROR", times=2),
    ]
