"""Data-quality rules of the pivot warehouse, as asset checks.

Each check runs in the ClickHouse pool (so it never opens the embedded store
beside another process), reads only the partitions of the run, and on failure
lists the offending rows in its metadata. Blocking checks skip the downstream
steps of the same run.
"""

from datetime import date

import dagster as dg
import polars as pl

from pipeline.assets import pivot
from pipeline.assets.metadata import check_result, partition_days
from pipeline.partitions import trade_date_partitions
from pipeline.pivot.calendars import EXCHANGE_CALENDARS, has_calendar, session
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import CLICKHOUSE_POOL

# Check names are part of the UI and of alerting rules: keep them stable.
CONSTITUENT_WEIGHTS_SUM_TO_ONE = "constituent_weights_sum_to_one"
LOOK_THROUGH_CONSISTENT = "look_through_consistent"
NO_DUPLICATE_TRADE_ROWS = "no_duplicate_trade_rows"
GREEKS_WITHIN_SPEC_RANGES = "greeks_within_spec_ranges"
ROLLUP_MATCHES_FACT = "rollup_matches_fact"
USD_MATCHES_DAY_RATES = "usd_matches_day_rates"
LANDED_TRADES_ON_CLOSED_VENUES = "landed_trades_on_closed_venues"

WEIGHT_TOLERANCE = 1e-6
# Look-through notional is weight x parent notional in floating point.
RELATIVE_TOLERANCE = 1e-9


def _per_trade_date(asset: dg.AssetsDefinition, name: str, blocking: bool = False):
    """A check partitioned like the trade fact, in the ClickHouse pool (it reads the run's dates only)."""
    return dg.asset_check(
        asset=asset, name=name, blocking=blocking, pool=CLICKHOUSE_POOL, partitions_def=trade_date_partitions
    )


def _per_day(clickhouse: ClickHouseResource, days: list[date], sql: str, **parameters) -> pl.DataFrame:
    """One query per trade date of the run ({day:Date} bound to each), the failing rows concatenated."""
    return pl.concat([clickhouse.query_polars(sql, {"day": day, **parameters}) for day in days], how="vertical_relaxed")


@dg.asset_check(asset=pivot.constituents, name=CONSTITUENT_WEIGHTS_SUM_TO_ONE, blocking=True, pool=CLICKHOUSE_POOL)
def constituent_weights_sum_to_one(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """Each parent's constituent weights sum to 1 in every effective period; otherwise look-through
    would create or lose exposure, so trades are not exploded with this map."""
    failing = clickhouse.query_polars(
        "SELECT parent_symbol, effective_date, expiry_date, count() AS constituents, sum(weight) AS weight_sum "
        "FROM pivot.constituents GROUP BY parent_symbol, effective_date, expiry_date "
        f"HAVING abs(weight_sum - 1) > {WEIGHT_TOLERANCE} ORDER BY parent_symbol, effective_date"
    )
    periods = clickhouse.query_rows(
        "SELECT count() FROM (SELECT DISTINCT parent_symbol, effective_date FROM pivot.constituents)"
    )[0][0]
    return check_result(
        failing,
        {"periods_checked": dg.MetadataValue.int(periods)},
        "every period's weights sum to 1",
        "effective periods whose weights do not sum to 1",
    )


@_per_trade_date(pivot.trades_1d, LOOK_THROUGH_CONSISTENT, blocking=True)
def look_through_consistent(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """For every exploded ETF/ETC trade of the partition: the constituent rows' notional equals the
    parent's notional times the sum of the weights of the map in force that day, and the rows carry
    exactly those weights (no exposure created, lost or counted twice)."""
    days = partition_days(context)
    failing = _per_day(
        clickhouse,
        days,
        """
        SELECT t.trade_date AS trade_date, t.trade_id AS trade_id, t.parent_symbol AS parent_symbol,
            t.parent_notional AS parent_notional, t.constituent_notional AS constituent_notional,
            t.row_weight_sum AS row_weight_sum, m.map_weight_sum AS map_weight_sum,
            t.constituent_rows AS constituent_rows, m.map_constituents AS map_constituents
        FROM (
            SELECT trade_date, trade_id,
                anyIf(symbol, is_constituent_exposure = 0) AS parent_symbol,
                sumIf(notional, is_constituent_exposure = 0) AS parent_notional,
                sumIf(weight, is_constituent_exposure = 1) AS row_weight_sum,
                sumIf(notional, is_constituent_exposure = 1) AS constituent_notional,
                countIf(is_constituent_exposure = 1) AS constituent_rows,
                countIf(is_constituent_exposure = 0) AS parent_rows
            FROM pivot.trades_1d
            WHERE trade_date = {day:Date} AND exposure_type IN ('ETF', 'ETC', 'Constituent')
            GROUP BY trade_date, trade_id
            HAVING constituent_rows > 0
        ) AS t
        LEFT JOIN (
            SELECT parent_symbol, sum(weight) AS map_weight_sum, count() AS map_constituents
            FROM pivot.constituents
            WHERE effective_date <= {day:Date} AND expiry_date >= {day:Date}
            GROUP BY parent_symbol
        ) AS m ON m.parent_symbol = t.parent_symbol
        WHERE t.parent_rows != 1
           OR t.constituent_rows != m.map_constituents
           OR abs(t.row_weight_sum - m.map_weight_sum) > {tolerance:Float64}
           OR abs(t.constituent_notional - t.parent_notional * m.map_weight_sum)
              > greatest(0.01, abs(t.parent_notional) * {tolerance:Float64})
        ORDER BY trade_id
        SETTINGS join_use_nulls = 0
        """,
        tolerance=RELATIVE_TOLERANCE,
    )
    exploded = sum(
        clickhouse.query_rows(
            "SELECT uniqExact(trade_id) FROM pivot.trades_1d "
            "WHERE trade_date = {day:Date} AND is_constituent_exposure = 1",
            {"day": day},
        )[0][0]
        for day in days
    )
    return check_result(
        failing,
        {"exploded_trades_checked": dg.MetadataValue.int(exploded)},
        "constituent notional = parent notional x weights for every exploded trade",
        "exploded trades whose constituent notional does not match the parent",
    )


@_per_trade_date(pivot.trades_1d, NO_DUPLICATE_TRADE_ROWS, blocking=True)
def no_duplicate_trade_rows(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """A trade appears once as traded and at most once per constituent: duplicates would double count
    every aggregate, the rollup included.

    A day of tens of millions of rows is screened first on a narrow fixed-width key,
    (trade_id, cityHash64(symbol, exposure_type)): equal rows have equal hashes, so a clean
    screen proves there is no duplicate; only a day the screen flags (a real duplicate or,
    vanishingly rarely, a hash collision) is grouped on the exact columns to list the rows."""
    frames = []
    for day in partition_days(context):
        flagged = clickhouse.query_rows(
            "SELECT count() FROM (SELECT 1 FROM pivot.trades_1d WHERE trade_date = {day:Date} "
            "GROUP BY trade_id, cityHash64(symbol, exposure_type) HAVING count() > 1 LIMIT 1)",
            {"day": day},
        )[0][0]
        if flagged:
            frames.append(
                clickhouse.query_polars(
                    "SELECT trade_date, trade_id, exposure_type, symbol, count() AS copies FROM pivot.trades_1d "
                    "WHERE trade_date = {day:Date} GROUP BY trade_date, trade_id, exposure_type, symbol "
                    "HAVING copies > 1 ORDER BY trade_id, symbol",
                    {"day": day},
                )
            )
    failing = (
        pl.concat(frames, how="vertical_relaxed")
        if frames
        else pl.DataFrame(
            schema={
                "trade_date": pl.Date,
                "trade_id": pl.UInt64,
                "exposure_type": pl.String,
                "symbol": pl.String,
                "copies": pl.UInt64,
            }
        )
    )
    return check_result(
        failing,
        {"trade_dates": dg.MetadataValue.int(len(context.partition_keys))},
        "no trade row appears twice",
        "duplicated (trade_id, exposure_type, symbol) keys",
    )


@_per_trade_date(pivot.trades_1d, GREEKS_WITHIN_SPEC_RANGES)
def greeks_within_spec_ranges(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """Delta in [-1, 1], gamma in [0, 0.1] and theta <= 0, as the spec defines them. Not blocking:
    the rollup carries no Greeks, so a bad Greek does not spread, but it fails the check loudly."""
    days = partition_days(context)
    failing = _per_day(
        clickhouse,
        days,
        "SELECT trade_date, trade_id, symbol, exposure_type, delta, gamma, theta FROM pivot.trades_1d "
        "WHERE trade_date = {day:Date} AND (delta < -1 OR delta > 1 OR gamma < 0 OR gamma > 0.1 OR theta > 0 "
        "OR isNaN(delta) OR isNaN(gamma) OR isNaN(theta)) ORDER BY trade_id",
    )
    return check_result(
        failing,
        {"trade_dates": dg.MetadataValue.int(len(days))},
        "every row's Greeks are within the spec's ranges",
        "rows with Greeks outside the spec's ranges",
    )


@_per_trade_date(pivot.trades_1d, USD_MATCHES_DAY_RATES, blocking=True)
def usd_matches_day_rates(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """Per trade date and currency, the USD notional and P&L equal the local ones times that currency's
    rate in pivot.fx_rates on the date (a currency without a rate fails): the reporting-currency totals
    a desk adds up are the day's rates applied, no row left at 0 by an old store or a stale rate."""
    days = partition_days(context)
    failing = _per_day(
        clickhouse,
        days,
        """
        SELECT t.trade_date AS trade_date, t.currency AS currency, t.rows AS rows, r.rate_to_usd AS rate_to_usd,
            t.notional AS notional, t.notional_usd AS notional_usd, t.notional * r.rate_to_usd AS expected_notional_usd,
            t.pnl_usd AS pnl_usd, t.pnl * r.rate_to_usd AS expected_pnl_usd
        FROM (
            SELECT trade_date, toString(currency) AS currency, count() AS rows, sum(notional) AS notional,
                sum(notional_usd) AS notional_usd, sum(pnl) AS pnl, sum(pnl_usd) AS pnl_usd
            FROM pivot.trades_1d WHERE trade_date = {day:Date} GROUP BY trade_date, currency
        ) AS t
        LEFT JOIN (
            SELECT toString(currency) AS currency, any(rate_to_usd) AS rate_to_usd
            FROM pivot.fx_rates WHERE rate_date = {day:Date} GROUP BY currency
        ) AS r ON r.currency = t.currency
        WHERE r.rate_to_usd IS NULL
           OR abs(t.notional_usd - t.notional * r.rate_to_usd) > abs(t.notional * r.rate_to_usd) * {tolerance:Float64}
           OR abs(t.pnl_usd - t.pnl * r.rate_to_usd) > greatest(1e-6, abs(t.pnl * r.rate_to_usd) * {tolerance:Float64})
        ORDER BY currency
        SETTINGS join_use_nulls = 1
        """,
        tolerance=RELATIVE_TOLERANCE,
    )
    return check_result(
        failing,
        {"trade_dates": dg.MetadataValue.int(len(days))},
        "USD notional and P&L = local x the day's rate for every (trade_date, currency)",
        "(trade_date, currency) groups whose USD values are not the local ones at the day's rate",
    )


@_per_trade_date(pivot.trades_1d_rollup, ROLLUP_MATCHES_FACT)
def rollup_matches_fact(context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """The rollup's trade count, quantity, notional and P&L (local and USD) equal the fact's, per
    (trade_date, exposure_type): dashboards reading the rollup see the same numbers as the fact."""
    days = partition_days(context)
    failing = _per_day(
        clickhouse,
        days,
        """
        SELECT f.trade_date AS trade_date, f.exposure_type AS exposure_type,
            f.rows AS fact_rows, r.rows AS rollup_rows,
            f.notional AS fact_notional, r.notional AS rollup_notional,
            f.pnl AS fact_pnl, r.pnl AS rollup_pnl,
            f.notional_usd AS fact_notional_usd, r.notional_usd AS rollup_notional_usd,
            f.pnl_usd AS fact_pnl_usd, r.pnl_usd AS rollup_pnl_usd
        FROM (
            SELECT trade_date, toString(exposure_type) AS exposure_type, count() AS rows,
                sum(quantity) AS quantity, sum(notional) AS notional, sum(pnl) AS pnl,
                sum(notional_usd) AS notional_usd, sum(pnl_usd) AS pnl_usd
            FROM pivot.trades_1d WHERE trade_date = {day:Date} GROUP BY trade_date, exposure_type
        ) AS f
        FULL OUTER JOIN (
            SELECT trade_date, toString(exposure_type) AS exposure_type, sum(trade_count) AS rows,
                sumMerge(quantity_state) AS quantity, sumMerge(notional_state) AS notional, sumMerge(pnl_state) AS pnl,
                sumMerge(notional_usd_state) AS notional_usd, sumMerge(pnl_usd_state) AS pnl_usd
            FROM pivot.trades_1d_rollup WHERE trade_date = {day:Date} GROUP BY trade_date, exposure_type
        ) AS r ON f.trade_date = r.trade_date AND f.exposure_type = r.exposure_type
        WHERE f.rows != r.rows
           OR abs(f.quantity - r.quantity) > greatest(0.01, abs(f.quantity) * {tolerance:Float64})
           OR abs(f.notional - r.notional) > greatest(0.01, abs(f.notional) * {tolerance:Float64})
           OR abs(f.pnl - r.pnl) > greatest(0.01, abs(f.pnl) * {tolerance:Float64})
           OR abs(f.notional_usd - r.notional_usd) > greatest(0.01, abs(f.notional_usd) * {tolerance:Float64})
           OR abs(f.pnl_usd - r.pnl_usd) > greatest(0.01, abs(f.pnl_usd) * {tolerance:Float64})
        ORDER BY exposure_type
        """,
        tolerance=RELATIVE_TOLERANCE,
    )
    return check_result(
        failing,
        {"trade_dates": dg.MetadataValue.int(len(days))},
        "rollup equals the fact for every (trade_date, exposure_type)",
        "(trade_date, exposure_type) groups where the rollup differs from the fact",
    )


@_per_trade_date(pivot.trades_1d, LANDED_TRADES_ON_CLOSED_VENUES)
def landed_trades_on_closed_venues(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """Traded rows on a date their venue was closed (weekend, holiday, closure): loaded as the desk landed
    them, but worth a look (a wrong trade_date, a time-zone slip). The calendar is the venue's when it has
    one in pipeline.pivot.calendars, else the instrument's listing exchange's; a venue and exchange without
    a calendar are not judged. A warning, not blocking: the trades are real."""
    days = partition_days(context)
    traded = _per_day(
        clickhouse,
        days,
        "SELECT t.trade_date AS trade_date, toString(t.venue) AS venue, toString(i.exchange) AS exchange, "
        "count() AS trades FROM pivot.trades_1d AS t LEFT JOIN pivot.instruments AS i ON i.symbol = t.symbol "
        "WHERE t.trade_date = {day:Date} AND t.is_constituent_exposure = 0 "
        "GROUP BY trade_date, venue, exchange ORDER BY venue, exchange",
    )
    calendar = pl.when(pl.col("venue").is_in(list(EXCHANGE_CALENDARS)))
    traded = traded.with_columns(calendar=calendar.then(pl.col("venue")).otherwise(pl.col("exchange")))
    closed = [
        has_calendar(code) and session(code, day) is None
        for day, code in traded.select("trade_date", "calendar").iter_rows()
    ]
    failing = traded.filter(pl.Series(closed, dtype=pl.Boolean)) if traded.height else traded
    return check_result(
        failing,
        {
            "trade_dates": dg.MetadataValue.int(len(days)),
            "trades_on_closed_venues": dg.MetadataValue.int(int(failing["trades"].sum()) if failing.height else 0),
        },
        "every traded row is on a date its venue holds a session",
        "(trade_date, venue) groups traded on a date their venue was closed",
        severity=dg.AssetCheckSeverity.WARN,
    )


pivot_checks = [
    constituent_weights_sum_to_one,
    look_through_consistent,
    no_duplicate_trade_rows,
    greeks_within_spec_ranges,
    usd_matches_day_rates,
    rollup_matches_fact,
    landed_trades_on_closed_venues,
]

defs = dg.Definitions(asset_checks=pivot_checks)
