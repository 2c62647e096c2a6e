"""The reference-data sensor: landed ETF/ETC composition files reload the map and re-explode trades.

Operators (or an upstream feed) drop CSV files into $PIVOT_LANDING_DIR (format
in `pipeline.pivot.landing`). Each tick the sensor validates every new or changed
file against the pure reference data, never the ClickHouse store (the embedded
store admits one process at a time, and sensors run in the daemon). A valid
file requests one run of `pivot_reference_refresh`: reload pivot/constituents
(which applies the landed files), then re-explode and re-roll every already
materialized trade date on or after the new effective date that the new period
covers, each from the source it was loaded from (a landed day from its landed
trades, a synthetic day from its seed: one run per range of dates loaded alike,
`pipeline.sensors.trade_sources`). An invalid file is reported in the tick's log and skip reason and
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
from pipeline.sensors.trade_sources import ranges_by_source
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
    files = ",".join(f"{r.path.name}:{r.digest}" for r in valid)
    tags = {"pivot/landed_files": ",".join(r.path.name for r in valid)[:200]}
    if not dates:
        context.log.info("requesting a reload of pivot/constituents (no materialized trade date is affected)")
        run_key = hashlib.sha256(files.encode()).hexdigest()[:32]
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, asset_selection=[pivot.constituents.key], tags=tags)],
            cursor=cursor,
        )
    # One run per range of dates loaded the same way: a landed day re-explodes from its own landed
    # trades, a synthetic day from its seed, never one over the other. Each run reloads the map first
    # (idempotent), then its dates in order, rollups after their facts.
    ranges = ranges_by_source(context.instance, dates)
    selection = [pivot.constituents.key, pivot.trades_1d.key, pivot.trades_1d_rollup.key]
    context.log.info(
        f"requesting a reload of pivot/constituents and re-explosion of {len(dates)} trade dates in "
        f"{len(ranges)} run(s): {', '.join(r.describe() for r in ranges)}"
    )
    requests = [
        dg.RunRequest(
            run_key=hashlib.sha256(f"{files}|{r.first}|{r.last}".encode()).hexdigest()[:32],
            asset_selection=selection,
            tags={**tags, **r.tags()},
            run_config=r.run_config(),
        )
        for r in ranges
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor)
