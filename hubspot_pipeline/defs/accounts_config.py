"""The deployment's accounts: the default one from the plain variables (zero configuration), and
each account HUBSPOT_ACCOUNTS adds, with its own token variable, export URL and asset key prefix.

HUBSPOT_ACCOUNTS is a JSON list, inline or in a file (a path), for example
    [{"name": "emea", "token_env": "HUBSPOT_EMEA_TOKEN", "export_url": "s3://bucket/hubspot-emea"}]
Each entry may also set "key_prefix" (default "hubspot_<name>"), "api_base_url" (default the default
account's) and "rate_limit_per_10s" (default HUBSPOT_RATE_LIMIT_PER_10S; each token has its own
HubSpot budget, so each account is paced and pooled apart).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubspot_pipeline import settings
from hubspot_pipeline.defs.account import DEFAULT_ACCOUNT, Account

ACCOUNTS_VAR = "HUBSPOT_ACCOUNTS"
_KEYS = {"name", "token_env", "export_url", "key_prefix", "api_base_url", "rate_limit_per_10s"}


class AccountsConfigError(ValueError):
    """HUBSPOT_ACCOUNTS is unreadable or malformed; the message says what to fix."""


@dataclass(frozen=True)
class AccountConfig:
    account: Account
    token_var: str  # the variable holding the account's token (read through Dagster's EnvVar)
    export_url: str | None = None  # None: HUBSPOT_EXPORT_URL's
    api_base_url: str | None = None  # None: HUBSPOT_API_BASE_URL's
    rate_limit_per_10s: int | None = None  # None: HUBSPOT_RATE_LIMIT_PER_10S's


DEFAULT = AccountConfig(DEFAULT_ACCOUNT, "HUBSPOT_ACCESS_TOKEN")


def configured_accounts(environ: Mapping[str, str] | None = None) -> list[AccountConfig]:
    """The default account, then each of HUBSPOT_ACCOUNTS in its order."""
    env = os.environ if environ is None else environ
    text = env.get(ACCOUNTS_VAR, "").strip()
    if not text:
        return [DEFAULT]
    entries, _ = settings.json_setting(ACCOUNTS_VAR, text, "[", AccountsConfigError)
    if not isinstance(entries, list):
        raise AccountsConfigError(
            f"{ACCOUNTS_VAR} must be a JSON list of accounts, got {type(entries).__name__}"
        )
    accounts = [DEFAULT, *(_entry(e, i) for i, e in enumerate(entries))]
    for field in ("name", "key_prefix"):
        seen: set[str] = set()
        for config in accounts:
            value = getattr(config.account, field)
            if value in seen:
                raise AccountsConfigError(
                    f"{ACCOUNTS_VAR}: two accounts have the {field} {value!r}; each needs its own"
                )
            seen.add(value)
    return accounts


def _entry(entry: Any, index: int) -> AccountConfig:
    where = f"{ACCOUNTS_VAR}[{index}]"
    if not isinstance(entry, dict):
        raise AccountsConfigError(f"{where} must be an object with name, token_env and export_url")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise AccountsConfigError(f"{where} has unknown keys {unknown}; allowed: {sorted(_KEYS)}")
    missing = sorted({"name", "token_env", "export_url"} - set(entry))
    if missing:
        raise AccountsConfigError(f"{where} lacks {missing}")
    name = str(entry["name"])
    try:
        account = Account(name, str(entry.get("key_prefix") or f"hubspot_{name}"))
    except ValueError as exc:
        raise AccountsConfigError(f"{where}: {exc}") from None
    if account.is_default:
        raise AccountsConfigError(
            f"{where}: the name 'default' is the default account's (HUBSPOT_ACCESS_TOKEN)"
        )
    limit = entry.get("rate_limit_per_10s")
    if limit is not None:
        limit = int(settings.SETTINGS["HUBSPOT_RATE_LIMIT_PER_10S"].parse(str(limit)))
    return AccountConfig(
        account, str(entry["token_env"]), str(entry["export_url"]), entry.get("api_base_url"), limit
    )
