"""The partitions every partitioned asset in the code location shares.

The partitions' timezone (New York) drives the schedules too, so "yesterday"
means yesterday in New York.
"""

import dagster as dg

from pipeline.settings import FIRST_TRADE_DATE, TRADING_TIMEZONE

trade_date_partitions = dg.DailyPartitionsDefinition(
    start_date=FIRST_TRADE_DATE,
    timezone=TRADING_TIMEZONE,
)

month_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_TRADE_DATE,
    timezone=TRADING_TIMEZONE,
)
