"""The FX sensor: a new, changed or removed rates file in $PIVOT_LANDING_DIR/fx/ reloads the rates and
re-loads the trade dates whose USD values it changes.

Each tick validates the landed FX files with the pure rules of `pipeline.pivot.fx` (never the
ClickHouse store: the embedded store admits one process at a time, and sensors run in the daemon).
A valid new or changed file, or a removed one, requests one run of `pivot_fx_refresh`: reload
pivot/fx_rates, then re-load and re-roll the already materialized trade dates in the range the file
covers now or covered before (a removed or shortened file puts the synthetic rates back), each from the
source it was loaded from (one run per range of dates loaded alike, `pipeline.sensors.trade_sources`). An
invalid file is reported in the tick's log and skip reason and requests nothing (the asset would
refuse it). Nothing is read while a file is still being written (its size or modification time
changed since the last tick, or it is first seen: `files.files_still_being_written`); the skip reason
names it. The cursor maps each file name to its content hash and the dates it covered, so each
version of a file is handled exactly once, and keeps the last observation of every file.
"""

import hashlib
import json
from datetime import date

import dagster as dg

from pipeline.assets import pivot
from pipeline.jobs.pivot import pivot_fx_refresh_job
from pipeline.landed_files.folders import files_still_being_written
from pipeline.pivot.fx import FxFileResult, fx_landing_dir, landed_fx_files, validate_fx_files
from pipeline.sensors.trade_sources import ranges_by_source
from pipeline.settings import landing_dir


def _read_cursor(cursor: str | None) -> tuple[dict[str, list], dict[str, list[int]]]:
    """({name: [digest, first covered date or None, last covered date or None]}, {name: [size,
    mtime_ns]}); a cursor from before the settle wait is the first part alone."""
    state = json.loads(cursor) if cursor else {}
    if "observed" in state:
        return state["files"], state["observed"]
    return state, {}


def affected_trade_dates(windows: list[tuple[str, str]], materialized: set[str]) -> list[str]:
    """The materialized trade dates inside any of the (first, last) ISO date windows. Pure."""
    spans = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in windows]
    return sorted(k for k in materialized if any(a <= date.fromisoformat(k) <= b for a, b in spans))


def _span(result: FxFileResult) -> tuple[str | None, str | None]:
    days = result.dates()
    return (days[0].isoformat(), days[-1].isoformat()) if days else (None, None)


@dg.sensor(
    name="pivot_landed_fx_rates",
    job=pivot_fx_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Validates FX rate files dropped in $PIVOT_LANDING_DIR/fx/; a new, changed or removed file "
    "reloads pivot/fx_rates and re-loads the materialized trade dates it covers.",
)
def pivot_landed_fx_rates(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """See the module docstring."""
    seen, observed = _read_cursor(context.cursor)
    directory = fx_landing_dir(landing_dir())
    waiting, observed = files_still_being_written(landed_fx_files(directory), observed)
    if waiting:
        reason = "\n".join(f"waiting for fx/{name}: {why}" for name, why in sorted(waiting.items()))
        cursor = json.dumps({"files": seen, "observed": observed}, sort_keys=True)
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)
    results = validate_fx_files(directory)
    present = {r.path.name for r in results}
    windows: list[tuple[str, str]] = []
    changed: list[str] = []
    invalid: list[FxFileResult] = []
    for result in results:
        name, before = result.path.name, seen.get(result.path.name)
        if before and before[0] == result.digest:
            continue
        if before and before[1]:
            windows.append((before[1], before[2]))
        if not result.is_valid:
            context.log.error(result.summary())
            invalid.append(result)
            seen[name] = [result.digest, before[1] if before else None, before[2] if before else None]
            continue
        context.log.info(result.summary())
        first, last = _span(result)
        if first:
            windows.append((first, last))
        seen[name] = [result.digest, first, last]
        changed.append(name)
    for name in sorted(set(seen) - present):
        _, first, last = seen.pop(name)
        context.log.info(f"fx/{name} was removed: its dates go back to the synthetic rates")
        if first:
            windows.append((first, last))
        changed.append(f"{name} (removed)")

    files = json.dumps(seen, sort_keys=True)
    cursor = json.dumps({"files": seen, "observed": observed}, sort_keys=True)
    if not changed:
        reason = (
            f"no new, changed or removed files in {directory}"
            if not invalid
            else "rejected, nothing requested: " + "; ".join(r.summary() for r in invalid)
        )
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)

    materialized = context.instance.get_materialized_partitions(pivot.trades_1d.key)
    dates = affected_trade_dates(windows, materialized)
    tags = {"pivot/landed_fx_files": ",".join(changed)[:200]}
    run_key = hashlib.sha256(files.encode()).hexdigest()[:32]
    if not dates:
        context.log.info("requesting a reload of pivot/fx_rates (no materialized date affected)")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, asset_selection=[pivot.fx_rates.key], tags=tags)],
            cursor=cursor,
        )
    # One run per range of dates loaded alike: a landed day reloads from its landed trades, a synthetic
    # day from its seed (pipeline.sensors.trade_sources); each run reloads the rates first (idempotent).
    ranges = ranges_by_source(context.instance, dates)
    context.log.info(
        f"requesting a reload of pivot/fx_rates and of {len(dates)} trade dates in {len(ranges)} run(s): "
        + ", ".join(r.describe() for r in ranges)
    )
    selection = [pivot.fx_rates.key, pivot.trades_1d.key, pivot.trades_1d_rollup.key]
    requests = [
        dg.RunRequest(
            run_key=f"{run_key}-{r.first}-{r.last}",
            asset_selection=selection,
            tags={**tags, **r.tags()},
            run_config=r.run_config(),
        )
        for r in ranges
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor)
