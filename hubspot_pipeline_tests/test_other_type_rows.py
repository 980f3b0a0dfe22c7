"""The export's other types as index-shaped rows: flattening, ids, whole reads' tombstones and the
projection as of a day (no server: the sandbox end-to-end tests are in test_other_types.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hubspot_pipeline.hubspot import HubSpotError
from hubspot_pipeline.hubspot.paging import BatchResult
from hubspot_pipeline.sync.other_objects import (
    OTHER_SCHEMA,
    OtherObjects,
    _merged,
    _Row,
    _table,
    fetch_other_objects,
)
from hubspot_pipeline.sync.other_types import ADDITIONAL_FIELDS, OTHER_BY_ID, object_id, uuid_object_id
from hubspot_pipeline.sync.selection import parse_selection

EMAILS, CAMPAIGNS = OTHER_BY_ID["0-29"], OTHER_BY_ID["0-35"]
T0 = datetime(2026, 5, 10, 12, tzinfo=UTC)
T1 = datetime(2026, 5, 11, 12, tzinfo=UTC)


def test_fields_become_properties_nested_ones_json_and_unlisted_ones_additional_fields() -> None:
    record = {
        "id": "178",
        "name": 'Spring "sale", part 2\nline two \u00e9',
        "isPublished": True,
        "from": {"fromName": "Ann", "replyTo": "a@example.com"},
        "archived": False,
        "somethingNew": [1, "x"],
        "createdAt": None,
    }
    props = EMAILS.flatten(record)
    assert props["name"] == record["name"]
    assert props["isPublished"] == "true" and props["archived"] == "false"
    assert props["from"] == '{"fromName":"Ann","replyTo":"a@example.com"}'
    assert props[ADDITIONAL_FIELDS] == '{"somethingNew":[1,"x"]}'
    assert "createdAt" not in props  # no value, no property (as the CRM index keeps them)


def test_a_properties_object_contributes_its_entries() -> None:
    record = {
        "id": "0b5f",
        "properties": {"hs_name": "Launch", "hs_goal": None},
        "businessUnits": [{"id": 0}],
    }
    props = CAMPAIGNS.flatten(record)
    assert props == {"id": "0b5f", "hs_name": "Launch", "businessUnits": '[{"id":0}]'}


def test_object_ids_are_hubspot_ids_or_the_first_63_bits_of_a_uuid() -> None:
    assert object_id("178938383726") == 178938383726
    guid = "f1d5a9b2-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert object_id(guid) == uuid_object_id(guid) == 0xF1D5A9B23C4D4E5F & 0x7FFF_FFFF_FFFF_FFFF
    assert 0 <= uuid_object_id("not-a-uuid") < 2**63  # hashed, still a valid int64


def _rows(*rows: _Row, at: datetime = T0) -> pa.Table:
    return _table(EMAILS, list(rows), at, at.date())


def _live(oid: int, created: str = "2026-05-01T00:00:00.000Z", **props: str) -> _Row:
    return _Row(oid, created, created, False, None, {"id": str(oid), **props})


def test_an_incremental_read_replaces_the_records_it_lists_and_keeps_the_others() -> None:
    before = _rows(_live(1, name="a"), _live(2, name="b"))
    after = _merged(before, _rows(_live(3, name="new"), _live(2, name="b2"), at=T1))
    rows = after.to_pylist()
    assert after.schema == OTHER_SCHEMA and [r["object_id"] for r in rows] == [1, 2, 3]
    assert [dict(r["properties"])["name"] for r in rows] == ["a", "b2", "new"]
    assert [r["read_at"] for r in rows] == [T0, T1, T1]  # INGESTEDAT: when each row was last read


def test_the_projection_as_of_a_day_keeps_created_records_and_drops_earlier_tombstones() -> None:
    table = _rows(
        _live(1, "2026-05-01T00:00:00.000Z", name="a"),
        _live(2, "2026-05-20T00:00:00.000Z", name="created later"),
        _Row(3, "2026-05-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z", True, "2026-05-09T00:00:00.000Z", {}),
        _Row(4, "2026-05-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z", True, "2026-05-15T00:00:00.000Z", {}),
    )
    other = OtherObjects(lambda: table)
    as_of = datetime(2026, 5, 11, tzinfo=UTC)
    assert other.as_of_ids("0-29", as_of).tolist() == [1, 4]  # 4 was deleted after the day
    assert other.tombstones_before("0-29", as_of) == 1
    (batch,) = other.as_of_batches("0-29", as_of, values=True, history=True)
    assert batch.records.column("object_id").to_pylist() == [1, 4]
    assert batch.records.column("ingested_at").to_pylist() == [T0, T0]
    assert batch.values is not None and batch.history is not None
    assert batch.values.to_pylist() == [
        {"object_id": 1, "name": "id", "value": "1", "timestamp": datetime(2026, 5, 1, tzinfo=UTC)},
        {"object_id": 1, "name": "name", "value": "a", "timestamp": datetime(2026, 5, 1, tzinfo=UTC)},
    ]
    assert batch.history.column("name").to_pylist() == ["id", "name"]
    assert list(other.as_of_batches("0-35", as_of)) == []


class _Answers:
    """A client whose listings answer `pages` for one path and nothing anywhere else."""

    def __init__(self, path: str, pages: list[list[dict]]) -> None:
        self.path, self.pages = path, pages

    def paginate(self, path: str, params: object = None, *, page_size: int = 100) -> Iterator[list[dict]]:
        yield from (self.pages if path == self.path else [[]])

    def post(self, path: str, body: object) -> dict:
        return {"results": []}


def test_a_record_without_an_id_fails_the_read_naming_the_type_and_nothing_is_returned() -> None:
    client = _Answers("/marketing/v3/emails", [[{"name": "no id"}]])
    rows = fetch_other_objects(client, {"type_access": {}, "owners": []})  # type: ignore[arg-type]
    with pytest.raises(HubSpotError, match=r"marketing_emails \(0-29\): /marketing/v3/emails answered"):
        list(rows.batches)


class _Account:
    """A scripted client: listings per path (`?archived` for the archived listing), submissions per
    form, deals and their splits; it notes the params each listing was asked with."""

    def __init__(self) -> None:
        self.listings: dict[str, list[dict]] = {}
        self.splits: dict[str, list[dict]] = {}
        self.failing_deals: set[str] = set()
        self.asked: dict[str, list[dict]] = {}

    def paginate(
        self, path: str, params: dict | None = None, *, page_size: int = 100
    ) -> Iterator[list[dict]]:
        self.asked.setdefault(path, []).append(dict(params or {}))
        archived = (params or {}).get("archived") == "true"
        yield list(self.listings.get(path + ("?archived" if archived else ""), []))

    def paginate_search(self, type_id: str, body: dict, *, page_size: int = 100) -> Iterator[list[dict]]:
        yield list(self.listings.get("/crm/v3/objects/deals", []))

    def batch(self, path: str, inputs: list[dict], *, chunk: int) -> Iterator[BatchResult]:
        ids = [i["id"] for i in inputs]
        yield BatchResult(
            results=[{"id": d, "splits": self.splits.get(d, [])} for d in ids if d not in self.failing_deals],
            errors=[
                {
                    "category": "RATE_LIMITS",
                    "message": "try later",
                    "context": {"ids": sorted(self.failing_deals)},
                }
            ],
        )

    def post(self, path: str, body: object) -> dict:
        return {"results": []}


def _snapshot(client: _Account, day: date, previous: pa.Table | None = None, **deps: object) -> pa.Table:
    rows = fetch_other_objects(  # type: ignore[arg-type]
        client, {"type_access": {}, "owners": [], "previous": previous, "day": day, "refresh_days": 7, **deps}
    )
    return pa.Table.from_batches(list(rows.batches), schema=OTHER_SCHEMA)


def _ids(table: pa.Table, type_id: str) -> list[int]:
    mine = table.filter(pc.equal(table.column("type_id"), type_id))
    return sorted(i for i in mine.column("object_id").to_pylist() if i >= 0)


SUBMISSIONS = "/form-integrations/v1/submissions/forms/f1"
MS = 1_778_400_000_000  # 2026-05-10


def _submission(conversion: int, at_ms: int) -> dict:
    return {
        "conversionId": f"{conversion:08x}-0000-4000-8000-000000000000",
        "submittedAt": at_ms,
        "values": [],
    }


def test_forms_of_every_type_are_listed() -> None:
    client = _Account()
    _snapshot(client, date(2026, 5, 10))
    assert {p.get("formTypes") for p in client.asked["/marketing/v3/forms"]} == {
        "all"
    }  # HubSpot's default: hubspot only


def test_a_submission_listed_late_is_read_and_the_whole_read_drops_deleted_ones() -> None:
    client = _Account()
    client.listings["/marketing/v3/forms"] = [{"id": "f1", "name": "Signup", "formType": "flow"}]
    client.listings[SUBMISSIONS] = [_submission(2, MS), _submission(1, MS - 60_000)]  # newest first
    day0 = _snapshot(client, date(2026, 5, 10))
    assert len(_ids(day0, "0-15")) == 2
    # the next day HubSpot lists one sent 10 minutes before the newest held, and a new one
    client.listings[SUBMISSIONS] = [_submission(4, MS + 3_600_000), _submission(2, MS), _submission(3, MS - 600_000),
                                    _submission(1, MS - 60_000)]  # fmt: skip
    day1 = _snapshot(client, date(2026, 5, 11), day0)
    assert len(_ids(day1, "0-15")) == 4, "a submission sent in late is read"
    # one is deleted (a GDPR deletion): kept until the whole read, 7 days after the last
    client.listings[SUBMISSIONS] = [s for s in client.listings[SUBMISSIONS] if s["submittedAt"] != MS]
    day2 = _snapshot(client, date(2026, 5, 12), day1)
    assert len(_ids(day2, "0-15")) == 4
    day7 = _snapshot(client, date(2026, 5, 17), day2)
    assert len(_ids(day7, "0-15")) == 3, "the whole read drops the deleted submission"


def test_submissions_are_read_when_the_settings_leave_forms_out() -> None:
    client = _Account()
    client.listings["/marketing/v3/forms"] = [{"id": "f1", "name": "Signup", "formType": "hubspot"}]
    client.listings[SUBMISSIONS] = [_submission(1, MS)]
    selection = parse_selection('{"object_types": {"forms": {"sync": false}}}')
    snap = _snapshot(client, date(2026, 5, 10), selection=selection)
    assert _ids(snap, "0-28") == [] and len(_ids(snap, "0-15")) == 1


def test_a_deal_whose_splits_read_failed_keeps_the_splits_held_for_it() -> None:
    client = _Account()
    stamp = "2026-05-10T08:00:00.000Z"
    client.listings["/crm/v3/objects/deals"] = [
        {"id": d, "properties": {"hs_lastmodifieddate": stamp}} for d in ("1", "2")
    ]
    client.splits = {"1": [{"id": "101", "createdAt": stamp}], "2": [{"id": "201", "createdAt": stamp}]}
    day0 = _snapshot(client, date(2026, 5, 10))
    assert _ids(day0, "0-72") == [101, 201]
    client.splits = {"1": [{"id": "102", "createdAt": stamp}], "2": []}
    client.failing_deals = {"2"}
    day1 = _snapshot(client, date(2026, 5, 11), day0)
    assert _ids(day1, "0-72") == [102, 201], "deal 1 re-read; deal 2's read failed, its split is kept"


def test_history_rows_stop_at_the_moment_and_values_stay_as_read() -> None:
    edited = _Row(
        1, "2026-05-01T00:00:00.000Z", "2026-05-11T01:00:00.000Z", False, None, {"id": "1", "name": "b"}
    )
    other = OtherObjects(lambda: _rows(edited, at=T1))
    (batch,) = other.as_of_batches("0-29", datetime(2026, 5, 11, tzinfo=UTC), values=True, history=True)
    assert batch.values is not None and batch.history is not None
    assert batch.values.column("value").to_pylist() == ["1", "b"]
    assert batch.history.num_rows == 0, "edited after the day's end: no history entry in the day"
