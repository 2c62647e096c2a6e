"""When each daily (and monthly) fact is due, on the trading calendar, as asset checks.

The schedules load a trade date at 06:00 (pivot) and 06:30 (dist_perf_dw) New
York time the next morning; by 07:00 the date must be there. A date is due only
if it is a trading day of its warehouse: for pivot, a day on which any exchange
with a calendar (pipeline/pivot/calendars.py) holds a session; for dist_perf_dw,
a business day (an NYSE session, pipeline/dist_perf_dw/calendar.py). So on a
Saturday, a Sunday or the Tuesday morning after a US holiday Monday, the due
dist_perf_dw date is the Friday before, and nothing shows red that no desk
would have loaded. Compensation for a month is due by 08:00 on the 2nd of the
next. A check fails (warning severity) when the due partition is not there; the
freshness sensor in `pipeline.sensors` evaluates the checks as time passes.

Dagster's `build_time_partition_freshness_checks` expects every calendar day,
hence red weekends; its `FreshnessPolicy` judges the latest materialization of
any partition, so a backfill of last year would read as "fresh" while yesterday
is missing. These checks ask for the partition that is due, which is what a desk
means by "yesterday's trades are in".

Left out of backfills: a run that loads partitions older than the due one
(a backfill of last year) selects these checks too, as Dagster selects an
asset's checks with it; there they yield no result (Dagster shows them as not
evaluated), instead of a warning about today in a run about last year.
"""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import dagster as dg

# Dagster's clock (its own freshness builders read it), so dagster's freeze_time moves it in tests.
from dagster._time import get_current_datetime

from pipeline.dist_perf_dw.calendar import is_business_day
from pipeline.pivot.calendars import EXCHANGE_CALENDARS, open_exchanges
from pipeline.settings import FIRST_TRADE_DATE, TRADING_TIMEZONE

NEW_YORK = ZoneInfo(TRADING_TIMEZONE)
CHECK_NAME = "freshness_check"
DAILY_DEADLINE = dt.time(7)  # New York, the calendar day after the trade date
MONTHLY_DEADLINE_DAY, MONTHLY_DEADLINE = 2, dt.time(8)  # of the month after
_FIRST = dt.date.fromisoformat(FIRST_TRADE_DATE)


def pivot_trading_day(day: dt.date) -> bool:
    """Any exchange the instruments may list holds a session (a London-only day counts)."""
    # One exchange at a time: on a weekday the first calendar answers, and each is built once per process.
    return any(open_exchanges([exchange], day) for exchange in EXCHANGE_CALENDARS)


DAILY_FACTS: dict[tuple[str, str], Callable[[dt.date], bool]] = {
    ("pivot", "trades_1d"): pivot_trading_day,
    ("pivot", "trades_1d_rollup"): pivot_trading_day,
    ("dist_perf_dw", "fact_aum_flows"): is_business_day,
    ("dist_perf_dw", "fact_revenue"): is_business_day,
    ("dist_perf_dw", "fact_retention_snapshots"): is_business_day,
    ("dist_perf_dw", "fact_distribution_expense"): is_business_day,
}
MONTHLY_FACTS = [("dist_perf_dw", "fact_wholesaler_comp")]


def due_trade_date(now: dt.datetime, is_trading_day: Callable[[dt.date], bool]) -> dt.date | None:
    """The last trading day whose deadline (07:00 New York the next calendar day) has passed;
    None before the first partition."""
    local = now.astimezone(NEW_YORK)
    day = local.date() - dt.timedelta(days=1 if local.time() >= DAILY_DEADLINE else 2)
    while day >= _FIRST and not is_trading_day(day):
        day -= dt.timedelta(days=1)
    return day if day >= _FIRST else None


def due_month(now: dt.datetime) -> dt.date | None:
    """The first day of the last month whose deadline (the 2nd of the next month, 08:00 New York) has passed."""
    local = now.astimezone(NEW_YORK)
    this_month = local.date().replace(day=1)
    passed = (local.day, local.time()) >= (MONTHLY_DEADLINE_DAY, MONTHLY_DEADLINE)
    month = (this_month - dt.timedelta(days=1)).replace(day=1)
    if not passed:
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month if month >= _FIRST else None


def _run_loads_only_older_partitions(run: dg.DagsterRun, due: str) -> bool:
    """Whether the run materializes partitions and all of them are older than `due` (a backfill)."""
    tags = run.tags
    last = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    return last is not None and last < due


def _freshness_check(key: tuple[str, str], due_of: Callable[[dt.datetime], dt.date | None], deadline: str):
    asset_key = dg.AssetKey(list(key))

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=asset_key,
                description=f"The partition due by {deadline} (New York) on the trading calendar is materialized.",
            )
        ],
        name=f"{'__'.join(key)}__{CHECK_NAME}",
        can_subset=True,  # lets a backfill's run leave the check unevaluated
    )
    def check(context: dg.AssetCheckExecutionContext):
        due = due_of(get_current_datetime())
        if due is None:
            yield dg.AssetCheckResult(
                asset_key=asset_key, check_name=CHECK_NAME, passed=True, metadata={"due_partition": "none yet"}
            )
            return
        due_key = due.isoformat()
        if _run_loads_only_older_partitions(context.run, due_key):
            context.log.info(f"{asset_key.to_user_string()}: freshness not evaluated in a load of dates < {due_key}")
            return
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[due_key]), limit=1
        ).records
        yield dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=CHECK_NAME,
            passed=bool(records),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"due_partition": due_key, "deadline": deadline},
            description=None if records else f"partition {due_key} was due by {deadline} and is not materialized",
        )

    return check


def daily_due(is_trading_day: Callable[[dt.date], bool]) -> Callable[[dt.datetime], dt.date | None]:
    return lambda now: due_trade_date(now, is_trading_day)


freshness_checks = [
    *(_freshness_check(key, daily_due(trading), "07:00 the next day") for key, trading in DAILY_FACTS.items()),
    *(_freshness_check(key, due_month, "08:00 on the 2nd of the next month") for key in MONTHLY_FACTS),
]


def due_partition(asset_key: dg.AssetKey, now: dt.datetime) -> str | None:
    """The partition key the freshness check of `asset_key` asks for at `now` (the sensor's view)."""
    key = tuple(asset_key.path)
    due = due_trade_date(now, DAILY_FACTS[key]) if key in DAILY_FACTS else due_month(now)
    return due.isoformat() if due else None


defs = dg.Definitions(asset_checks=freshness_checks)
