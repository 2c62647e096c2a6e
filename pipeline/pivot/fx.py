"""The reporting currency: daily FX rates to USD, landed overrides, and the rule converting a day's rows.

Pure: no Dagster, no database. `rate_to_usd` is USD per one unit of the currency. The
synthetic rates are a smooth, deterministic series per currency around a realistic level, a
pure function of (seed, date) with no end date; USD is exactly 1.0. A file landed in
$PIVOT_LANDING_DIR/fx/ overrides them for the (date, currency) pairs it lists. The engine
converts a day's rows while it writes them, by the rule `DayRates.usd_expressions` states.

Landed file format (CSV with a header row, or Parquet), any number of dates and currencies:

    rate_date,currency,rate_to_usd
    2024-01-16,HKD,0.12795
    2024-01-16,JPY,0.00678

Rules: these three columns (any order), and optionally `confirmed`; ISO dates; an ISO 4217 currency code (the
synthetic series cover FX_CURRENCIES; a file may add any other, e.g. AUD for instruments a master
file lists in AUD); rate_to_usd a positive finite number; USD, if listed, exactly 1; one row per
(rate_date, currency) in a file. Across files, landing order (modification time, then name):
a later file giving a different rate for a pair an earlier file already gives is rejected
(to correct a rate, replace the file that gives it, under the same name). Every error names
the file and the line (for Parquet, the row).

Plausibility: a landed rate more than 25 % (PLAUSIBLE_MOVE) away from the same currency's previous
rate (the previous landed date's, else the synthetic rate of the day before; a currency the synthetic
series do not cover has nothing to compare its first rate with) is refused as "looks inverted or
mis-scaled": a rate quoted the other way round (JPY 147.5 for 0.0068) would multiply every USD value
of that currency's trades by 20,000. A rate that really moved that far is loaded when the file says
so: `confirmed` true (true/yes/1) on its line, or `confirmed = true` in the folder's `_format.toml`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pycountry

from pipeline.landed_files.folders import LandedFileError, folder_settings, ready_folder
from pipeline.landed_files.tables import LINE, read_table
from pipeline.landed_files.values import iso_date, number, number_problem
from pipeline.pivot.instruments import stable_hash
from pipeline.pivot.landing import MAX_LANDING_FILE_BYTES, ValidatedFile, file_digest
from pipeline.pivot.universe_lists import CURRENCIES
from pipeline.settings import DEFAULT_SEED

REPORTING_CURRENCY = "USD"
FX_CURRENCIES = CURRENCIES
FX_COLUMNS = ["rate_date", "currency", "rate_to_usd"]
FX_SCHEMA = {"rate_date": pl.Date, "currency": pl.String, "rate_to_usd": pl.Float64}
FX_LANDING_SUBDIR = "fx"
FX_FILE_SUFFIXES = (".csv", ".parquet")
CONFIRMED_COLUMN = "confirmed"
_CONFIRMED_VALUES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}
# How far (relative) a landed rate may lie from the currency's previous rate without `confirmed`.
PLAUSIBLE_MOVE = 0.25
SETTINGS_FILE = "_format.toml"

# USD per unit around early 2024, and how far (in log terms) each rate wanders. HKD is pegged
# (7.75-7.85 HKD per USD), so it barely moves.
FX_LEVELS = {"CAD": 0.74, "CHF": 1.16, "EUR": 1.09, "GBP": 1.27, "HKD": 0.1280, "JPY": 0.0068, "USD": 1.0}
FX_SWING = {"CAD": 0.05, "CHF": 0.06, "EUR": 0.06, "GBP": 0.06, "HKD": 0.002, "JPY": 0.09, "USD": 0.0}
# Periods (days) of the smooth components: a slow cycle, a quarterly one and a monthly wobble.
_PERIODS = (1461.0, 365.25, 91.3, 29.5)
_SHARES = (0.55, 0.25, 0.13, 0.07)
_EPOCH = date(2000, 1, 1)


def is_iso_currency(code: str | None) -> bool:
    """An active ISO 4217 alphabetic code, as written (upper case): the codes a rate can be given for."""
    return bool(code) and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def iso_currency_problem(code: str | None) -> str:
    """Why `code` is not an ISO 4217 currency code, with the fix when there is an obvious one."""
    if code and code.strip().upper() != code and is_iso_currency(code.strip().upper()):
        return f"currency {code!r} is not an ISO 4217 code as written: write {code.strip().upper()!r}"
    return f"currency {code!r} is not an ISO 4217 currency code (three capital letters, e.g. USD, EUR, AUD)"


class MissingFxRateError(RuntimeError):
    """Trades of a date need a rate that pivot.fx_rates does not hold."""


class InvalidFxFileError(ValueError):
    """A landed FX file breaks the format; the message names every file and line at fault."""


def synthetic_rate(seed: int, currency: str, days: np.ndarray) -> np.ndarray:
    """rate_to_usd of `currency` on each day (days since 2000-01-01): a sum of sines with phases
    drawn from (seed, currency), so it is smooth, bounded and defined on any date."""
    if currency == REPORTING_CURRENCY:
        return np.ones(len(days))
    phases = np.random.default_rng([seed, stable_hash("fx:" + currency)]).uniform(0, 2 * np.pi, size=len(_PERIODS))
    wave = sum(
        share * np.sin(2 * np.pi * days / period + phase) for share, period, phase in zip(_SHARES, _PERIODS, phases)
    )
    level = FX_LEVELS.get(currency, 1.0)
    return level * np.exp(FX_SWING.get(currency, 0.05) * wave)


def synthetic_rates(seed: int, start: date, end: date, currencies: list[str] = FX_CURRENCIES) -> pl.DataFrame:
    """Every currency's synthetic rate on every date of [start, end]."""
    dates = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    days = np.array([(d - _EPOCH).days for d in dates], dtype=np.float64)
    frames = [
        pl.DataFrame(
            {"rate_date": dates, "currency": currency, "rate_to_usd": synthetic_rate(seed, currency, days)},
            schema=FX_SCHEMA,
        )
        for currency in currencies
    ]
    return pl.concat(frames).sort("rate_date", "currency")


# -- landed files --------------------------------------------------------------------------


def fx_landing_dir(landing_root: Path) -> Path:
    return landing_root / FX_LANDING_SUBDIR


def landed_fx_files(directory: Path) -> list[Path]:
    """The candidate files in landing order: oldest first (modification time, then name)."""
    if not directory.is_dir():
        return []
    files = [p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in FX_FILE_SUFFIXES]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


@dataclass
class FxFileResult(ValidatedFile):
    """An FX file; `frame` has FX_SCHEMA."""

    def dates(self) -> list[date]:
        return [] if self.frame is None else sorted(set(self.frame["rate_date"].to_list()))

    def describe(self) -> str:
        days = self.dates()
        return f"{self.frame.height} rates ({f'{days[0]}..{days[-1]}' if days else 'no dates'})"

    def summary(self, prefix: str = "fx/") -> str:
        return super().summary(prefix)


def _read_raw(path: Path, errors: list[str]) -> tuple[pl.DataFrame | None, str]:
    """The file as strings with each row's "line", and what its rows are called in messages
    ("line" for CSV, "row" for Parquet and workbooks); None with the reason in `errors`."""
    try:
        table = read_table(path, folder_settings(path.parent))
    except LandedFileError as error:
        errors.extend(error.problems)
        return None, "line"
    unit = table.where(0).split()[0]
    return table.frame.rename({LINE: "line"}).with_columns(pl.col("line").cast(pl.Int64)), unit


def validate_fx_file(path: Path) -> FxFileResult:
    """Check one landed FX file against the format (module docstring)."""
    result = FxFileResult(path=path, digest=file_digest(path))
    errors = result.errors
    size = path.stat().st_size
    if size > MAX_LANDING_FILE_BYTES:
        errors.append(f"the file is {size:,} bytes, over the {MAX_LANDING_FILE_BYTES:,}-byte limit; it was not read")
        return result
    if size == 0:
        errors.append(f"the file is empty (0 bytes): write the header row {','.join(FX_COLUMNS)} and one row per rate")
        return result
    raw, unit = _read_raw(path, errors)
    if raw is None:
        return result
    columns = [c for c in raw.columns if c != "line"]
    if sorted(c for c in columns if c != CONFIRMED_COLUMN) != sorted(FX_COLUMNS):
        missing = [c for c in FX_COLUMNS if c not in columns]
        extra = [c for c in columns if c not in (*FX_COLUMNS, CONFIRMED_COLUMN)]
        errors.append(
            f"wrong columns {columns}: expected exactly {FX_COLUMNS} (and optionally {CONFIRMED_COLUMN!r})"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra}" if extra else "")
        )
        return result
    if raw.is_empty():
        errors.append("the file has a header but no rows")
        return result
    if CONFIRMED_COLUMN not in raw.columns:
        raw = raw.with_columns(pl.lit(None, pl.String).alias(CONFIRMED_COLUMN))
    parsed = raw.with_columns(pl.col(FX_COLUMNS).str.strip_chars()).with_columns(
        iso_date("rate_date", pl.String).alias("date_value"),
        number("rate_to_usd", folder_settings(path.parent).number_format).alias("rate_value"),
        pl.when(pl.col(CONFIRMED_COLUMN).is_null())
        .then(False)
        .otherwise(
            pl.col(CONFIRMED_COLUMN)
            .str.strip_chars()
            .str.to_lowercase()
            .replace_strict(_CONFIRMED_VALUES, default=None, return_dtype=pl.Boolean)
        )
        .alias("confirmed_value"),
    )
    for line, rate_date, currency, rate_text, day, rate, confirmed_text, confirmed in parsed.select(
        "line", "rate_date", "currency", "rate_to_usd", "date_value", "rate_value", CONFIRMED_COLUMN, "confirmed_value"
    ).iter_rows():
        where = f"{unit} {line}"
        if confirmed is None:
            errors.append(
                f"{where}: confirmed is true, yes or 1, or false, no, 0 or empty (confirmed={confirmed_text!r})"
            )
        if day is None:
            errors.append(f"{where}: rate_date is not an ISO date (YYYY-MM-DD) (rate_date={rate_date!r})")
        if not is_iso_currency(currency):
            errors.append(f"{where}: {iso_currency_problem(currency)}")
        if rate is None and rate_text:
            number_format = folder_settings(path.parent).number_format
            errors.append(
                f"{where}: rate_to_usd must be a positive finite number (rate_to_usd={rate_text!r}): "
                + number_problem(rate_text, number_format)
            )
        elif rate is None or not math.isfinite(rate) or rate <= 0:
            errors.append(f"{where}: rate_to_usd must be a positive finite number (rate_to_usd={rate_text!r})")
        elif currency == REPORTING_CURRENCY and rate != 1.0:
            errors.append(f"{where}: USD is the reporting currency, its rate_to_usd is 1 (rate_to_usd={rate_text!r})")
    duplicates = (
        parsed.filter(pl.col("date_value").is_not_null())
        .filter(pl.len().over("date_value", "currency") > 1)
        .group_by("date_value", "currency")
        .agg(pl.col("line"))
        .sort("date_value", "currency")
    )
    for day, currency, lines in duplicates.iter_rows():
        errors.append(f"{unit}s {lines}: {currency} on {day} is given more than once: keep one row")
    if not errors:
        # `line` and `confirmed` stay beside the rates for the plausibility check (validate_fx_files).
        result.frame = parsed.select(
            pl.col("date_value").alias("rate_date"),
            "currency",
            pl.col("rate_value").alias("rate_to_usd"),
            pl.col("line").cast(pl.Int64),
            pl.col("confirmed_value").alias(CONFIRMED_COLUMN),
        ).cast(FX_SCHEMA)
    return result


def folder_confirms_every_rate(directory: Path) -> bool:
    """`confirmed = true` in the folder's `_format.toml` (pipeline.landed_files.folders): every rate in
    it is meant as it is."""
    try:
        return folder_settings(directory).confirmed
    except LandedFileError as error:
        raise InvalidFxFileError(f"fx/{error.summary()}") from error


def _implausible_rates(results: list[FxFileResult], seed: int) -> None:
    """Add to each valid file's errors its rates more than PLAUSIBLE_MOVE away from the currency's
    previous rate (module docstring), unless confirmed on their line. The previous rate is the last
    one accepted, so every line of a file quoted upside down is named, not only its first."""
    valid = [r for r in results if r.is_valid and r.frame is not None]
    if not valid:
        return
    rows = pl.concat(
        [r.frame.with_columns(pl.lit(i).alias("file")) for i, r in enumerate(valid)], how="vertical_relaxed"
    )
    rows = rows.unique(["rate_date", "currency"], keep="first", maintain_order=True).sort("currency", "rate_date")
    problems: dict[int, list[str]] = {}
    previous: tuple[str, float, str] | None = None  # (currency, rate, where it comes from)
    for day, currency, rate, line, confirmed, file in rows.iter_rows():
        if previous is None or previous[0] != currency:
            previous = None
            if currency in FX_CURRENCIES and currency != REPORTING_CURRENCY:
                before = day - timedelta(days=1)
                synthetic = float(synthetic_rate(seed, currency, np.array([float((before - _EPOCH).days)]))[0])
                previous = (currency, synthetic, f"the synthetic rate of {before}")
        if previous is not None and abs(rate / previous[1] - 1) > PLAUSIBLE_MOVE and not confirmed:
            problems.setdefault(file, []).append(
                f"line {line}: {currency} on {day}: rate_to_usd {rate:g} is {abs(rate / previous[1] - 1):,.0%} away "
                f"from {previous[2]}, {previous[1]:.6g}: looks inverted or mis-scaled: rates are USD per one unit "
                f"(1 {currency} = {previous[1]:.6g} USD). If the rate is meant, say so: a column confirmed "
                f"with true on this line, or confirmed = true in fx/{SETTINGS_FILE}"
            )
            continue
        previous = (currency, rate, f"the rate of {day} (fx/{valid[file].path.name} line {line})")
    for file, errors in problems.items():
        valid[file].errors.extend(errors)
        valid[file].frame = None


def validate_fx_files(directory: Path, seed: int = DEFAULT_SEED) -> list[FxFileResult]:
    """Every landed FX file's result, in landing order; a later file that changes a rate an earlier
    valid file gives is rejected (two versions of one rate are ambiguous), and so is a file with a rate
    that moved implausibly far (module docstring) without saying it is meant. `seed` gives the
    synthetic rates a currency's first landed rate is compared with."""
    results = [validate_fx_file(path) for path in landed_fx_files(directory)]
    given: dict[tuple[date, str], tuple[float, str]] = {}
    for result in results:
        if not result.is_valid:
            continue
        conflicts = [
            f"{currency} on {day} is already given as {given[(day, currency)][0]} by {given[(day, currency)][1]}, "
            f"here {rate}: replace {given[(day, currency)][1]} (same name) to correct it, or remove one of the two"
            for day, currency, rate in result.frame.select(FX_COLUMNS).iter_rows()
            if (day, currency) in given and given[(day, currency)][0] != rate
        ]
        if conflicts:
            result.errors.extend(conflicts)
            result.frame = None
            continue
        for day, currency, rate in result.frame.select(FX_COLUMNS).iter_rows():
            given.setdefault((day, currency), (rate, result.path.name))
    if not folder_confirms_every_rate(directory):
        _implausible_rates(results, seed)
    return results


def build_fx_rates(
    seed: int, start: date, end: date, landing_root: Path, settle_seconds: float = 0.0
) -> tuple[pl.DataFrame, list[FxFileResult]]:
    """The `pivot.fx_rates` rows: synthetic rates for [start, end], overridden (or extended) by every
    landed file, plus each file's result. Any invalid file raises InvalidFxFileError: a rejected
    override would silently leave wrong rates in place, so nothing is applied; so does a file in fx/
    that would not be read, or that changed within `settle_seconds`."""
    folder = fx_landing_dir(landing_root)
    try:
        ready_folder(folder, FX_FILE_SUFFIXES, "FX files are CSV or Parquet.", settle_seconds)
    except LandedFileError as error:
        inside = "" if error.path == folder else f"{FX_LANDING_SUBDIR}/"
        raise InvalidFxFileError(inside + error.summary()) from error
    results = validate_fx_files(fx_landing_dir(landing_root), seed)
    invalid = [r for r in results if not r.is_valid]
    if invalid:
        raise InvalidFxFileError("\n".join(r.summary() for r in invalid))
    rates = synthetic_rates(seed, start, end)
    landed = [r.frame.select(FX_COLUMNS) for r in results if r.frame is not None and r.frame.height]
    if landed:
        overrides = pl.concat(landed).unique(["rate_date", "currency"], keep="first", maintain_order=True)
        rates = pl.concat([rates.join(overrides, on=["rate_date", "currency"], how="anti"), overrides])
    return rates.sort("rate_date", "currency"), results


# -- converting a day's rows -----------------------------------------------------------------

# Each USD column and the local-currency amount it converts.
USD_AMOUNTS = {"notional_usd": "notional", "pnl_usd": "pnl"}


@dataclass(frozen=True)
class DayRates:
    """One trade date's rate per currency (the currencies pivot.fx_rates holds on that date)."""

    trade_date: date
    currencies: list[str]
    rates: list[float]

    @classmethod
    def of(cls, fx_rates: pl.DataFrame, trade_date: date) -> DayRates:
        day = fx_rates.filter(pl.col("rate_date") == trade_date)
        return cls(trade_date, day["currency"].cast(pl.String).to_list(), day["rate_to_usd"].to_list())

    def missing(self, currencies: list[str]) -> list[str]:
        known = set(self.currencies)
        return sorted(c for c in currencies if c not in known)

    def error(self, missing: list[str]) -> MissingFxRateError:
        return MissingFxRateError(
            f"no FX rate to USD for {', '.join(missing)} on {self.trade_date}: trades of that date are in "
            f"{'that currency' if len(missing) == 1 else 'those currencies'}. Materialize pivot/fx_rates "
            "(its synthetic rates cover every date to the horizon) or land the rates in $PIVOT_LANDING_DIR/fx/; "
            "the loaded day was left as it was."
        )

    def usd_expressions(self) -> dict[str, str]:
        """Each USD column as the ClickHouse expression the engine computes while it writes the day:
        the row's amount times the rate of the row's own currency on the date (USD rows exactly
        equal). The rates are literals of their shortest round-trip form, which the engine parses
        to the same double. A currency without a rate gives NaN here; the load refuses it by name
        before the day is swapped in (`missing`), never a silent 0 or 1.

        In the engine rather than in Polars: the conversion then runs on the dictionary of the
        LowCardinality currency inside the insert's own threads, not in the producer thread that
        generates and explodes: +3-4 % on a 1M-trade day load instead of +11-13 %
        (`python -m benchmarks.run --only fx`)."""
        for currency, rate in zip(self.currencies, self.rates):
            if not (math.isfinite(rate) and rate > 0) or not currency.isalnum():
                raise ValueError(f"unusable FX rate {currency!r}={rate!r} on {self.trade_date}")
        if self.currencies:
            names = ", ".join(f"'{currency}'" for currency in self.currencies)
            values = ", ".join(repr(float(rate)) for rate in self.rates)
            rate = f"transform(currency, [{names}], [{values}], nan)"
        else:
            rate = "nan"
        return {usd: f"{amount} * {rate}" for usd, amount in USD_AMOUNTS.items()}
