"""The one partitions definition: a UTC day per partition (the day the export folder is named after),
from HUBSPOT_PARTITIONS_START (`settings.partitions_start`), read when the code location loads."""

import dagster as dg

from hubspot_pipeline import settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.partitions_start().isoformat(), timezone="UTC"
)
