"""The part budget of `pivot.trades_1d` as an asset check: how close the table is to the limits at which
ClickHouse refuses inserts (`max_parts_in_total` for the table, `parts_to_throw_insert` for one
partition, i.e. one trade date). WARN at 50 % of either, ERROR at 80 %. What keeps it down is the
`pivot_settle` job (pipeline/jobs/pivot_history.py)."""

import dagster as dg

from pipeline.assets import pivot
from pipeline.pivot.settle import ERROR_SHARE, WARN_SHARE, part_budget
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import CLICKHOUSE_POOL

ACTIVE_PARTS_WITHIN_BUDGET = "active_parts_within_budget"


@dg.asset_check(asset=pivot.trades_1d, name=ACTIVE_PARTS_WITHIN_BUDGET, pool=CLICKHOUSE_POOL)
def active_parts_within_budget(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """Active parts of pivot.trades_1d, in total and on its worst trade date, under half of the server's
    max_parts_in_total and parts_to_throw_insert (a warning from 50 %, an error from 80 %: inserts are refused
    at 100 %). On a cluster: this node's parts of trades_1d_local."""
    table = "trades_1d_local" if clickhouse.cluster else "trades_1d"
    budget = part_budget(clickhouse, table)
    metadata = {
        "active_parts": dg.MetadataValue.int(budget.total_parts),
        "max_parts_in_total": dg.MetadataValue.int(budget.max_parts_in_total),
        "worst_trade_date": str(budget.worst_date or "-"),
        "worst_trade_date_parts": dg.MetadataValue.int(budget.worst_date_parts),
        "parts_to_throw_insert": dg.MetadataValue.int(budget.parts_to_throw_insert),
        "share_of_limit": dg.MetadataValue.float(round(budget.share, 4)),
    }
    described = (
        f"{budget.total_parts:,} active parts of {budget.max_parts_in_total:,} (max_parts_in_total); worst date "
        f"{budget.worst_date or '-'}: {budget.worst_date_parts:,} of {budget.parts_to_throw_insert:,} "
        f"(parts_to_throw_insert): {budget.share:.0%} of a limit"
    )
    if budget.level == "ok":
        return dg.AssetCheckResult(passed=True, metadata=metadata, description=described)
    severity = dg.AssetCheckSeverity.ERROR if budget.level == "error" else dg.AssetCheckSeverity.WARN
    threshold = ERROR_SHARE if budget.level == "error" else WARN_SHARE
    return dg.AssetCheckResult(
        passed=False,
        severity=severity,
        metadata=metadata,
        description=f"{described}, at or over {threshold:.0%}: run pivot_settle (or settle older dates)",
    )


defs = dg.Definitions(asset_checks=[active_parts_within_budget])
