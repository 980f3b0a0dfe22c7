"""Every numeric setting is parsed in one place: a bad value stops the code location's load (and so
any run) with one line naming the variable, what it accepts and what it got."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hubspot_pipeline import settings
from hubspot_pipeline.defs.resources import resources_from_env
from hubspot_pipeline.settings import SettingError
from hubspot_pipeline.sync.incremental import IncrementalSettings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HUBSPOT_RATE_LIMIT_PER_10S", "abc", "HUBSPOT_RATE_LIMIT_PER_10S must be a whole number from 1 to 190, got 'abc'"),
        ("HUBSPOT_RATE_LIMIT_PER_10S", "0", "HUBSPOT_RATE_LIMIT_PER_10S must be a whole number from 1 to 190, got '0'"),
        ("HUBSPOT_RATE_LIMIT_PER_10S", "250", "from 1 to 190, got '250'"),
        ("HUBSPOT_MAX_PART_BYTES", "15MB", "HUBSPOT_MAX_PART_BYTES must be a whole number from 4,096 to 15,728,640, got '15MB'"),
        ("HUBSPOT_MAX_PART_BYTES", "1000", "from 4,096 to 15,728,640, got '1000'"),
        ("HUBSPOT_SYNC_LOOKBACK_MINUTES", "abc", "HUBSPOT_SYNC_LOOKBACK_MINUTES must be a number from 0 to 10,080, got 'abc'"),
        ("HUBSPOT_SYNC_LOOKBACK_MINUTES", "-600", "got '-600'"),
        ("HUBSPOT_SYNC_LOOKBACK_MINUTES", "nan", "got 'nan'"),
        ("HUBSPOT_ASSOCIATION_REFRESH_DAYS", "x", "HUBSPOT_ASSOCIATION_REFRESH_DAYS must be a whole number from 1 to 365, got 'x'"),
        ("HUBSPOT_CALCULATED_REFRESH_DAYS", "0", "got '0'"),
        ("HUBSPOT_RECONCILE_EVERY_DAYS", "1.5", "must be a whole number from 1 to 365, got '1.5'"),
        ("HUBSPOT_INDEX_COMPACT_AFTER", "0", "HUBSPOT_INDEX_COMPACT_AFTER must be a whole number from 1 to 365, got '0'"),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_with_what_the_setting_accepts(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        settings.read(name, {name: value})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unset_or_blank_means_the_default_and_values_parse() -> None:
    assert settings.read_all({}) == settings.read_all({n: " " for n in settings.SETTINGS})
    assert IncrementalSettings.from_env({}) == IncrementalSettings()
    assert IncrementalSettings() == IncrementalSettings(
        lookback=timedelta(minutes=60),
        association_refresh_days=7,
        calculated_refresh_days=14,
        reconcile_every_days=28,
        compact_after=7,
    )
    parsed = IncrementalSettings.from_env(
        {
            "HUBSPOT_SYNC_LOOKBACK_MINUTES": "0.5",
            "HUBSPOT_ASSOCIATION_REFRESH_DAYS": "1",
            "HUBSPOT_INDEX_COMPACT_AFTER": "30",
        }
    )
    assert parsed.lookback == timedelta(seconds=30)
    assert (parsed.association_refresh_days, parsed.compact_after) == (1, 30)


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingError) as caught:
        settings.read_all({"HUBSPOT_RATE_LIMIT_PER_10S": "abc", "HUBSPOT_RECONCILE_EVERY_DAYS": "0"})
    assert str(caught.value) == (
        "HUBSPOT_RATE_LIMIT_PER_10S must be a whole number from 1 to 190, got 'abc'; "
        "HUBSPOT_RECONCILE_EVERY_DAYS must be a whole number from 1 to 365, got '0'"
    )


def test_the_code_location_does_not_load_with_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_MAX_PART_BYTES", "15MB")
    with pytest.raises(SettingError, match="HUBSPOT_MAX_PART_BYTES must be a whole number"):
        resources_from_env()
    monkeypatch.setenv("HUBSPOT_MAX_PART_BYTES", "1048576")
    monkeypatch.setenv("HUBSPOT_RATE_LIMIT_PER_10S", "80")
    hubspot, export_store = resources_from_env()
    assert export_store.max_part_bytes == 1048576
    assert hubspot.rate_limit_per_10s == 80
