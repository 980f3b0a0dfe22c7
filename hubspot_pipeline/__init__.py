"""hubspot_pipeline: a Dagster code location that keeps a HubSpot account in S3."""

import os

# Arrow's default allocator keeps freed memory; the system allocator returns it, which keeps the peak
# RSS of the large projections (28 M history rows at `medium`) well under 1 GiB. Must precede pyarrow.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
