"""The reference-data sensor: landed ETF/ETC composition files reload the map and re-explode trades.

Operators (or an upstream feed) drop CSV files into $PIVOT_LANDING_DIR (format
in `pipeline.pivot.landing`). Each tick the sensor validates every new or changed
file against the pure reference data, never the ClickHouse store (the embedded
store admits one process at a time, and sensors run in the daemon). A valid
file requests one run of `pivot_reference_refresh`: reload pivot/constituents
(which applies the landed files), then re-explode and re-roll every already
materialized trade date on or after the new effective date that the new period
covers. An invalid file is reported in the tick's log and skip reason and
changes nothing. The cursor maps each file name to its content hash, so each
version of a file is handled exactly once.
"""

import hashlib
import json
from datetime import date

import dagster as dg

from pipeline.assets import pivot
from pipeline.jobs.pivot import pivot_reference_refresh_job
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landing import LandingFileResult, merge_landed_files, period_end, validate_landed_files
from pipeline.resources.generation import GenerationSettings
from pipeline.settings import landing_dir


def _read_cursor(cursor: str | None) -> dict[str, str]:
    return json.loads(cursor) if cursor else {}


def affected_trade_dates(results: list[LandingFileResult], materialized: set[str], seed: int) -> list[str]:
    """Materialized trade dates whose look-through changes: each landed period's [start, end] in
    the merged map, intersected with the dates already loaded. Pure, so it is tested directly."""
    valid = [r for r in results if r.is_valid]
    if not valid or not materialized:
        return []
    merged, _ = merge_landed_files(build_constituents(seed), build_instruments(seed), landing_dir())
    windows = [(start, period_end(merged, parent, start)) for r in valid for parent, start in r.periods()]
    return sorted(key for key in materialized if any(start <= date.fromisoformat(key) <= end for start, end in windows))


@dg.sensor(
    name="pivot_landed_constituents",
    job=pivot_reference_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Validates ETF/ETC composition files dropped in $PIVOT_LANDING_DIR; a valid file reloads "
    "pivot/constituents and re-explodes the trade dates its new period covers.",
)
def pivot_landed_constituents(context: dg.SensorEvaluationContext, generation: GenerationSettings) -> dg.SensorResult:
    """See the module docstring."""
    seen = _read_cursor(context.cursor)
    directory = landing_dir()
    instruments = build_instruments(generation.seed)
    new_results: list[LandingFileResult] = []
    for result in validate_landed_files(directory, instruments):
        path = result.path
        if seen.get(path.name) == result.digest:
            continue
        seen[path.name] = result.digest
        new_results.append(result)
        if result.is_valid:
            context.log.info(result.summary())
        else:
            context.log.error(result.summary())

    cursor = json.dumps(seen, sort_keys=True)
    valid = [r for r in new_results if r.is_valid]
    invalid = [r for r in new_results if not r.is_valid]
    if not valid:
        reason = (
            f"no new or changed files in {directory}"
            if not invalid
            else "rejected, nothing changed: " + "; ".join(r.summary() for r in invalid)
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)

    materialized = context.instance.get_materialized_partitions(pivot.trades_1d.key)
    dates = affected_trade_dates(valid, materialized, generation.seed)
    tags = {"pivot/landed_files": ",".join(r.path.name for r in valid)[:200]}
    if dates:
        # One range run: constituents first, then the dates in order, rollups after their facts.
        tags.update({"dagster/asset_partition_range_start": dates[0], "dagster/asset_partition_range_end": dates[-1]})
        selection = [pivot.constituents.key, pivot.trades_1d.key, pivot.trades_1d_rollup.key]
    else:
        selection = [pivot.constituents.key]
    run_key = hashlib.sha256(",".join(f"{r.path.name}:{r.digest}" for r in valid).encode()).hexdigest()[:32]
    context.log.info(
        "requesting a reload of pivot/constituents"
        + (
            f" and re-explosion of {len(dates)} trade dates {dates[0]}..{dates[-1]}"
            if dates
            else " (no materialized trade date is affected)"
        )
    )
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, asset_selection=selection, tags=tags)],
        cursor=cursor,
    )
