"""Pytest fixtures for S3 over real HTTP: one moto server per test session, a fresh bucket per test.

Import them from conftest.py (`from hubspot_pipeline_tests.fixtures_s3 import aws_env, moto_server, s3_bucket`).
Tests then reach S3 exactly as production does, through boto3 and AWS_ENDPOINT_URL; nothing leaves
127.0.0.1 and no real credentials are ever visible to the code under test.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
FAKE_ACCESS_KEY_ID = "testing"


@dataclass(frozen=True)
class S3Bucket:
    name: str
    endpoint_url: str
    client: Any  # a plain boto3 S3 client on the moto server, for assertions

    @property
    def url(self) -> str:
        return f"s3://{self.name}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server on 127.0.0.1 and a free port (S3, STS and the rest)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(
    moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Fake credentials and AWS_ENDPOINT_URL on the moto server; no role, no profile, no host config."""
    empty = tmp_path_factory.mktemp("aws-config") / "none"
    for name, value in {
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_EXTERNAL_ID",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_STS",
    ):
        monkeypatch.delenv(name, raising=False)
    return moto_server


@pytest.fixture
def s3_bucket(aws_env: str) -> Iterator[S3Bucket]:
    """A new, empty bucket; moto's state is reset afterwards so memory does not grow over the session."""
    client = boto3.client("s3", endpoint_url=aws_env, region_name=REGION)
    name = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    try:
        yield S3Bucket(name=name, endpoint_url=aws_env, client=client)
    finally:
        reset = urllib.request.Request(f"{aws_env}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
