"""Alerts: failed runs and failed asset checks, posted as one Slack-compatible message each.

Dagster OSS shows a failed check only in its UI. These two sensors post it to a webhook
(`HUBSPOT_ALERT_WEBHOOK_URL`, Slack's incoming-webhook JSON; a receiver that ignores `blocks` shows the
plain `text`), so a day that was not published, or a day published with a failed check, is noticed:

- `hubspot_alerts` (run-failure sensor): a run of this code location failed. Its message names the job,
  the day, every failed check of the run with the figures that say what failed (duplicate keys, dangling
  references, a few examples), the failed steps with the first line of their error, and a link to the run.
  Blocking checks fail their run (`defs/table_io.py`), so this is how they are alerted.
- `hubspot_check_alerts`: a run that succeeded recorded failed checks, i.e. checks that did not stop it
  (non-blocking ones such as SYNC_HEALTH's `no_failed_records`). Failed runs are left to the first sensor,
  so no check is posted twice.

`failure_message` builds the message of both, `post_message` posts it. Without the webhook variable both
sensors skip, saying so. The module imports nothing of the pipeline: the definitions import it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import requests

WEBHOOK_ENV = "HUBSPOT_ALERT_WEBHOOK_URL"
UI_URL_ENV = "HUBSPOT_DAGSTER_UI_URL"
DEFAULT_UI_URL = "http://localhost:3000"
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")

EXAMPLES = 5  # items of a list (or dict) figure a message shows
MAX_FIGURES = 6  # metadata entries per failed check
MAX_CHECKS = 20  # failed checks per message; the run page lists them all
MAX_STEPS = 10
FIGURE_CHARS = 300
LINE_CHARS = 1200
SECTION_CHARS = 3000  # Slack's limit for the text of one section block
RUNS_PER_TICK = 25  # the check sensor reads at most this many finished runs per evaluation
FIRST_LOOK_BACK_SECONDS = 24 * 3600  # a new check sensor alerts the last day, not the whole history
UNSET_REASON = f"{WEBHOOK_ENV} is not set: no alert is posted"


class AlertWebhookError(RuntimeError):
    """The webhook did not take the alert; the message names the variable, never its secret path."""


@dataclass(frozen=True)
class CheckFailure:
    asset_key: str  # as the UI writes it: "hubspot/owners"
    check_name: str
    severity: str  # "ERROR" or "WARN"
    blocking: bool
    description: str | None
    figures: tuple[tuple[str, str], ...]  # (metadata key, short rendering)
    partition: str | None


@dataclass(frozen=True)
class StepFailure:
    step_key: str
    error: str  # the first line of the error


@dataclass(frozen=True)
class Failures:
    """What one message reports: what happened to which run, and the failures it found."""

    headline: str
    job_name: str
    partition: str | None
    run_id: str
    checks: tuple[CheckFailure, ...] = ()
    steps: tuple[StepFailure, ...] = ()
    reason: str | None = None  # the run's own failure message, when no step says why


# -- reading the run's event log ---------------------------------------------------------------------------


def run_partition(run: dg.DagsterRun) -> str | None:
    """The day of the run; a backfill run of a range of days names the range."""
    if run.tags.get(PARTITION_TAG):
        return run.tags[PARTITION_TAG]
    start, end = (run.tags.get(t) for t in RANGE_TAGS)
    if start and end:
        return start if start == end else f"{start}...{end}"
    return None


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[CheckFailure]:
    """The failed check evaluations the run recorded, in the order it recorded them."""
    found = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data if record.dagster_event else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        found.append(
            CheckFailure(
                asset_key=evaluation.asset_key.to_user_string(),
                check_name=evaluation.check_name,
                severity=evaluation.severity.value,
                blocking=bool(evaluation.blocking),
                description=evaluation.description,
                figures=tuple(
                    (key, render_figure(value))
                    for key, value in list(evaluation.metadata.items())[:MAX_FIGURES]
                ),
                partition=evaluation.partition,
            )
        )
    return found


def failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[StepFailure]:
    found = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        error = getattr(event.event_specific_data, "error", None) if event else None
        step_key = (event.step_key if event else None) or "?"
        found.append(StepFailure(step_key, first_error_line(error)))
    return found


def first_error_line(error: Any) -> str:
    """`Cls: message` of the error that says why: Dagster's wrapper of a user error ("Error occurred while
    executing op ...") is skipped for its cause, and the module path of the class is dropped."""
    if error is None:
        return "(no error recorded)"
    while error.cause is not None and error.cls_name.startswith("Dagster") and "Execution" in error.cls_name:
        error = error.cause
    lines = (error.message or "").strip().splitlines()
    line = lines[0] if lines else error.cls_name
    head, sep, rest = line.partition(": ")
    if sep and error.cls_name and head.endswith(error.cls_name):
        line = f"{error.cls_name}: {rest}"
    return _cut(line, FIGURE_CHARS)


def render_figure(value: object) -> str:
    """A metadata value in at most FIGURE_CHARS characters, each list cut to its first EXAMPLES items."""
    raw = getattr(value, "value", value)  # MetadataValue → its data
    if isinstance(raw, str):
        return _cut(raw, FIGURE_CHARS)
    return _cut(json.dumps(_shorten(raw), default=str, ensure_ascii=False), FIGURE_CHARS)


def _shorten(raw: object) -> object:
    if isinstance(raw, list | tuple):
        items = [_shorten(v) for v in raw[:EXAMPLES]]
        return [*items, f"+{len(raw) - EXAMPLES} more"] if len(raw) > EXAMPLES else items
    if isinstance(raw, Mapping):
        kept = {str(k): _shorten(v) for k, v in list(raw.items())[: EXAMPLES * 2]}
        if len(raw) > len(kept):
            kept["..."] = f"+{len(raw) - len(kept)} more"
        return kept
    return raw


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the message -------------------------------------------------------------------------------------------


def ui_url() -> str:
    return (os.environ.get(UI_URL_ENV) or "").strip().rstrip("/") or DEFAULT_UI_URL


def failure_message(failures: Failures, dagster_ui_url: str | None = None) -> dict[str, Any]:
    """Slack's webhook JSON: `text` is the whole alert in plain text (notifications, clients without
    blocks), `blocks` the same in mrkdwn sections."""
    link = f"{dagster_ui_url or ui_url()}/runs/{failures.run_id}"
    day = f"day {failures.partition}" if failures.partition else "no partition"
    plain = [f"{failures.headline}: job {failures.job_name}, {day}"]
    marked = [f"*{_esc(failures.headline)}*: job `{_code(failures.job_name)}`, {_esc(day)}"]

    def listing(title: str, count: int, shown: int) -> None:
        more = f", first {shown} shown" if count > shown else ""
        plain.append(f"{title} ({count}{more}):")
        marked.append(f"*{title}* ({count}{more}):")

    if failures.checks:
        listing("Failed checks", len(failures.checks), min(len(failures.checks), MAX_CHECKS))
        for c in failures.checks[:MAX_CHECKS]:
            # a run of several days names the day of each check
            other_day = f", day {c.partition}" if c.partition and c.partition != failures.partition else ""
            kind = f"{c.severity}, {'blocking' if c.blocking else 'non-blocking'}{other_day}"
            description = f": {_cut(c.description.rstrip('. '), FIGURE_CHARS)}" if c.description else ""
            plain_figures = "; ".join(f"{k}: {v}" for k, v in c.figures)
            marked_figures = "; ".join(f"{_esc(k)}: `{_code(v)}`" for k, v in c.figures)
            plain.append(
                _cut(
                    f"- {c.asset_key} {c.check_name} ({kind}){description}"
                    + (f". {plain_figures}" if plain_figures else ""),
                    LINE_CHARS,
                )
            )
            marked.append(
                _cut(
                    f"• `{_code(c.asset_key)}` *{_esc(c.check_name)}* ({kind}){_esc(description)}"
                    + (f". {marked_figures}" if marked_figures else ""),
                    LINE_CHARS,
                )
            )
    if failures.steps:
        listing("Failed steps", len(failures.steps), min(len(failures.steps), MAX_STEPS))
        for s in failures.steps[:MAX_STEPS]:
            plain.append(f"- {s.step_key}: {s.error}")
            marked.append(f"• `{_code(s.step_key)}`: {_esc(s.error)}")
    if failures.reason and not failures.steps:
        plain.append(_cut(f"Reason: {failures.reason}", LINE_CHARS))
        marked.append(_cut(f"*Reason*: {_esc(failures.reason)}", LINE_CHARS))
    plain.append(f"Run: {link}")
    marked.append(f"<{link}|Open run {failures.run_id[:8]} in Dagster>")
    return {
        "text": "\n".join(plain),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": t}} for t in _sections(marked)],
    }


def _sections(lines: Sequence[str]) -> list[str]:
    """The lines in as few sections as Slack's 3,000 characters per section allow."""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= SECTION_CHARS:
            sections[-1] += "\n" + line
        else:
            sections.append(_cut(line, SECTION_CHARS))
    return sections


def _esc(text: str) -> str:
    # the three characters Slack's mrkdwn reads as markup (links, mentions)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return _esc(text).replace("`", "'")  # a backtick would end the inline code


# -- posting -----------------------------------------------------------------------------------------------


def webhook_url() -> str | None:
    return (os.environ.get(WEBHOOK_ENV) or "").strip() or None


def _where(url: str) -> str:
    """Scheme and host of the webhook: its path (and any user:password) is the secret."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def post_message(url: str, message: Mapping[str, Any]) -> None:
    """POST the message as JSON; raise AlertWebhookError unless the webhook answers 2xx."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertWebhookError(
            f"{WEBHOOK_ENV} must be an http(s) URL such as https://hooks.slack.com/services/..."
        )
    where = _where(url)
    try:
        response = requests.post(url, json=message, timeout=10)
    except requests.RequestException as exc:
        # `from None`: the exception's own text (and its traceback) spells out the full URL
        raise AlertWebhookError(
            f"{WEBHOOK_ENV} ({where}) could not be reached: {type(exc).__name__}; the alert was not posted"
        ) from None
    if not 200 <= response.status_code < 300:
        body = _cut(response.text.strip().replace(url, where), 200)
        raise AlertWebhookError(
            f"{WEBHOOK_ENV} ({where}) answered HTTP {response.status_code}"
            + (f" ({body})" if body else "")
            + "; the alert was not posted"
        )


# -- the sensors -------------------------------------------------------------------------------------------


@dg.run_failure_sensor(
    name="hubspot_alerts",
    description=f"Posts each failed run of the code location, with its failed checks and steps, to {WEBHOOK_ENV}.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def hubspot_alerts(context: dg.RunFailureSensorContext) -> dg.SkipReason | None:
    url = webhook_url()
    if url is None:
        return dg.SkipReason(UNSET_REASON)
    run = context.dagster_run
    failures = Failures(
        headline="HubSpot export run failed",
        job_name=run.job_name,
        partition=run_partition(run),
        run_id=run.run_id,
        checks=tuple(failed_checks(context.instance, run.run_id)),
        steps=tuple(failed_steps(context.instance, run.run_id)),
        reason=context.failure_event.message,
    )
    post_message(url, failure_message(failures))
    # None, not a SkipReason: Dagster goes on to the tick's next failed run only after a None
    return None


def _same_code_location(context: dg.SensorEvaluationContext, run: dg.DagsterRun) -> bool:
    """The rule of Dagster's run status sensors: the run's code location and repository are the sensor's.
    A run launched in-process (`dagster asset materialize`, tests) has none, so it matches only a sensor
    evaluated without one (tests), as in `hubspot_alerts`."""
    origin = run.remote_job_origin
    location = context.code_location_origin.location_name if context.code_location_origin else None
    run_location = origin.repository_origin.code_location_origin.location_name if origin else None
    run_repository = origin.repository_origin.repository_name if origin else None
    return location == run_location and context.repository_name == run_repository


@dg.sensor(
    name="hubspot_check_alerts",
    description=f"Posts the failed checks of runs that succeeded (non-blocking checks) to {WEBHOOK_ENV}.",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def hubspot_check_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Reads the runs that succeeded since the cursor, the storage id of the last RUN_SUCCESS event read.

    Run status events are mirrored in the event log's index, where storage ids grow across runs even on
    the default run-sharded SQLite storage; check evaluations are not (there an ASSET_CHECK_EVALUATION
    query after a storage id raises), so they are read from each run's own log.
    """
    url = webhook_url()
    if url is None:
        return dg.SkipReason(UNSET_REASON)
    records_filter = dg.RunStatusChangeRecordsFilter(
        event_type=dg.DagsterEventType.RUN_SUCCESS,
        after_storage_id=int(context.cursor) if context.cursor else None,
        after_timestamp=None if context.cursor else time.time() - FIRST_LOOK_BACK_SECONDS,
    )
    records = context.instance.fetch_run_status_changes(
        records_filter, limit=RUNS_PER_TICK, ascending=True
    ).records
    posted = 0
    for record in records:
        run = context.instance.get_run_by_id(record.run_id)
        checks = failed_checks(context.instance, record.run_id) if run else []
        if run is not None and checks and _same_code_location(context, run):
            failures = Failures(
                headline="HubSpot export published with failed checks",
                job_name=run.job_name,
                partition=run_partition(run),
                run_id=run.run_id,
                checks=tuple(checks),
            )
            # a post that fails raises before the cursor is saved: the tick shows the error and the next
            # one posts again (an alert twice rather than none)
            post_message(url, failure_message(failures))
            posted += 1
        context.update_cursor(str(record.storage_id))
    more = " (more next tick)" if len(records) == RUNS_PER_TICK else ""
    return dg.SkipReason(f"{len(records)} finished run(s) read, {posted} alert(s) posted{more}")


alert_sensors: list[dg.SensorDefinition] = [hubspot_alerts, hubspot_check_alerts]
