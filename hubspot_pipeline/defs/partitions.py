"""The one partitions definition: a UTC day per partition (the day the export folder is named after)."""

import dagster as dg

# Backfills can reach back to here; earlier days would only be projections of today's definitions.
EXPORT_START_DATE = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=EXPORT_START_DATE, timezone="UTC")
