"""Dagster resources: the one HubSpot client factory and the export store, configured from the environment."""

import os
import socket
import tempfile
from pathlib import Path

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from hubspot_pipeline import settings
from hubspot_pipeline.defs.dead_runs import HOST_TAG
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.store import Destination, open_destination

DEFAULT_API_BASE_URL = "https://api.hubapi.com"
DEFAULT_EXPORT_URL = "./hubspot-export"
DEFAULT_PART_BYTES = int(settings.SETTINGS["HUBSPOT_MAX_PART_BYTES"].default)


def default_pace_file() -> str:
    """One pacing file per deployment (per DAGSTER_HOME), shared by every step process of every run."""
    home = os.environ.get("DAGSTER_HOME") or tempfile.gettempdir()
    return str(Path(home) / "hubspot-rate-window")


class HubSpotResource(dg.ConfigurableResource):
    """Every call to HubSpot goes through a client made here, paced within the deployment's budget."""

    access_token: str = Field(description="Private-app or OAuth access token (HUBSPOT_ACCESS_TOKEN).")
    base_url: str = Field(default=DEFAULT_API_BASE_URL, description="API root (HUBSPOT_API_BASE_URL).")
    rate_limit_per_10s: int = Field(
        default=int(settings.SETTINGS["HUBSPOT_RATE_LIMIT_PER_10S"].default),
        description="Burst budget (HUBSPOT_RATE_LIMIT_PER_10S).",
    )
    pace_file: str = Field(default_factory=default_pace_file, description="File that shares the budget.")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # the host of a run that holds the HubSpot pool: `dead_runs` frees it if its process dies
        run = context.run
        if context.instance is not None and run is not None:
            context.instance.add_run_tags(run.run_id, {HOST_TAG: socket.gethostname()})

    def client(self) -> HubSpotClient:
        return HubSpotClient(
            self.base_url,
            self.access_token,
            rate_limit_per_10s=self.rate_limit_per_10s,
            pace_file=self.pace_file,
        )


class ExportStoreResource(dg.ConfigurableResource):
    """Where the export goes: `s3://bucket/prefix` through dagster-aws's S3Resource, or a local folder."""

    export_url: str = Field(default=DEFAULT_EXPORT_URL, description="HUBSPOT_EXPORT_URL")
    max_part_bytes: int = Field(default=DEFAULT_PART_BYTES, description="Gzip bytes per CSV part at most.")
    s3: dg.ResourceDependency[S3Resource]

    def destination(self) -> Destination:
        return open_destination(self.export_url, s3=self.s3)


def resources_from_env() -> dict[str, object]:
    """Resources as the environment configures them (read when the code location loads, not at import):
    a bad setting stops the load with a line that names it (`hubspot_pipeline.settings`)."""
    env = os.environ
    values = settings.read_all(env)
    s3 = S3Resource(
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
    return {
        "hubspot": HubSpotResource(
            access_token=dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
            base_url=env.get("HUBSPOT_API_BASE_URL") or DEFAULT_API_BASE_URL,
            rate_limit_per_10s=int(values["HUBSPOT_RATE_LIMIT_PER_10S"]),
        ),
        "export_store": ExportStoreResource(
            export_url=env.get("HUBSPOT_EXPORT_URL") or DEFAULT_EXPORT_URL,
            max_part_bytes=int(values["HUBSPOT_MAX_PART_BYTES"]),
            s3=s3,
        ),
    }
