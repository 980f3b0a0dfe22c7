"""A local HubSpot: the account model served over HTTP with HubSpot's limits, quirks and faults.

    from hubspot_sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(seed=1, scale="tiny")) as sb:
        ...  # point a HubSpot client at sb.base_url with token "pat-sandbox"

See README.md beside this file for the routes, limits, faults and the CLI.
"""

from hubspot_sandbox.config import SandboxConfig
from hubspot_sandbox.record_failures import RecordFailureRule
from hubspot_sandbox.service import Sandbox

__all__ = ["RecordFailureRule", "Sandbox", "SandboxConfig"]
