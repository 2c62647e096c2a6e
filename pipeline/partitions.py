"""The partitions every partitioned asset in the code location shares.

Trade dates are calendar days in New York time, the convention of the US
markets most of the book trades in; the partitions' timezone drives the
schedules too, so "yesterday" means yesterday in New York.
"""

import dagster as dg

PARTITIONS_START_DATE = "2024-01-01"
PARTITIONS_TIMEZONE = "America/New_York"

trade_date_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START_DATE,
    timezone=PARTITIONS_TIMEZONE,
)

month_partitions = dg.MonthlyPartitionsDefinition(
    start_date=PARTITIONS_START_DATE,
    timezone=PARTITIONS_TIMEZONE,
)
