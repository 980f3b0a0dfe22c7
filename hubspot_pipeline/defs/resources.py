"""Dagster resources: the one HubSpot client factory and the export store, configured from the environment."""

import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from hubspot_pipeline import settings
from hubspot_pipeline.defs.accounts_config import DEFAULT, AccountConfig
from hubspot_pipeline.defs.dead_runs import HOST_TAG, Heartbeat
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination, open_destination
from hubspot_pipeline.sync.incremental import IncrementalSettings
from hubspot_pipeline.sync.journal import CLIENT_ID_VAR, CLIENT_SECRET_VAR, JournalApp, JournalError
from hubspot_pipeline.sync.selection import ENV_VAR as SYNC_SETTINGS_VAR
from hubspot_pipeline.sync.selection import Selection, load_selection

DEFAULT_API_BASE_URL = "https://api.hubapi.com"
DEFAULT_EXPORT_URL = "./hubspot-export"


def default_pace_file(account: str = "default") -> str:
    """One pacing file per account of the deployment (per DAGSTER_HOME), shared by every step process
    of every run: each token has its own budget."""
    home = os.environ.get("DAGSTER_HOME") or tempfile.gettempdir()
    return str(
        Path(home) / ("hubspot-rate-window" if account == "default" else f"hubspot-rate-window-{account}")
    )


def _setting(name: str, description: str) -> Any:
    """A resource field of a numeric setting: its default, and a description naming its variable."""
    setting = settings.SETTINGS[name]
    return Field(
        default=setting.default, description=f"{description} ({name}, {setting.low:,} to {setting.high:,})."
    )


class HubSpotResource(dg.ConfigurableResource):
    """Every call to HubSpot goes through a client made here, paced within the account's budget; the
    sync settings of the account's index and tables are here too, so the UI shows them and a run's
    configuration can change them."""

    access_token: str = Field(description="Private-app or OAuth access token (HUBSPOT_ACCESS_TOKEN).")
    base_url: str = Field(default=DEFAULT_API_BASE_URL, description="API root (HUBSPOT_API_BASE_URL).")
    rate_limit_per_10s: int = _setting("HUBSPOT_RATE_LIMIT_PER_10S", "Burst budget: calls per rolling 10 s")
    pace_file: str = Field(default_factory=default_pace_file, description="File that shares the budget.")
    sync_settings: str = Field(
        default="",
        description="Which types, properties and records are exported: a JSON file's path or inline JSON "
        "(HUBSPOT_SYNC_SETTINGS; README 'Sync settings'). Empty: everything.",
    )
    lookback_minutes: float = _setting(
        "HUBSPOT_SYNC_LOOKBACK_MINUTES", "How far each daily search reaches back"
    )
    association_refresh_days: int = _setting(
        "HUBSPOT_ASSOCIATION_REFRESH_DAYS", "Every association re-read at least every this many days"
    )
    journal_association_refresh_days: int = _setting(
        "HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS",
        "With the webhooks journal: every association still re-read at least every this many days",
    )
    calculated_refresh_days: int = _setting(
        "HUBSPOT_CALCULATED_REFRESH_DAYS", "Every calculated property re-read at least every this many days"
    )
    reconcile_every_days: int = _setting(
        "HUBSPOT_RECONCILE_EVERY_DAYS", "The full reconcile's cadence in days"
    )
    compact_after: int = _setting("HUBSPOT_INDEX_COMPACT_AFTER", "Index generations kept before a compaction")
    definitions_refresh_days: int = _setting(
        "HUBSPOT_DEFINITIONS_REFRESH_DAYS",
        "Properties, association labels, pipelines and event definitions re-read at least every this many days",
    )
    failed_retry_days: int = _setting(
        "HUBSPOT_FAILED_RETRY_DAYS", "Daily retries of a failed record before it waits for a resync"
    )
    journal_client_id: str = Field(
        default="",
        description=f"Client id of the app that reads HubSpot's webhooks journal ({CLIENT_ID_VAR}); empty: "
        "the daily sync searches for changes instead (README 'Webhooks journal').",
    )
    journal_client_secret: str = Field(
        default="", description=f"That app's client secret ({CLIENT_SECRET_VAR})."
    )
    _heartbeat: Heartbeat | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # the host of a run that holds the HubSpot pool, and its heartbeat: `dead_runs` frees the
        # pool if the run's process dies or its machine is lost
        run = context.run
        if context.instance is not None and run is not None:
            context.instance.add_run_tags(run.run_id, {HOST_TAG: socket.gethostname()})
            self._heartbeat = Heartbeat(context.instance, run.run_id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()

    def client(self) -> HubSpotClient:
        return HubSpotClient(
            self.base_url,
            self.access_token,
            rate_limit_per_10s=self.rate_limit_per_10s,
            pace_file=self.pace_file,
        )

    def journal_app(self) -> JournalApp | None:
        """The journal's app, when both its credentials are set."""
        return _journal_app(self.journal_client_id, self.journal_client_secret)

    def selection(self) -> Selection:
        """The sync settings, read when a step starts: a malformed value fails it before it writes."""
        return load_selection({SYNC_SETTINGS_VAR: self.sync_settings})

    def incremental(self) -> IncrementalSettings:
        """The incremental settings, checked as the environment's are (a value set in a run's
        configuration is held to the same ranges, and named by its variable when it is not)."""
        values = {
            "HUBSPOT_SYNC_LOOKBACK_MINUTES": self.lookback_minutes,
            "HUBSPOT_ASSOCIATION_REFRESH_DAYS": self.association_refresh_days,
            "HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS": self.journal_association_refresh_days,
            "HUBSPOT_CALCULATED_REFRESH_DAYS": self.calculated_refresh_days,
            "HUBSPOT_RECONCILE_EVERY_DAYS": self.reconcile_every_days,
            "HUBSPOT_INDEX_COMPACT_AFTER": self.compact_after,
            "HUBSPOT_FAILED_RETRY_DAYS": self.failed_retry_days,
        }
        return IncrementalSettings.from_values(settings.read_all({k: str(v) for k, v in values.items()}))


class ExportStoreResource(dg.ConfigurableResource):
    """Where the export goes: `s3://bucket/prefix` through dagster-aws's S3Resource, or a local folder."""

    export_url: str = Field(
        default=DEFAULT_EXPORT_URL, description="s3://bucket/prefix or a local folder (HUBSPOT_EXPORT_URL)."
    )
    max_part_bytes: int = _setting("HUBSPOT_MAX_PART_BYTES", "Gzip bytes per CSV part at most")
    role_arn: str = Field(
        default="", description="IAM role to assume for the bucket (AWS_ROLE_ARN); empty: none."
    )
    external_id: str = Field(
        default="", description="External id the role's trust policy asks for (AWS_EXTERNAL_ID)."
    )
    s3: dg.ResourceDependency[S3Resource]

    def destination(self) -> Destination:
        return open_destination(
            self.export_url, s3=self.s3, role_arn=self.role_arn, external_id=self.external_id
        )


def _journal_app(client_id: str, client_secret: str) -> JournalApp | None:
    if bool(client_id) != bool(client_secret):
        have, lack = (CLIENT_ID_VAR, CLIENT_SECRET_VAR) if client_id else (CLIENT_SECRET_VAR, CLIENT_ID_VAR)
        raise JournalError(
            f"{have} is set but {lack} is not: set both to read the webhooks journal, or neither"
        )
    return JournalApp(client_id, client_secret) if client_id else None


def resources_from_env(config: AccountConfig = DEFAULT) -> tuple[HubSpotResource, ExportStoreResource]:
    """An account's resources as the environment (and its HUBSPOT_ACCOUNTS entry) configures them,
    read when the code location loads, not at import: a bad setting stops the load with a line that
    names it (`hubspot_pipeline.settings`)."""
    env = os.environ
    values = settings.read_all(env)
    s3 = S3Resource(
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
    _journal_app(env.get(CLIENT_ID_VAR, ""), env.get(CLIENT_SECRET_VAR, ""))  # one without the other: stop
    hubspot = HubSpotResource(
        access_token=dg.EnvVar(config.token_var),
        # one app reads the journal of every account that installed it
        journal_client_id=env.get(CLIENT_ID_VAR, ""),
        journal_client_secret=dg.EnvVar(CLIENT_SECRET_VAR) if env.get(CLIENT_SECRET_VAR) else "",
        base_url=config.api_base_url or env.get("HUBSPOT_API_BASE_URL") or DEFAULT_API_BASE_URL,
        rate_limit_per_10s=config.rate_limit_per_10s or int(values["HUBSPOT_RATE_LIMIT_PER_10S"]),
        pace_file=default_pace_file(config.account.name),
        sync_settings=env.get(SYNC_SETTINGS_VAR, ""),
        lookback_minutes=float(values["HUBSPOT_SYNC_LOOKBACK_MINUTES"]),
        association_refresh_days=int(values["HUBSPOT_ASSOCIATION_REFRESH_DAYS"]),
        journal_association_refresh_days=int(values["HUBSPOT_JOURNAL_ASSOCIATION_REFRESH_DAYS"]),
        calculated_refresh_days=int(values["HUBSPOT_CALCULATED_REFRESH_DAYS"]),
        reconcile_every_days=int(values["HUBSPOT_RECONCILE_EVERY_DAYS"]),
        compact_after=int(values["HUBSPOT_INDEX_COMPACT_AFTER"]),
        definitions_refresh_days=int(values["HUBSPOT_DEFINITIONS_REFRESH_DAYS"]),
        failed_retry_days=int(values["HUBSPOT_FAILED_RETRY_DAYS"]),
    )
    export_store = ExportStoreResource(
        export_url=config.export_url or env.get("HUBSPOT_EXPORT_URL") or DEFAULT_EXPORT_URL,
        max_part_bytes=int(values["HUBSPOT_MAX_PART_BYTES"]),
        role_arn=env.get("AWS_ROLE_ARN", ""),
        external_id=env.get("AWS_EXTERNAL_ID", ""),
        s3=s3,
    )
    return hubspot, export_store
