"""The sandbox's marketing and content APIs: marketing emails, campaigns, landing and site pages, blog
posts, forms, form submissions, sequences and deal splits (`hubspot_sandbox/model/marketing.py`).

Every list is paged end to end and compared with the model's truth (`sb.account.marketing`); the
golden of this file (`data/sandbox_golden_marketing.json`) keeps the bytes of one request per route
and option; re-record after an intended change with

    .venv/bin/python -m hubspot_pipeline_tests.test_sandbox_marketing --record
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from hubspot_pipeline_tests import test_sandbox_golden as golden
from hubspot_pipeline_tests.test_sandbox_golden import GoldenRequest
from hubspot_sandbox import Sandbox, SandboxConfig
from hubspot_sandbox.endpoints import marketing as endpoints
from hubspot_sandbox.model import Account
from hubspot_sandbox.model.marketing import KINDS, Marketing, encode_cursor
from hubspot_sandbox.model.timefmt import DAY_MS
from hubspot_sandbox.routes import ROUTES, Route, Router, split_path

FIXTURE = Path(__file__).parent / "data" / "sandbox_golden_marketing.json"
CONFIG = SandboxConfig(seed=7, scale="tiny")
GOLDEN_CONFIGS: dict[str, SandboxConfig] = {
    "tiny": SandboxConfig(seed=1, scale="tiny"),
    "small": SandboxConfig(seed=1, scale="small"),
}
PATHS = {
    "marketing_emails": "/marketing/v3/emails",
    "campaigns": "/marketing/v3/campaigns",
    "landing_pages": "/cms/v3/pages/landing-pages",
    "site_pages": "/cms/v3/pages/site-pages",
    "blog_posts": "/cms/v3/blogs/posts",
    "forms": "/marketing/v3/forms",
}
ARCHIVABLE = ("marketing_emails", "landing_pages", "site_pages", "blog_posts", "forms")
CMS = ("landing_pages", "site_pages", "blog_posts")
CAMPAIGN_PROPERTIES = "hs_name,hs_start_date,hs_end_date,hs_notes,hs_audience,hs_currency_code,hs_campaign_status,hs_owner,hs_color_hex,hs_utm"
SPLITS = "/crm/v3/objects/deals/splits/batch/read"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(CONFIG) as sandbox:
        sandbox.advance(2)  # archived, edited, created and deleted records exist
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[requests.Session]:
    with sb.session() as session:
        yield session


def get(sb: Sandbox, api: requests.Session, path: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"{sb.base_url}{path}", params=params or None)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def page_all(sb: Sandbox, api: requests.Session, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every result of a list, page by page through `paging.next.after` (and its link)."""
    out: list[dict[str, Any]] = []
    body = get(sb, api, path, **params)
    total = body.get("total")
    while True:
        out.extend(body["results"])
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            break
        assert nxt["link"].endswith(f"after={requests.utils.quote(nxt['after'], safe='')}")
        body = get(sb, api, path, **{**params, "after": nxt["after"]})
        assert body.get("total") == total
    if total is not None:
        assert total == len(out)
    return out


def updated_key(kind: str) -> str:
    return "updated" if kind in CMS else "updatedAt"


# -- lists equal the model ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PATHS))
def test_each_list_pages_to_exactly_the_models_records(sb: Sandbox, api: requests.Session, kind: str) -> None:
    mk = sb.account.marketing
    params = {"limit": 2, **({"properties": CAMPAIGN_PROPERTIES} if kind == "campaigns" else {})}
    live = page_all(sb, api, PATHS[kind], **params)
    assert live == mk.records(kind)
    assert live and len({r["id"] for r in live}) == len(live)
    if kind in ARCHIVABLE:
        archived = page_all(sb, api, PATHS[kind], archived="true", **params)
        assert archived == mk.records(kind, archived=True)
        assert archived  # one a day (forms: once more than two are live)
        flag = "archivedInDashboard" if kind in CMS else "archived"
        assert all(r[flag] for r in archived) and not any(r[flag] for r in live)
    else:  # hard deletes: no archived listing to speak of
        assert len(live) == len(mk.assets[kind])


def test_record_shapes_and_values(sb: Sandbox, api: requests.Session) -> None:
    mk = sb.account.marketing
    campaign_ids = {c["id"] for c in mk.records("campaigns", archived=None)}
    emails = mk.records("marketing_emails", archived=None)
    for email in emails:
        assert email["id"].isdigit() and email["state"] in ("DRAFT", "PUBLISHED", "SCHEDULED", "AUTOMATED")
        assert {"name", "subject", "type", "subcategory", "language", "from", "content", "createdAt"} <= set(
            email
        )
        assert email["isPublished"] == (email["state"] in ("PUBLISHED", "AUTOMATED"))
    small = Account(1, "small", dt.date(2026, 1, 1)).marketing
    linked = [e for e in small.records("marketing_emails") if "campaign" in e]
    small_campaigns = {c["id"] for c in small.records("campaigns")}
    assert linked and {e["campaign"] for e in linked} <= small_campaigns  # day 0: none deleted yet
    assert campaign_ids
    for kind in CMS:
        for page in mk.records(kind, archived=None):
            assert page["url"].startswith(f"https://{page['domain']}/") and page["domain"].endswith(
                ".example.com"
            )
            assert page["id"].isdigit() and page["slug"] in page["url"]
            if kind == "blog_posts":
                assert isinstance(page["archivedAt"], int) and all(isinstance(t, int) for t in page["tagIds"])
    texts = [
        v
        for kind in ("marketing_emails", *CMS)
        for r in small.records(kind)
        for v in (r["name"], r.get("subject", ""))
    ]
    assert (
        any("\n" in t for t in texts) and any('"' in t for t in texts) and any(not t.isascii() for t in texts)
    )
    campaign = get(sb, api, PATHS["campaigns"], limit=1)["results"][0]
    assert set(campaign) == {"id", "properties", "createdAt", "updatedAt", "businessUnits"}
    assert campaign["properties"] == {}  # nothing asked, nothing answered (inferred)
    one = get(sb, api, PATHS["campaigns"], limit=1, properties="hs_name,nope")["results"][0]
    assert list(one["properties"]) == ["hs_name"]
    form = mk.records("forms")[0]
    assert form["formType"] == "hubspot" and form["fieldGroups"][0]["fields"][0]["name"] == "email"


# -- filters, sort, limits ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["marketing_emails", *CMS])
def test_updated_after_keeps_later_updates(sb: Sandbox, api: requests.Session, kind: str) -> None:
    key = updated_key(kind)
    records = sb.account.marketing.records(kind)
    times = sorted(r[key] for r in records)
    pivot = times[len(times) // 2]
    got = page_all(sb, api, PATHS[kind], updatedAfter=pivot, limit=3)
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in records if r[key] > pivot)
    assert got and all(r[key] > pivot for r in got)
    # the day's changes are just what an incremental read since the day before sees
    since = sb.account.now - dt.timedelta(days=1)
    recent = page_all(sb, api, PATHS[kind], updatedAfter=since.isoformat().replace("+00:00", "Z"))
    assert recent and all(r[key] >= since.isoformat()[:10] for r in recent)
    bad = api.get(f"{sb.base_url}{PATHS[kind]}", params={"updatedAfter": "yesterday"})
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("kind", ["marketing_emails", "landing_pages", "campaigns"])
def test_sort_ascending_and_descending(sb: Sandbox, api: requests.Session, kind: str) -> None:
    updated = "updatedAt" if kind != "landing_pages" else "updated"
    name = "hs_name" if kind == "campaigns" else "name"
    down = page_all(sb, api, PATHS[kind], sort="-updatedAt", limit=2)
    assert [r[updated] for r in down] == sorted((r[updated] for r in down), reverse=True)
    by_name = page_all(sb, api, PATHS[kind], sort=name, properties="hs_name")
    names = [r["properties"]["hs_name"] if kind == "campaigns" else r["name"] for r in by_name]
    assert names == sorted(names)
    assert api.get(f"{sb.base_url}{PATHS[kind]}", params={"sort": "color"}).status_code == 400


def test_limits_clamp_except_submissions(sb: Sandbox, api: requests.Session) -> None:
    body = get(sb, api, PATHS["blog_posts"], limit=1000)
    assert len(body["results"]) == body["total"] <= endpoints.MAX_LIMIT and "paging" not in body
    assert len(get(sb, api, PATHS["blog_posts"])["results"]) == min(body["total"], endpoints.DEFAULT_LIMIT)
    assert api.get(f"{sb.base_url}{PATHS['forms']}", params={"limit": 0}).status_code == 400
    assert api.get(f"{sb.base_url}{PATHS['forms']}", params={"after": "not a cursor"}).status_code == 400
    form = sb.account.marketing.records("forms")[0]["id"]
    url = f"{sb.base_url}/form-integrations/v1/submissions/forms/{form}"
    assert api.get(url, params={"limit": 50}).status_code == 200
    too_many = api.get(url, params={"limit": 51})
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"
    assert len(api.get(url).json()["results"]) == min(20, len(sb.account.marketing.submissions(form)))


# -- form submissions ---------------------------------------------------------------------------------


def test_submissions_newest_first_with_cursors_that_survive_new_arrivals() -> None:
    with Sandbox(CONFIG) as sb, sb.session() as api:
        mk = sb.account.marketing
        form = mk.records("forms")[0]["id"]
        path = f"/form-integrations/v1/submissions/forms/{form}"
        every = page_all(sb, api, path, limit=2)
        assert every == mk.submissions(form) and len(every) == 5
        assert [s["submittedAt"] for s in every] == sorted((s["submittedAt"] for s in every), reverse=True)
        assert "total" not in get(sb, api, path)
        first = get(sb, api, path, limit=2)
        assert {v["name"] for v in first["results"][0]["values"]} >= {"email"}
        sb.advance(1)  # new submissions arrive on top; the cursor goes on with the older ones
        rest = page_all(sb, api, path, limit=2, after=first["paging"]["next"]["after"])
        assert first["results"] + rest == every
        now = mk.submissions(form)
        assert len(now) > len(every) and now[len(now) - len(every) :] == every
        assert now[0]["submittedAt"] >= sb.account.now_ms - DAY_MS
        assert api.get(f"{sb.base_url}/form-integrations/v1/submissions/forms/nope").status_code == 404


# -- sequences ------------------------------------------------------------------------------------------


def test_sequences_are_per_user_and_need_the_user(sb: Sandbox, api: requests.Session) -> None:
    mk = sb.account.marketing
    missing = api.get(f"{sb.base_url}/automation/v4/sequences")
    assert missing.status_code == 400 and missing.json()["category"] == "VALIDATION_ERROR"
    owning = mk.sequence_user_ids()
    users = [int(u["id"]) for u in sb.account.users()]
    assert 0 < len(owning) < len(users)
    seen = []
    for user in users:
        got = page_all(sb, api, "/automation/v4/sequences", userId=str(user), limit=1)
        assert got == [s for s in mk.records("sequences") if s["userId"] == str(user)]
        if user not in owning:
            assert not got
        seen += got
    assert seen and sorted(s["id"] for s in seen) == sorted(s["id"] for s in mk.records("sequences"))
    assert set(seen[0]) == {"id", "name", "userId", "folderId", "createdAt", "updatedAt"}
    assert get(sb, api, "/automation/v4/sequences", userId="1")["total"] == 0


# -- deal splits --------------------------------------------------------------------------------------


def test_deal_splits_batch_read() -> None:
    with Sandbox(SandboxConfig(seed=1, scale="small")) as sb, sb.session() as api:
        mk = sb.account.marketing
        deals = sb.account.tables["0-3"]
        with_splits = mk.split_deal_ids()
        live = [int(i) for i in deals.ids[deals.archived == 0].tolist()]
        assert 0.06 < len(with_splits) / len(live) < 0.14
        without = next(d for d in live if d not in with_splits)
        ids = [*with_splits[:5], without, 123]
        for path in (SPLITS, "/crm/objects/v3/deals/splits/batch/read"):
            response = api.post(f"{sb.base_url}{path}", json={"inputs": [{"id": str(i)} for i in ids]})
            assert response.status_code == 207, response.text
            body = response.json()
            assert body["status"] == "COMPLETE" and body["errors"][0]["context"]["ids"] == ["123"]
            results = {r["id"]: r["splits"] for r in body["results"]}
            assert results == {str(d): mk.deal_splits(d) for d in ids[:6]}
        assert results[str(without)] == []
        owners = {
            str(v.id): v.properties["hubspot_owner_id"]
            for v in sb.account.records("0-3", with_splits, ["hubspot_owner_id"])
            if v
        }
        for deal in with_splits:
            splits = mk.deal_splits(deal)
            assert 2 <= len(splits) <= 3
            assert sum(Decimal(s["properties"]["hs_deal_split_percentage"]) for s in splits) == 1
            assert owners[str(deal)] is None or owners[str(deal)] in {
                s["properties"]["hubspot_owner_id"] for s in splits
            }
        ok = api.post(f"{sb.base_url}{SPLITS}", json={"inputs": [{"id": str(with_splits[0])}]})
        assert ok.status_code == 200 and set(ok.json()["results"][0]["splits"][0]) == {
            "id", "properties", "createdAt", "updatedAt", "archived"}  # fmt: skip
        too_many = api.post(f"{sb.base_url}{SPLITS}", json={"inputs": [{"id": str(d)} for d in live[:101]]})
        assert too_many.status_code == 400


def test_split_changes_only_on_deals_the_day_wrote_to() -> None:
    acct = Account(1, "small", dt.date(2026, 1, 1))
    mk, deals = acct.marketing, acct.tables["0-3"]
    changed_any = 0
    for _ in range(3):
        before = {d: mk.deal_splits(d) for d in mk.splits}
        start = acct.now_ms
        acct.advance(1)
        after = {d: mk.deal_splits(d) for d in mk.splits}
        changed = [d for d in after if after[d] != before.get(d, [])]
        changed_any += len(changed)
        for d in changed:
            idx = deals.index_of(d)
            assert deals.updated[idx] >= start and not deals.archived[idx]
            for split in after[d]:
                assert split["updatedAt"] <= acct.now.isoformat()  # within the day
    assert changed_any >= 3


# -- scopes, limits, faults ---------------------------------------------------------------------------


def test_missing_scopes_answer_403_and_each_scope_opens_its_routes(sb: Sandbox) -> None:
    form = sb.account.marketing.records("forms")[0]["id"]
    cases = [
        ("GET", PATHS["marketing_emails"], None, "content"),
        ("GET", PATHS["campaigns"], None, "marketing.campaigns.read"),
        ("GET", PATHS["landing_pages"], None, "content"),
        ("GET", PATHS["site_pages"], None, "content"),
        ("GET", PATHS["blog_posts"], None, "content"),
        ("GET", PATHS["forms"], None, "forms"),
        ("GET", f"/form-integrations/v1/submissions/forms/{form}", None, "forms"),
        ("GET", f"/automation/v4/sequences?userId={sb.account.marketing.sequence_user_ids()[0]}", None,
         "automation.sequences.read"),
        ("POST", SPLITS, {"inputs": [{"id": str(sb.account.tables["0-3"].ids[0])}]}, "crm.dealsplits.read_write"),
    ]  # fmt: skip
    everything_but_content = {scope for *_, scope in cases} - {"content"}
    sb.add_token("pat-no-content", scopes=everything_but_content | {"crm.objects.deals.read"})
    for method, path, body, scope in cases:
        sb.add_token(f"pat-{scope}", scopes=[scope])
        with sb.session("pat-no-content") as lacking, sb.session(f"pat-{scope}") as granted:
            answer = lacking.request(method, f"{sb.base_url}{path}", json=body)
            if scope == "content":
                assert answer.status_code == 403, path
                assert answer.json()["category"] == "MISSING_SCOPES"
                assert scope in answer.json()["errors"][0]["context"]["requiredScopes"]
            else:
                assert answer.status_code in (200, 207), path
            assert granted.request(method, f"{sb.base_url}{path}", json=body).status_code in (200, 207), path
    with sb.session() as full:  # the config's token holds every scope
        assert all(
            full.request(m, f"{sb.base_url}{p}", json=b).status_code in (200, 207) for m, p, b, _ in cases
        )


def test_marketing_routes_are_counted_rate_limited_and_faulted(sb: Sandbox, api: requests.Session) -> None:
    sb.reset_calls()
    url = f"{sb.base_url}{PATHS['landing_pages']}"
    sb.inject_fault("503", path_prefix="/cms/v3/pages")
    assert api.get(url).status_code == 503
    assert api.get(url).status_code == 200
    assert sb.calls["GET /cms/v3/pages/landing-pages"] == 2
    assert sb.rejected["503 GET /cms/v3/pages/landing-pages"] == 1
    sb.set_rate_limits(enabled=True, burst=2, daily=1000)
    try:
        answers = [api.get(f"{sb.base_url}{PATHS['forms']}") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "2"
    finally:
        sb.set_rate_limits(enabled=False)


# -- determinism and the day's changes ------------------------------------------------------------------


def test_same_seed_same_answers_and_the_days_change_them() -> None:
    with Sandbox(CONFIG) as one, Sandbox(CONFIG) as two, one.session() as a, two.session() as b:
        a.headers["Host"] = b.headers["Host"] = golden.HOST
        requests_ = marketing_requests(one.account)
        day0 = {}
        for req in requests_:
            x = a.request(req.method, f"{one.base_url}{req.path}", params=req.params, json=req.body)
            y = b.request(req.method, f"{two.base_url}{req.path}", params=req.params, json=req.body)
            assert golden._digest(x) == golden._digest(y), req.name
            day0[req.name] = golden._digest(x)
        truth0 = {kind: one.account.marketing.records(kind, archived=None) for kind in KINDS}
        one.advance(1)
        two.advance(1)
        changed = 0
        for req in requests_:
            x = a.request(req.method, f"{one.base_url}{req.path}", params=req.params, json=req.body)
            y = b.request(req.method, f"{two.base_url}{req.path}", params=req.params, json=req.body)
            assert golden._digest(x) == golden._digest(y), req.name
            changed += golden._digest(x) != day0[req.name]
        assert changed >= 5
        for kind in KINDS:
            now = one.account.marketing.records(kind, archived=None)
            day_start = (one.account.now - dt.timedelta(days=1)).isoformat()[:10]
            key = updated_key(kind)
            assert now != truth0[kind], kind
            assert any(r[key] >= day_start for r in now), kind  # edits and creates fall within the day


def test_the_crm_day_is_the_same_with_or_without_the_marketing_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """The marketing day draws from streams of its own: switching it off changes nothing of the CRM types."""
    with_marketing = Account(3, "tiny", dt.date(2026, 1, 1))
    with_marketing.advance(3)
    monkeypatch.setattr(Marketing, "advance_day", lambda *a, **k: None)
    without = Account(3, "tiny", dt.date(2026, 1, 1))
    without.advance(3)
    assert without.marketing.records("marketing_emails") != with_marketing.marketing.records(
        "marketing_emails"
    )
    for type_id, table in with_marketing.tables.items():
        other = without.tables[type_id]
        for column in ("ids", "updated", "archived"):
            assert np.array_equal(getattr(table, column), getattr(other, column)), (type_id, column)
    contacts = [int(i) for i in with_marketing.tables["0-1"].ids[:20].tolist()]
    names = ["email", "lastmodifieddate", "lifecyclestage"]
    assert with_marketing.records("0-1", contacts, names, names) == without.records(
        "0-1", contacts, names, names
    )


# -- golden -------------------------------------------------------------------------------------------


def marketing_requests(account: Account) -> list[GoldenRequest]:
    """One request per route and option; ids come from the day-0 account."""
    mk = account.marketing
    form = mk.records("forms")[0]["id"]
    user = str(mk.sequence_user_ids()[0])
    deals = [str(d) for d in mk.split_deal_ids()[:3]] + [str(account.tables["0-3"].ids[0]), "123"]
    since = (account.now - dt.timedelta(days=200)).isoformat().replace("+00:00", "Z")
    subs = f"/form-integrations/v1/submissions/forms/{form}"
    return [
        GoldenRequest("emails", "GET", PATHS["marketing_emails"], {"limit": "100"}),
        GoldenRequest("emails-page", "GET", PATHS["marketing_emails"], {"limit": "2", "after": encode_cursor(2)}),
        GoldenRequest("emails-since", "GET", PATHS["marketing_emails"], {"updatedAfter": since, "sort": "-updatedAt"}),
        GoldenRequest("emails-archived", "GET", PATHS["marketing_emails"], {"archived": "true"}),
        GoldenRequest("campaigns", "GET", PATHS["campaigns"], {"properties": CAMPAIGN_PROPERTIES, "sort": "hs_name"}),
        GoldenRequest("campaigns-bare", "GET", PATHS["campaigns"], {"limit": "2"}),
        GoldenRequest("landing-pages", "GET", PATHS["landing_pages"], {"limit": "100"}),
        GoldenRequest("site-pages", "GET", PATHS["site_pages"], {"updatedAfter": since, "sort": "-updatedAt"}),
        GoldenRequest("blog-posts", "GET", PATHS["blog_posts"], {"limit": "100", "archived": "true"}),
        GoldenRequest("blog-posts-created", "GET", PATHS["blog_posts"], {"createdAfter": since, "sort": "name"}),
        GoldenRequest("forms", "GET", PATHS["forms"], {"limit": "100"}),
        GoldenRequest("forms-archived", "GET", PATHS["forms"], {"archived": "true", "formTypes": "all"}),
        GoldenRequest("submissions", "GET", subs, {"limit": "50"}),
        GoldenRequest("submissions-page", "GET", subs, {"limit": "2", "after": encode_cursor(1)}),
        GoldenRequest("submissions-too-many", "GET", subs, {"limit": "51"}),
        GoldenRequest("sequences", "GET", "/automation/v4/sequences", {"userId": user}),
        GoldenRequest("sequences-no-user", "GET", "/automation/v4/sequences"),
        GoldenRequest("splits", "POST", SPLITS, body={"inputs": [{"id": d} for d in deals]}),
        GoldenRequest("splits-legacy-path", "POST", "/crm/objects/v3/deals/splits/batch/read",
                      body={"inputs": [{"id": d} for d in deals[:2]]}),
        GoldenRequest("emails-bad-sort", "GET", PATHS["marketing_emails"], {"sort": "subject"}),
    ]  # fmt: skip


def test_golden_requests_reach_every_marketing_route() -> None:
    router = Router(ROUTES)
    reached = set()
    for req in marketing_requests(Account(1, "tiny", dt.date(2026, 1, 1))):
        matched = router.match(req.method, split_path(req.path))
        assert matched is not None, req.name
        reached.add(matched[0].key)
    assert {r.key for r in endpoints.routes(Route)} == reached


@pytest.mark.parametrize("name", sorted(GOLDEN_CONFIGS))
def test_marketing_golden_responses_are_byte_identical(name: str) -> None:
    golden.assert_unchanged(FIXTURE, name, golden.digests(GOLDEN_CONFIGS[name], marketing_requests))


if __name__ == "__main__" and "--record" in sys.argv:
    golden.record(FIXTURE, GOLDEN_CONFIGS, marketing_requests)
