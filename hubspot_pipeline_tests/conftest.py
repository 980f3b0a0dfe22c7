"""Shared fixtures: a module-scoped monkeypatch and moto's S3 server over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


from hubspot_pipeline_tests.fixtures_s3 import aws_env, moto_server, s3_bucket  # noqa: E402, F401
