"""HubSpot REST client: session, auth, pacing, retries, paging, typed errors.

Modules: `client` (HubSpotClient), `paging` (paging styles, BatchResult), `pacing` (shared rate
budget), `retry` (what is retried and how long to wait), `failures` (fatal responses -> errors),
`errors` (the error types), `endpoints` (route templates for call counting).
This package imports nothing else of the project.
"""

from hubspot_pipeline.hubspot.client import DEFAULT_BASE_URL, HubSpotClient
from hubspot_pipeline.hubspot.errors import (
    HubSpotAuthError,
    HubSpotDailyLimitError,
    HubSpotError,
    HubSpotRequestError,
    HubSpotScopeError,
    HubSpotTransientError,
    SearchWindowExceeded,
)
from hubspot_pipeline.hubspot.paging import BatchResult

__all__ = [
    "DEFAULT_BASE_URL",
    "BatchResult",
    "HubSpotAuthError",
    "HubSpotClient",
    "HubSpotDailyLimitError",
    "HubSpotError",
    "HubSpotRequestError",
    "HubSpotScopeError",
    "HubSpotTransientError",
    "SearchWindowExceeded",
]
