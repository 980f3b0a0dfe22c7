"""Deterministic in-memory HubSpot account (the sandbox's data model) with a clock.

`Account(seed, scale, start_date, wide)` builds the account; `advance()` applies days of changes.
The HTTP server turns its answers into HubSpot API responses.
"""

from .account import Account
from .search import SearchError
from .types import ObjectType, RecordView

__all__ = ["Account", "ObjectType", "RecordView", "SearchError"]
