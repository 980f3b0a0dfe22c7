"""One HubSpot account of the deployment: the names its assets, resources and rate-limit pool go by.

The default account keeps the plain names (`hubspot/...` assets, the `hubspot` and `export_store`
resources, the `hubspot_api` pool), so a deployment of one account needs no configuration. Every other
account gets its own asset key prefix, resources and pool, so two accounts are paced apart (each
token has its own HubSpot budget) and never share a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Account:
    name: str = "default"
    # first element of every asset key of the account
    key_prefix: str = "hubspot"

    def __post_init__(self) -> None:
        if not _NAME_RE.fullmatch(self.name):
            raise ValueError(
                f"account name {self.name!r} must be 1-40 lower-case letters, digits or '_', starting with a letter"
            )
        if not _NAME_RE.fullmatch(self.key_prefix):
            raise ValueError(
                f"asset key prefix {self.key_prefix!r} of account {self.name!r}: use [a-z][a-z0-9_]*"
            )

    @property
    def is_default(self) -> bool:
        return self.name == "default"

    def _named(self, base: str) -> str:
        return base if self.is_default else f"{base}_{self.name}"

    @property
    def pool(self) -> str:
        """The one-slot pool of the account's HubSpot steps (its token's budget)."""
        return self._named("hubspot_api")

    @property
    def hubspot_key(self) -> str:
        return self._named("hubspot")

    @property
    def store_key(self) -> str:
        return self._named("export_store")

    @property
    def io_manager_key(self) -> str:
        return self._named("hubspot_table_io_manager")

    @property
    def job_name(self) -> str:
        return self._named("daily_export")


DEFAULT_ACCOUNT = Account()
