"""The pivot warehouse in ClickHouse: reference data, the trade fact with look-through, the rollup.

Assets stay thin: they call the pure code in `pipeline.pivot` (instruments,
constituent maps, FX rates, the day load), hand the frames to the ClickHouse
resource, and report what landed as materialization metadata.
"""

import time
from datetime import date
from typing import Literal

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.assets.metadata import (
    OWNERS,
    markdown_table,
    partition_days,
    row_counts,
    table_definition_metadata,
)
from pipeline.assets.policies import LOAD_RETRY_POLICY, LoadConfig, refusals_fail_at_once
from pipeline.failpoints import failpoint
from pipeline.landed_files.folders import TRADES_FOLDER, LandedFileError
from pipeline.partitions import trade_date_partitions
from pipeline.pivot.calendars import ALL_VENUES_CLOSED
from pipeline.pivot.day_load import (
    LANDED,
    DayLoad,
    EmptyDayRefusedError,
    LoadTotals,
    MissingReferenceDataError,
    landed_days,
    landed_empty_cause,
    load_landed_trade_date,
    load_trade_date,
    read_reference_data,
    refuse_wiping,
)
from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS
from pipeline.pivot.fx import InvalidFxFileError, MissingFxRateError, build_fx_rates
from pipeline.pivot.instruments import SYNTHETIC_HORIZON_END
from pipeline.pivot.landed.trade_checks import UsdBound
from pipeline.pivot.landed.trades import NoLandedTradesError
from pipeline.pivot.queries import ROLLUP_REBUILD, SPEC_QUERIES, USD_VIEWS, for_date
from pipeline.pivot.reference import LandedReference, build_reference
from pipeline.pivot.trade_generation import MAX_TRADES_PER_DAY
from pipeline.pivot.versions import DayVersions, versions_frame
from pipeline.resources.clickhouse import ClickHouseResource, ddl_columns
from pipeline.resources.generation import GenerationSettings
from pipeline.settings import (
    CLICKHOUSE_POOL,
    ENV_TRADE_SOURCE,
    FIRST_TRADE_DATE,
    landed_settle_seconds,
    landing_dir,
    max_trade_notional_usd,
    trade_source,
    versions_kept,
)

GROUP = "pivot"
KINDS = {"polars", "clickhouse"}


def _table(name: str, layer: str) -> dict:
    """The @dg.asset arguments every pivot table shares: its key, catalog metadata, owner and tags."""
    return {
        "key": ["pivot", name],
        "metadata": table_definition_metadata(f"pivot.{name}", ddl_columns(name)),
        "owners": OWNERS,
        "tags": {"warehouse": "pivot", "layer": layer},
        "group_name": GROUP,
        "kinds": KINDS,
        "pool": CLICKHOUSE_POOL,
    }


DEMO_TRADES_PER_DAY = 20_000


class TradesConfig(LoadConfig):
    source: Literal["synthetic", "landed"] = Field(
        default=trade_source(),
        description=f"Where a day's base trades come from: synthetic (generated from the seed) or landed (the "
        f"files in $PIVOT_LANDING_DIR/{TRADES_FOLDER}/). The default is ${ENV_TRADE_SOURCE} (else synthetic), "
        "read when the definitions load.",
    )
    trades_per_day: int = Field(
        default=DEMO_TRADES_PER_DAY,
        ge=0,
        le=MAX_TRADES_PER_DAY,
        description="Synthetic source: base (traded) rows generated on a trade date every venue holds a full "
        "session, before look-through; fewer on a venue's holiday or half day, none when every venue is closed.",
    )
    explode_constituents: bool = Field(
        default=True, description="Add constituent-exposure rows for every ETF/ETC trade (look-through)."
    )
    chunk_rows: int = Field(
        default=DEFAULT_CHUNK_ROWS,
        ge=10_000,
        le=20_000_000,
        description="Exposure rows per chunk streamed into ClickHouse: bounds memory per partition.",
    )
    allow_empty: bool = Field(
        default=False,
        description="Let an empty day (a header-only landed file, trades_per_day 0) replace a date that holds "
        "rows. Off, such a load is refused and the date keeps its rows: an empty export is more often a failed "
        "one than a day without trades. A date never loaded may always load empty.",
    )


def refusal_metadata(error: LandedFileError) -> dict:
    """The refused file (or folder) and each problem, for the run's failure event."""
    problems = "\n".join(f"- {problem}" for problem in error.problems)
    return {"refused_path": dg.MetadataValue.path(str(error.path)), "problems": dg.MetadataValue.md(problems)}


def _reference(generation: GenerationSettings) -> LandedReference:
    try:
        return build_reference(generation.seed, landing_dir(), landed_settle_seconds())
    except LandedFileError as error:
        raise dg.Failure(
            f"landed reference files refused, pivot.instruments and pivot.constituents left as they were: {error}",
            metadata=refusal_metadata(error),
            allow_retries=False,
        ) from error


def _refuse_rejected_files(reference: LandedReference, *, compositions: bool) -> None:
    """Fail the run when a holdings file (or, for the map, a five-column composition file) was refused:
    applying the rest would leave the map silently short of what was landed. Not retried: the same
    files would be refused again. (The sensors' skip reasons name the same files.)"""
    rejected = [o.summary() for o in reference.holdings if not o.is_valid]
    if compositions:
        rejected += [r.summary() for r in reference.composition_files if not r.is_valid]
    if rejected:
        raise dg.Failure(
            "landed composition files refused, pivot.instruments and pivot.constituents left as they were:\n"
            + "\n".join(rejected),
            metadata={"rejected_files": dg.MetadataValue.md("\n".join(f"- {line}" for line in rejected))},
            allow_retries=False,
        )


def _names(symbols: list[str]) -> dg.MetadataValue:
    return dg.MetadataValue.text(
        ", ".join(symbols[:200]) + (f" (+{len(symbols) - 200} more)" if len(symbols) > 200 else "")
    )


@dg.asset(
    **_table("instruments", "reference"),
)
def instruments(
    context: dg.AssetExecutionContext, clickhouse: ClickHouseResource, generation: GenerationSettings
) -> dg.MaterializeResult:
    """Instrument reference data: every tradeable stock, ETF, ETC, commodity, index, future and option,
    with its asset class, type, currency, exchange and sector; the synthetic universe with the instrument
    master files of $PIVOT_LANDING_DIR/instruments/ merged in, plus the constituents the issuer holdings
    files in compositions/ name that it does not know (cash, money-market and futures lines included).
    A bad master or holdings file fails the load and changes nothing."""
    reference = _reference(generation)
    _refuse_rejected_files(reference, compositions=False)
    context.log.info(reference.instruments_summary())
    for outcome in reference.holdings:
        context.log.info(outcome.summary())
    frame = reference.instruments
    clickhouse.replace_table("instruments", frame)
    report = reference.master_report
    without = reference.composites_without_composition
    return dg.MaterializeResult(
        metadata={
            **row_counts(frame.height),
            "by_instrument_type": markdown_table(frame.group_by("instrument_type").len().sort("instrument_type")),
            "location": clickhouse.location,
            "landed_master_files": dg.MetadataValue.int(len(reference.master_files)),
            "instruments_added": dg.MetadataValue.int(len(report.added) + len(reference.added_from_holdings)),
            "instruments_changed": dg.MetadataValue.int(len(report.changed)),
            "added_from_master_files": _names(report.added),
            "changed_by_master_files": _names([f"{s} ({', '.join(c)})" for s, c in report.changed.items()]),
            "added_from_holdings_files": _names(reference.added_from_holdings),
            # Allowed (their trades are not exploded), but usually a composition file still to land.
            "composites_without_composition": dg.MetadataValue.int(len(without)),
            "composites_without_composition_symbols": _names(without),
        }
    )


@dg.asset(
    **_table("constituents", "reference"),
    deps=[instruments],
)
def constituents(
    context: dg.AssetExecutionContext, clickhouse: ClickHouseResource, generation: GenerationSettings
) -> dg.MaterializeResult:
    """ETF/ETC composition: the effective-dated map from each composite instrument to its constituents,
    with weights and shares per unit, quarterly rebalanced, plus every valid composition file landed
    in $PIVOT_LANDING_DIR (five-column files at the top level and in compositions/, issuer holdings
    files in compositions/), each applied as a new effective period. A refused file fails the load and
    changes nothing."""
    reference = _reference(generation)
    _refuse_rejected_files(reference, compositions=True)
    for result in reference.composition_files:
        context.log.info(result.summary())
    for outcome in reference.holdings:
        context.log.info(outcome.summary())
    frame = reference.constituents
    clickhouse.replace_table("constituents", frame)
    periods = frame.select("parent_symbol", "effective_date").unique()
    applied = [r for r in reference.holdings if r.is_valid]
    holdings = pl.DataFrame(
        [
            {
                "file": o.path.name,
                "issuer": o.result.issuer,
                "parent": o.result.parent_symbol,
                "as_of": str(o.result.as_of),
                "constituents": o.result.constituents.height,
                "raw_weight_sum_pct": round(o.result.raw_weight_sum, 4),
                "new_instruments": o.result.new_instruments.height,
                "shares_per_unit": o.result.shares_method,
            }
            for o in applied
        ]
    )
    metadata = {
        **row_counts(frame.height),
        "parents": frame["parent_symbol"].n_unique(),
        "effective_periods": periods.height,
        "latest_effective_date": str(frame["effective_date"].max()),
        "landed_files_applied": len(reference.composition_files) + len(applied),
        "holdings_files_applied": len(applied),
    }
    if holdings.height:
        metadata["holdings_files"] = markdown_table(holdings, limit=50)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    **_table("fx_rates", "reference"),
)
def fx_rates(context: dg.AssetExecutionContext, generation: GenerationSettings, clickhouse: ClickHouseResource):
    """FX rates to the reporting currency: USD per unit of every currency the instruments trade in, daily
    from the first trade date to the generated horizon; synthetic, overridden by the files landed in
    $PIVOT_LANDING_DIR/fx/ for the dates they cover. An invalid file fails the load and changes nothing."""
    start = date.fromisoformat(FIRST_TRADE_DATE)
    try:
        frame, landed = build_fx_rates(
            generation.seed, start, SYNTHETIC_HORIZON_END, landing_dir(), landed_settle_seconds()
        )
    except InvalidFxFileError as error:
        raise dg.Failure(f"invalid FX files, pivot.fx_rates left as it was:\n{error}", allow_retries=False) from error
    for result in landed:
        context.log.info(result.summary())
    clickhouse.replace_table("fx_rates", frame)
    return dg.MaterializeResult(
        metadata={
            **row_counts(frame.height),
            "currencies": ", ".join(sorted(frame["currency"].unique().to_list())),
            "first_date": str(frame["rate_date"].min()),
            "last_date": str(frame["rate_date"].max()),
            "landed_files_applied": len(landed),
            "landed_rates": sum(r.frame.height for r in landed if r.frame is not None),
        }
    )


@dg.asset(
    **_table("trades_1d", "fact"),
    deps=[instruments, constituents, fx_rates],
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
)
@refusals_fail_at_once
def trades_1d(
    context: dg.AssetExecutionContext,
    config: TradesConfig,
    clickhouse: ClickHouseResource,
    generation: GenerationSettings,
) -> dg.MaterializeResult:
    """Daily trade fact: every trade of the trade date, generated (source synthetic) or read from the files
    landed in $PIVOT_LANDING_DIR/trades/ (source landed), plus one look-through row per constituent of
    each ETF/ETC trade (the map in force that day), with notional and P&L in USD at the day's FX rates.
    Each date is swapped in whole; a date on which every venue is closed is loaded empty. A landed day
    with no file, or a refused file, fails the run before any date of it is changed."""
    try:
        reference = read_reference_data(clickhouse)
    except MissingReferenceDataError as error:
        raise dg.Failure(str(error), allow_retries=False) from error
    days = partition_days(context)
    landed = {}
    if config.source == LANDED:
        try:
            landed = landed_days(
                landing_dir() / TRADES_FOLDER,
                days,
                reference.instruments,
                usd_bound=UsdBound(reference.fx_rates, max_trade_notional_usd()),
                settle_seconds=landed_settle_seconds(),
            )
        except LandedFileError as error:
            # A missing day names its folder and date in the problem itself; a bad file leads with its name.
            what = "; ".join(error.problems) if isinstance(error, NoLandedTradesError) else str(error)
            raise dg.Failure(
                f"landed trades refused, no trade date changed: {what}",
                metadata=refusal_metadata(error),
                allow_retries=False,
            ) from error
        if not config.allow_empty:
            try:
                for day in days:
                    cause = landed_empty_cause(day, landed[day])
                    if cause:
                        refuse_wiping(clickhouse, day, cause)
            except EmptyDayRefusedError as error:
                refused = f"landed trades refused, no trade date changed: {error}"
                raise dg.Failure(refused, allow_retries=False) from error
    digests: dict = {}
    loads = []
    for day in days:
        try:
            if config.source == LANDED:
                load = load_landed_trade_date(
                    clickhouse,
                    day,
                    reference,
                    landed[day],
                    explode=config.explode_constituents,
                    chunk_rows=config.chunk_rows,
                    digests=digests,
                    allow_empty=config.allow_empty,
                    run_id=context.run.run_id,
                )
            else:
                load = load_trade_date(
                    clickhouse,
                    day,
                    reference,
                    trades_per_day=config.trades_per_day,
                    seed=generation.seed,
                    explode=config.explode_constituents,
                    chunk_rows=config.chunk_rows,
                    allow_empty=config.allow_empty,
                    run_id=context.run.run_id,
                )
        except (MissingFxRateError, EmptyDayRefusedError) as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        context.log.info(load.summary())
        loads.append(load)
        failpoint(f"trades_1d.after.{day}")
    totals = LoadTotals.of(loads)
    metadata = {
        # A range run reports once for all its dates: the per-date count only when it is one date.
        **row_counts(_table_rows(clickhouse, "trades_1d"), totals.rows if len(loads) == 1 else None),
        **source_metadata(config, generation.seed, loads),
        "rows_loaded": dg.MetadataValue.int(totals.rows),
        "parent_rows": dg.MetadataValue.int(totals.parent_rows),
        "constituent_rows": dg.MetadataValue.int(totals.constituent_rows),
        "notional": dg.MetadataValue.float(totals.notional),
        "pnl": dg.MetadataValue.float(totals.pnl),
        "notional_usd": dg.MetadataValue.float(totals.notional_usd),
        "pnl_usd": dg.MetadataValue.float(totals.pnl_usd),
        "seconds_generate": dg.MetadataValue.float(round(totals.seconds_generate, 3)),
        "seconds_explode": dg.MetadataValue.float(round(totals.seconds_explode, 3)),
        "seconds_load": dg.MetadataValue.float(round(totals.seconds_load, 3)),
        "trade_dates": totals.trade_dates,
        "trade_dates_all_venues_closed": totals.all_venues_closed,
    }
    if len(loads) == 1 and loads[0].version is not None:
        metadata.update(versions_metadata(clickhouse, loads[0]))
    if len(loads) == 1 and loads[0].all_venues_closed:
        metadata["market"] = ALL_VENUES_CLOSED
    elif len(loads) == 1:
        metadata["by_exposure_type"] = markdown_table(loads[0].by_exposure_type)
        for name, sql in {**SPEC_QUERIES, **USD_VIEWS}.items():
            preview = clickhouse.query_polars(for_date(sql, loads[0].trade_date) + "\nLIMIT 5")
            metadata[f"preview_{name}"] = markdown_table(preview, 5)
    return dg.MaterializeResult(metadata=metadata)


def versions_metadata(clickhouse: ClickHouseResource, load: DayLoad) -> dict:
    """The versions the loaded date holds (pipeline/pivot/versions.py): the live one and those kept."""
    held = DayVersions(clickhouse, load.trade_date, kept=versions_kept()).held()
    return {
        "pivot/version": dg.MetadataValue.int(load.version),
        "pivot/versions": markdown_table(versions_frame(held).fill_null(""), limit=50),
    }


# Metadata keys the sensors read back from a date's latest materialization (pipeline.sensors.trade_sources).
SOURCE_KEY = "pivot/source"
SEED_KEY = "pivot/seed"
TRADES_PER_DAY_KEY = "pivot/trades_per_day"
LANDED_FILES_KEY = "pivot/landed_files"


def source_metadata(config: TradesConfig, seed: int, loads: list[DayLoad]) -> dict:
    """Where the run's trades came from, as the UI shows it per materialization: synthetic with its
    seed and size, or landed with every file (the dates it gave, its rows, its SHA-256)."""
    if config.source != LANDED:
        return {
            SOURCE_KEY: "synthetic",
            SEED_KEY: dg.MetadataValue.int(seed),
            TRADES_PER_DAY_KEY: dg.MetadataValue.int(config.trades_per_day),
        }
    rows = [
        {"file": f.name, "trade_date": str(load.trade_date), "rows": f.rows, "sha256": f.sha256[:12]}
        for load in loads
        for f in load.landed_files
    ]
    files = pl.DataFrame(
        rows, schema={"file": pl.String, "trade_date": pl.String, "rows": pl.Int64, "sha256": pl.String}
    )
    return {SOURCE_KEY: "landed", LANDED_FILES_KEY: markdown_table(files, limit=50)}


@dg.asset(
    **_table("trades_1d_rollup", "rollup"),
    deps=[trades_1d],
    partitions_def=trade_date_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=LOAD_RETRY_POLICY,
)
@refusals_fail_at_once
def trades_1d_rollup(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Daily trade rollup for dashboards: quantity, notional and P&L states (local and USD) and trade
    counts per date, portfolio manager, fund, book, asset class, symbol and exposure type."""
    started = time.perf_counter()
    rows = 0
    for day in partition_days(context):
        rows += clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
    return dg.MaterializeResult(
        metadata={
            **row_counts(
                _table_rows(clickhouse, "trades_1d_rollup"), rows if len(context.partition_keys) == 1 else None
            ),
            "rows_loaded": dg.MetadataValue.int(rows),
            "seconds_rebuild": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
            "trade_dates": len(context.partition_keys),
        }
    )


def _table_rows(clickhouse: ClickHouseResource, table: str) -> int:
    # count() without a filter is answered from the parts' row counts, not a scan.
    return clickhouse.query_rows(f"SELECT count() FROM {clickhouse.table(table)}")[0][0]


defs = dg.Definitions(assets=[instruments, constituents, fx_rates, trades_1d, trades_1d_rollup])
