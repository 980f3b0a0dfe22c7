"""The alert sensors against a local webhook: what a failed run and a failed non-blocking check post.

Three tiny daily-partitioned assets are materialized once in a test instance: one whose blocking check
fails (the failed result, then `dg.Failure`, as `defs/assets.py` does), one published with a failed
non-blocking check, and one whose step raises an ordinary error.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest

from hubspot_pipeline.defs.alerts import (
    UNSET_REASON,
    WEBHOOK_ENV,
    AlertWebhookError,
    alert_sensors,
    hubspot_alerts,
    hubspot_check_alerts,
    post_message,
)

DAY = "2026-11-20"
SECRET_PATH = "/services/T000/B000/secret-token"
days = dg.DailyPartitionsDefinition(start_date="2026-11-01")
OWNERS = dg.AssetKey(["hubspot", "owners"])
SYNC_HEALTH = dg.AssetKey(["hubspot", "sync_health"])


def _spec(name: str, key: dg.AssetKey, blocking: bool, description: str) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks are preview in 1.13
        return dg.AssetCheckSpec(
            name, asset=key, blocking=blocking, description=description, partitions_def=days
        )


@dg.asset(
    key=OWNERS,
    partitions_def=days,
    check_specs=[
        _spec("primary_key_unique", OWNERS, True, "No two rows share (ID)."),
        _spec("owners_have_email", OWNERS, False, "Every owner has an email."),
    ],
)
def owners() -> Iterator[dg.AssetCheckResult]:
    yield dg.AssetCheckResult(
        check_name="owners_have_email",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing": 2},
    )
    yield dg.AssetCheckResult(
        check_name="primary_key_unique",
        passed=False,
        description="primary key (ID) unique in OWNERS",
        metadata={
            "duplicate_keys": dg.MetadataValue.json({"OWNERS": 7}),
            "examples": dg.MetadataValue.json({"OWNERS": [[str(i)] for i in range(1, 8)]}),
        },
    )
    raise dg.Failure(description="OWNERS not published: blocking checks failed: primary_key_unique")


@dg.asset(
    key=SYNC_HEALTH,
    partitions_def=days,
    check_specs=[_spec("no_failed_records", SYNC_HEALTH, False, "No record of the day failed to sync.")],
)
def sync_health() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="no_failed_records",
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"failed": dg.MetadataValue.json({"0-1/FAILED_API": 3})},
            )
        ]
    )


@dg.asset(key=["hubspot", "deals"], partitions_def=days)
def deals() -> None:
    raise ValueError("HubSpot answered 502 three times\nsecond line")


@dataclass
class Webhook:
    url: str
    status: int = 200
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A local webhook that records each POST before it answers, so a post is seen once it returns."""
    hook = Webhook(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.posts.append((self.path, json.loads(body)))
            self.send_response(hook.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    monkeypatch.setenv(WEBHOOK_ENV, hook.url)
    monkeypatch.setenv("HUBSPOT_DAGSTER_UI_URL", "http://dagster.example:3000/")
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Runs:
    instance: dg.DagsterInstance
    owners: dg.ExecuteInProcessResult
    sync_health: dg.ExecuteInProcessResult
    deals: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def runs() -> Iterator[Runs]:
    with dg.instance_for_test() as instance:

        def run(asset: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
            return dg.materialize([asset], instance=instance, partition_key=DAY, raise_on_error=False)

        yield Runs(instance, run(owners), run(sync_health), run(deals))


def _evaluate_run_failure(runs: Runs, result: dg.ExecuteInProcessResult) -> object:
    context = dg.build_run_status_sensor_context(
        sensor_name="hubspot_alerts",
        dagster_instance=runs.instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    )
    return hubspot_alerts(context)


def test_failed_run_posts_its_checks_steps_and_link(runs: Runs, webhook: Webhook) -> None:
    assert not runs.owners.success
    assert _evaluate_run_failure(runs, runs.owners) is None

    [(path, message)] = webhook.posts
    assert path == SECRET_PATH
    text = message["text"]
    assert f"day {DAY}" in text
    assert runs.owners.dagster_run.job_name in text
    assert "- hubspot/owners primary_key_unique (ERROR, blocking): primary key (ID) unique in OWNERS." in text
    assert 'duplicate_keys: {"OWNERS": 7}' in text
    # five examples, then how many more
    assert '[["1"], ["2"], ["3"], ["4"], ["5"], "+2 more"]' in text
    assert '["6"]' not in text
    # the non-blocking check of the failed run is in this message (the check sensor skips failed runs)
    assert "- hubspot/owners owners_have_email (WARN, non-blocking). missing: 2" in text
    assert (
        "- hubspot__owners: Failure: OWNERS not published: blocking checks failed: primary_key_unique" in text
    )
    link = f"http://dagster.example:3000/runs/{runs.owners.run_id}"
    assert text.endswith(f"Run: {link}")

    [block] = message["blocks"]
    assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
    marked = block["text"]["text"]
    assert "`hubspot/owners` *primary_key_unique*" in marked
    assert f"<{link}|Open run {runs.owners.run_id[:8]} in Dagster>" in marked


def test_failed_step_names_the_user_error_not_dagsters_wrapper(runs: Runs, webhook: Webhook) -> None:
    assert _evaluate_run_failure(runs, runs.deals) is None
    [(_, message)] = webhook.posts
    assert "- hubspot__deals: ValueError: HubSpot answered 502 three times\n" in message["text"]
    assert "second line" not in message["text"]
    assert "Failed checks" not in message["text"]


def test_check_sensor_posts_a_published_failed_check_once(runs: Runs, webhook: Webhook) -> None:
    context = dg.build_sensor_context(instance=runs.instance, cursor=None)
    skip = hubspot_check_alerts(context)
    assert isinstance(skip, dg.SkipReason)
    assert "1 alert(s) posted" in (skip.skip_message or "")

    # one post: the failed runs (owners' non-blocking check included) are the run-failure sensor's
    [(_, message)] = webhook.posts
    text = message["text"]
    assert text.startswith(
        f"HubSpot export published with failed checks: job __ephemeral_asset_job__, day {DAY}"
    )
    assert "- hubspot/sync_health no_failed_records (ERROR, non-blocking). failed: {" in text
    assert '"0-1/FAILED_API": 3' in text
    assert "owners" not in text
    assert text.endswith(f"Run: http://dagster.example:3000/runs/{runs.sync_health.run_id}")

    # the cursor is past the run: a second evaluation posts nothing
    cursor = context.cursor
    assert cursor is not None
    again = dg.build_sensor_context(instance=runs.instance, cursor=cursor)
    hubspot_check_alerts(again)
    assert len(webhook.posts) == 1
    assert again.cursor == cursor


def test_unset_url_posts_nothing_and_says_why(
    runs: Runs, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WEBHOOK_ENV)
    skip = _evaluate_run_failure(runs, runs.owners)
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == UNSET_REASON
    assert f"{WEBHOOK_ENV} is not set" in UNSET_REASON

    context = dg.build_sensor_context(instance=runs.instance, cursor=None)
    skip = hubspot_check_alerts(context)
    assert isinstance(skip, dg.SkipReason) and skip.skip_message == UNSET_REASON
    assert context.cursor is None  # nothing read, so nothing is lost once the variable is set
    assert webhook.posts == []


def test_webhook_500_raises_naming_the_variable_not_the_secret(runs: Runs, webhook: Webhook) -> None:
    webhook.status = 500
    with pytest.raises(AlertWebhookError) as raised:
        _evaluate_run_failure(runs, runs.owners)
    message = str(raised.value)
    assert WEBHOOK_ENV in message and "HTTP 500" in message
    assert "http://127.0.0.1:" in message
    assert "secret-token" not in message and "/services" not in message
    assert len(webhook.posts) == 1


def test_unreachable_webhook_raises_without_the_url() -> None:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AlertWebhookError) as raised:
        post_message(f"http://127.0.0.1:{port}{SECRET_PATH}", {"text": "x"})
    message = str(raised.value)
    assert WEBHOOK_ENV in message and "ConnectionError" in message
    assert "secret-token" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_not_an_http_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(AlertWebhookError, match=f"{WEBHOOK_ENV} must be an http") as raised:
        post_message("hooks.slack.com/services/T000/B000/secret-token", {"text": "x"})
    assert "secret-token" not in str(raised.value)


def test_the_sensors_load_in_definitions() -> None:
    defs = dg.Definitions(assets=[owners, sync_health], sensors=alert_sensors)
    repository = defs.get_repository_def()
    assert {s.name for s in repository.sensor_defs} == {"hubspot_alerts", "hubspot_check_alerts"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in alert_sensors)
    assert hubspot_check_alerts.minimum_interval_seconds == 60
