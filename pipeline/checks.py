"""Data-quality rules of both warehouses, as Dagster asset checks.

Each check runs in the pool of the asset it checks (so it never opens the
embedded ClickHouse store beside another process), reads only the partitions
of the run, and on failure lists the offending rows in its metadata. Checks
whose failure means downstream assets would be built on bad data are blocking:
in the same run, the downstream steps are then skipped.
"""

from datetime import date

import dagster as dg
import polars as pl

from pipeline.assets import dist_perf_dw, pivot
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.postgres import PostgresResource

# Check names are part of the UI and of alerting rules: keep them stable.
CONSTITUENT_WEIGHTS_SUM_TO_ONE = "constituent_weights_sum_to_one"
LOOK_THROUGH_CONSISTENT = "look_through_consistent"
NO_DUPLICATE_TRADE_ROWS = "no_duplicate_trade_rows"
GREEKS_WITHIN_SPEC_RANGES = "greeks_within_spec_ranges"
ROLLUP_MATCHES_FACT = "rollup_matches_fact"
FOREIGN_KEYS_RESOLVE = "foreign_keys_resolve"
REVENUE_MATCHES_FLOWS = "revenue_net_flows_match_aum_flows"
COMP_MATCHES_FLOWS = "comp_net_flows_match_aum_flows"

WEIGHT_TOLERANCE = 1e-6
# Look-through notional is weight x parent notional in floating point.
RELATIVE_TOLERANCE = 1e-9
# Rows listed in a failing check's metadata.
SHOWN_ROWS = 20


def _rows_table(frame: pl.DataFrame, limit: int = SHOWN_ROWS) -> dg.MetadataValue:
    """The first failing rows as a markdown table (the UI renders it)."""
    head = frame.head(limit)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(f"{v:,.6f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


def _result(failing: pl.DataFrame, checked: dict, description_ok: str, description_bad: str,
            severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    metadata = {"failing_rows": dg.MetadataValue.int(failing.height), **checked}
    if failing.height:
        metadata["failing_rows_sample"] = _rows_table(failing)
    return dg.AssetCheckResult(
        passed=failing.is_empty(),
        severity=severity,
        metadata=metadata,
        description=description_ok if failing.is_empty() else f"{failing.height} {description_bad}",
    )


def _days(context: dg.AssetCheckExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


# --------------------------------------------------------------------------- pivot (ClickHouse)


@dg.asset_check(asset=pivot.constituents, name=CONSTITUENT_WEIGHTS_SUM_TO_ONE, blocking=True, pool=pivot.POOL)
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
    return _result(failing, {"periods_checked": dg.MetadataValue.int(periods)},
                   "every period's weights sum to 1", "effective periods whose weights do not sum to 1")


@dg.asset_check(
    asset=pivot.trades_1d, name=LOOK_THROUGH_CONSISTENT, blocking=True, pool=pivot.POOL,
    partitions_def=trade_date_partitions,
)
def look_through_consistent(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """For every exploded ETF/ETC trade of the partition: the constituent rows' notional equals the
    parent's notional times the sum of the weights of the map in force that day, and the rows carry
    exactly those weights (no exposure created, lost or counted twice)."""
    frames = [clickhouse.query_polars(
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
        """, {"day": day, "tolerance": RELATIVE_TOLERANCE})
        for day in _days(context)]
    exploded = sum(clickhouse.query_rows(
        "SELECT uniqExact(trade_id) FROM pivot.trades_1d WHERE trade_date = {day:Date} AND is_constituent_exposure = 1",
        {"day": day})[0][0] for day in _days(context))
    return _result(pl.concat(frames, how="vertical_relaxed"),
                   {"exploded_trades_checked": dg.MetadataValue.int(exploded)},
                   "constituent notional = parent notional x weights for every exploded trade",
                   "exploded trades whose constituent notional does not match the parent")


@dg.asset_check(
    asset=pivot.trades_1d, name=NO_DUPLICATE_TRADE_ROWS, blocking=True, pool=pivot.POOL,
    partitions_def=trade_date_partitions,
)
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
    for day in _days(context):
        flagged = clickhouse.query_rows(
            "SELECT count() FROM (SELECT 1 FROM pivot.trades_1d WHERE trade_date = {day:Date} "
            "GROUP BY trade_id, cityHash64(symbol, exposure_type) HAVING count() > 1 LIMIT 1)", {"day": day})[0][0]
        if flagged:
            frames.append(clickhouse.query_polars(
                "SELECT trade_date, trade_id, exposure_type, symbol, count() AS copies FROM pivot.trades_1d "
                "WHERE trade_date = {day:Date} GROUP BY trade_date, trade_id, exposure_type, symbol "
                "HAVING copies > 1 ORDER BY trade_id, symbol", {"day": day}))
    failing = (pl.concat(frames, how="vertical_relaxed") if frames
               else pl.DataFrame(schema={"trade_date": pl.Date, "trade_id": pl.UInt64, "exposure_type": pl.String,
                                         "symbol": pl.String, "copies": pl.UInt64}))
    return _result(failing, {"trade_dates": dg.MetadataValue.int(len(context.partition_keys))},
                   "no trade row appears twice", "duplicated (trade_id, exposure_type, symbol) keys")


@dg.asset_check(
    asset=pivot.trades_1d, name=GREEKS_WITHIN_SPEC_RANGES, pool=pivot.POOL,
    partitions_def=trade_date_partitions,
)
def greeks_within_spec_ranges(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """Delta in [-1, 1], gamma in [0, 0.1] and theta <= 0, as the spec defines them. Not blocking:
    the rollup carries no Greeks, so a bad Greek does not spread, but it fails the check loudly."""
    frames = [clickhouse.query_polars(
        "SELECT trade_date, trade_id, symbol, exposure_type, delta, gamma, theta FROM pivot.trades_1d "
        "WHERE trade_date = {day:Date} AND (delta < -1 OR delta > 1 OR gamma < 0 OR gamma > 0.1 OR theta > 0 "
        "OR isNaN(delta) OR isNaN(gamma) OR isNaN(theta)) ORDER BY trade_id", {"day": day})
        for day in _days(context)]
    return _result(pl.concat(frames, how="vertical_relaxed"),
                   {"trade_dates": dg.MetadataValue.int(len(frames))},
                   "every row's Greeks are within the spec's ranges", "rows with Greeks outside the spec's ranges")


@dg.asset_check(
    asset=pivot.trades_1d_rollup, name=ROLLUP_MATCHES_FACT, pool=pivot.POOL,
    partitions_def=trade_date_partitions,
)
def rollup_matches_fact(
    context: dg.AssetCheckExecutionContext, clickhouse: ClickHouseResource
) -> dg.AssetCheckResult:
    """The rollup's trade count, quantity, notional and P&L equal the fact's, per (trade_date,
    exposure_type): dashboards reading the rollup see the same numbers as the fact."""
    frames = [clickhouse.query_polars(
        """
        SELECT f.trade_date AS trade_date, f.exposure_type AS exposure_type,
            f.rows AS fact_rows, r.rows AS rollup_rows,
            f.notional AS fact_notional, r.notional AS rollup_notional,
            f.pnl AS fact_pnl, r.pnl AS rollup_pnl
        FROM (
            SELECT trade_date, toString(exposure_type) AS exposure_type, count() AS rows,
                sum(quantity) AS quantity, sum(notional) AS notional, sum(pnl) AS pnl
            FROM pivot.trades_1d WHERE trade_date = {day:Date} GROUP BY trade_date, exposure_type
        ) AS f
        FULL OUTER JOIN (
            SELECT trade_date, toString(exposure_type) AS exposure_type, sum(trade_count) AS rows,
                sumMerge(quantity_state) AS quantity, sumMerge(notional_state) AS notional, sumMerge(pnl_state) AS pnl
            FROM pivot.trades_1d_rollup WHERE trade_date = {day:Date} GROUP BY trade_date, exposure_type
        ) AS r ON f.trade_date = r.trade_date AND f.exposure_type = r.exposure_type
        WHERE f.rows != r.rows
           OR abs(f.quantity - r.quantity) > greatest(0.01, abs(f.quantity) * {tolerance:Float64})
           OR abs(f.notional - r.notional) > greatest(0.01, abs(f.notional) * {tolerance:Float64})
           OR abs(f.pnl - r.pnl) > greatest(0.01, abs(f.pnl) * {tolerance:Float64})
        ORDER BY exposure_type
        """, {"day": day, "tolerance": RELATIVE_TOLERANCE})
        for day in _days(context)]
    return _result(pl.concat(frames, how="vertical_relaxed"),
                   {"trade_dates": dg.MetadataValue.int(len(frames))},
                   "rollup equals the fact for every (trade_date, exposure_type)",
                   "(trade_date, exposure_type) groups where the rollup differs from the fact")


pivot_checks = [
    constituent_weights_sum_to_one, look_through_consistent, no_duplicate_trade_rows,
    greeks_within_spec_ranges, rollup_matches_fact,
]


# --------------------------------------------------------------------------- dist_perf_dw (PostgreSQL)


def _foreign_key_check(asset: dg.AssetsDefinition, partitions_def, blocking: bool) -> dg.AssetChecksDefinition:
    table = asset.key.path[-1]

    @dg.asset_check(
        asset=asset, name=FOREIGN_KEYS_RESOLVE, blocking=blocking, pool=dist_perf_dw.POOL,
        partitions_def=partitions_def,
        description=f"Every foreign key of {table} resolves to a dimension row (the load proves it set-wise; "
        "this re-proves it on the stored table, whatever wrote it).",
    )
    def _check(postgres: PostgresResource) -> dg.AssetCheckResult:
        orphans = postgres.orphan_counts(table)
        failing = pl.DataFrame(
            [{"foreign_key": key, "orphan_rows": count} for key, count in orphans.items() if count],
            schema={"foreign_key": pl.String, "orphan_rows": pl.Int64},
        )
        return _result(failing, {"foreign_keys_checked": dg.MetadataValue.int(len(orphans))},
                       "every foreign key resolves", "foreign keys with orphan rows")

    return _check


# Flows feed revenue, retention and compensation: orphans there must not flow on.
foreign_key_checks = [
    _foreign_key_check(dist_perf_dw.fact_aum_flows, trade_date_partitions, blocking=True),
    _foreign_key_check(dist_perf_dw.fact_revenue, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_retention_snapshots, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_distribution_expense, trade_date_partitions, blocking=False),
    _foreign_key_check(dist_perf_dw.fact_wholesaler_comp, month_partitions, blocking=False),
]


@dg.asset_check(
    asset=dist_perf_dw.fact_revenue, name=REVENUE_MATCHES_FLOWS, pool=dist_perf_dw.POOL,
    partitions_def=trade_date_partitions,
)
def revenue_matches_flows(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Per date, advisor and product, the net flows revenue was accrued on equal the net flows in
    fact_aum_flows (revenue is fee x (AUM + that day's net flows))."""
    days = _days(context)
    failing = postgres.read_frame(
        """
        WITH flows AS (
            SELECT flow_date AS day, advisor_id, product_id, sum(net_amount) AS flows_net
            FROM dist_perf_dw.fact_aum_flows WHERE flow_date = ANY(:days) GROUP BY 1, 2, 3
        ), revenue AS (
            SELECT revenue_date AS day, advisor_id, product_id, sum(net_flow_amount) AS revenue_net
            FROM dist_perf_dw.fact_revenue WHERE revenue_date = ANY(:days) GROUP BY 1, 2, 3
        )
        SELECT day, advisor_id, product_id, coalesce(flows_net, 0)::float8 AS flows_net,
               coalesce(revenue_net, 0)::float8 AS revenue_net
        FROM flows FULL OUTER JOIN revenue USING (day, advisor_id, product_id)
        WHERE abs(coalesce(flows_net, 0) - coalesce(revenue_net, 0)) > 0.01
        ORDER BY day, advisor_id, product_id
        """,
        {"days": days},
    )
    return _result(failing, {"dates_checked": dg.MetadataValue.int(len(days))},
                   "revenue's net flows equal fact_aum_flows for every position",
                   "(date, advisor, product) positions whose revenue net flows differ from fact_aum_flows")


@dg.asset_check(
    asset=dist_perf_dw.fact_wholesaler_comp, name=COMP_MATCHES_FLOWS, pool=dist_perf_dw.POOL,
    partitions_def=month_partitions,
)
def comp_matches_flows(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> dg.AssetCheckResult:
    """Per month and wholesaler, the net flows compensation was paid on equal the month's net flows in
    fact_aum_flows, and total = base + incentive. For months whose flows are not all loaded (a business
    day without flows) the flows comparison is reported as not possible instead of failing."""
    months = _days(context)
    frame = postgres.read_frame(
        """
        WITH month_days AS (
            SELECT date_trunc('month', calendar_date)::date AS month, count(*) AS business_days
            FROM dist_perf_dw.dim_dates
            WHERE date_trunc('month', calendar_date)::date = ANY(:months) AND is_business_day
            GROUP BY 1
        ), loaded AS (
            SELECT date_trunc('month', flow_date)::date AS month, count(DISTINCT flow_date) AS days_loaded
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1
        ), flows AS (
            SELECT date_trunc('month', flow_date)::date AS month, wholesaler_id, sum(net_amount) AS flows_net
            FROM dist_perf_dw.fact_aum_flows
            WHERE date_trunc('month', flow_date)::date = ANY(:months) GROUP BY 1, 2
        )
        SELECT c.comp_month AS month, c.wholesaler_id,
               coalesce(f.flows_net, 0)::float8 AS flows_net, c.net_flow_amount::float8 AS comp_net,
               (c.total_comp_amount - c.base_salary_amount - c.incentive_amount)::float8 AS total_mismatch,
               coalesce(l.days_loaded, 0) >= coalesce(d.business_days, 0) AS comparable
        FROM dist_perf_dw.fact_wholesaler_comp AS c
        LEFT JOIN flows AS f ON f.month = c.comp_month AND f.wholesaler_id = c.wholesaler_id
        LEFT JOIN loaded AS l ON l.month = c.comp_month
        LEFT JOIN month_days AS d ON d.month = c.comp_month
        WHERE c.comp_month = ANY(:months)
        ORDER BY 1, 2
        """,
        {"months": months},
    )
    if frame.is_empty():
        return dg.AssetCheckResult(passed=True, description="no compensation rows for the month(s)",
                                   metadata={"months_checked": 0})
    comparable = frame.filter(pl.col("comparable"))
    # total = base + incentive holds for every row; the flows comparison needs the whole month loaded.
    failing = frame.filter(
        (pl.col("comparable") & ((pl.col("flows_net") - pl.col("comp_net")).abs() > 0.01))
        | (pl.col("total_mismatch").abs() > 0.01)
    ).drop("comparable")
    not_comparable = sorted({str(m) for m in frame.filter(~pl.col("comparable"))["month"].to_list()})
    metadata = {"months_checked": dg.MetadataValue.int(comparable["month"].n_unique())}
    if not_comparable:
        metadata["months_not_comparable"] = dg.MetadataValue.text(
            ", ".join(not_comparable) + ": fact_aum_flows is missing business days of the month"
        )
    return _result(failing, metadata, "compensation net flows equal fact_aum_flows for every wholesaler",
                   "(month, wholesaler) rows whose compensation disagrees with fact_aum_flows")


dist_perf_dw_checks = [*foreign_key_checks, revenue_matches_flows, comp_matches_flows]

defs = dg.Definitions(asset_checks=[*pivot_checks, *dist_perf_dw_checks])
