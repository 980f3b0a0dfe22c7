"""Shared fixtures: a module-scoped monkeypatch and moto's S3 server over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# the tests export fixed days of 2026: the partitions must reach them whatever today's date is
# (set before any test module imports the code location)
TEST_PARTITIONS_START = "2024-01-01"
os.environ.setdefault("HUBSPOT_PARTITIONS_START", TEST_PARTITIONS_START)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


from hubspot_pipeline_tests.fixtures_s3 import aws_env, moto_server, s3_bucket  # noqa: E402, F401
