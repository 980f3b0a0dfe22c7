"""The HubSpot account as a Dagster state-backed component: its definitions are built from the
account state (`account_state`), which a refresh writes and every load of the code location reads.

- `dg utils refresh-defs-state` (or `make refresh`) refreshes it: `write_state_to_path` describes the
  account from what the export store holds (`refresh_state.describe_from_store`).
- State is kept on the local filesystem (Dagster's `LOCAL_FILESYSTEM` management, under
  `hubspot_pipeline/defs/.local_defs_state/`, keyed by the account and its export URL), read by the
  code server and by every run worker.
- `refresh_if_dev` is off: a `dg` command or `dagster dev` never calls HubSpot by itself.
- With no state yet the account loads with the fixed tables (`build_defs_from_state` gets None).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster.components import DefsStateConfig, DefsStateConfigArgs, StateBackedComponent
from dagster_shared.serdes.objects.models.defs_state_info import DefsStateManagementType

from hubspot_pipeline.defs.account import Account
from hubspot_pipeline.defs.account_defs import account_definitions, account_resources
from hubspot_pipeline.defs.account_state import AccountState, read_state
from hubspot_pipeline.defs.accounts_config import DEFAULT, AccountConfig, configured_accounts
from hubspot_pipeline.defs.refresh_state import describe_from_store
from hubspot_pipeline.defs.resources import ExportStoreResource, HubSpotResource, resources_from_env

# the folder holding pyproject.toml: where Dagster finds the project (and its defs module)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _local_state() -> DefsStateConfigArgs:
    return DefsStateConfigArgs(management_type=DefsStateManagementType.LOCAL_FILESYSTEM, refresh_if_dev=False)


@dataclass
class HubSpotAccountComponent(StateBackedComponent):
    config: AccountConfig = DEFAULT
    defs_state: DefsStateConfigArgs = field(default_factory=_local_state)

    @property
    def account(self) -> Account:
        return self.config.account

    @property
    def defs_state_config(self) -> DefsStateConfig:
        """Keyed by the account and its export URL: the state describes what that store holds, so
        another store (another deployment, a test's folder) never reads this one's state."""
        _, export_store = self.resources
        store = hashlib.sha256(export_store.export_url.strip().encode()).hexdigest()[:10]
        return DefsStateConfig.from_args(
            self.defs_state, default_key=f"HubSpotAccount[{self.account.name}-{store}]"
        )

    @functools.cached_property
    def resources(self) -> tuple[HubSpotResource, ExportStoreResource]:
        """Read from the environment once per component (its state key and its definitions use them)."""
        return resources_from_env(self.config)

    def write_state_to_path(self, state_path: Path) -> None:
        hubspot, export_store = self.resources
        # outside a run nothing resolves the token's EnvVar; it is needed only if the store is empty
        hubspot = hubspot.model_copy(update={"access_token": os.environ.get(self.config.token_var, "")})
        state_path.write_text(describe_from_store(hubspot, export_store).to_json(), encoding="utf-8")

    def read_account_state(self, state_path: Path | None) -> AccountState | None:
        return read_state(state_path)

    def build_defs_from_state(
        self, context: dg.ComponentLoadContext, state_path: Path | None
    ) -> dg.Definitions:
        hubspot, export_store = self.resources
        state = self.read_account_state(state_path)
        if state is None:
            dg.get_dagster_logger().info(
                "account %s has no state yet: its per-type tables (OBJECTS_<PLURAL>, ...) are written by "
                "their combined table's asset; run `make refresh` (dg utils refresh-defs-state) after an "
                "export to give each its own asset",
                self.account.name,
            )
        return account_definitions(
            self.account, state, account_resources(self.account, hubspot, export_store)
        )

    def load_defs(self) -> dg.Definitions:
        """The account's definitions as a code location load builds them."""
        return self.build_defs(dg.ComponentTree.for_project(PROJECT_ROOT / "hubspot_pipeline").load_context)


def account_components() -> list[HubSpotAccountComponent]:
    """One component per account of the deployment (`accounts_config`), the default one first."""
    return [HubSpotAccountComponent(config) for config in configured_accounts()]


default_account = HubSpotAccountComponent()


def refresh_all() -> list[str]:
    """Refresh every account's state (what `make refresh` runs); returns the refreshed keys."""
    keys = []
    for component in account_components():
        asyncio.run(component.refresh_state(PROJECT_ROOT))
        keys.append(component.defs_state_config.key)
    return keys


if __name__ == "__main__":
    for key in refresh_all():
        print(f"refreshed {key}")
