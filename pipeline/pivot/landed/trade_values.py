"""The values of a landed trade file: one parsing expression per column (null where a present value
does not parse), the checks every row must pass, and the parsed rows with their defaults filled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipeline.landed_files.values import (
    DATE_KIND,
    POINT,
    NumberFormat,
    iso_date,
    number,
    number_problem,
    whole_number,
)
from pipeline.pivot.landed.trade_files import (
    BASE_TRADE_COLUMNS,
    CLASSIFICATION_DEFAULTS,
    LANDED_TRADE_SCHEMA,
    MEASURE_DEFAULTS,
    NON_EMPTY_COLUMNS,
    REQUIRED_TRADE_COLUMNS,
    ROW_INDEX,
    TradeSource,
)

_ROW_LIMIT_FOR_EXAMPLES = 1_000
_TS_FORMATS_WITH_ZONE = ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z"]
_TS_FORMATS_NAIVE = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]


def is_blank_value(column: str, source_dtype: pl.DataType) -> pl.Expr:
    if source_dtype == pl.String:
        return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")
    return pl.col(column).is_null()


def parsed_value(column: str, source_dtype: pl.DataType, number_format: NumberFormat = POINT) -> pl.Expr:
    """The column in the fact's type, null where a present value is not exactly one (the grammar of
    pipeline.landed_files.values: numbers in the folder's format, ISO or yyyymmdd dates)."""
    target = LANDED_TRADE_SCHEMA[column]
    is_text = source_dtype == pl.String
    if column == "trade_date":
        return iso_date(column, source_dtype)
    if column == "ts":
        if is_text:
            text = pl.col(column).str.strip_chars().str.replace("T", " ", literal=True)
            return pl.coalesce(
                *[
                    text.str.to_datetime(f, time_unit="ms", time_zone="UTC", strict=False)
                    for f in _TS_FORMATS_WITH_ZONE
                ],
                *[
                    text.str.to_datetime(f, time_unit="ms", strict=False).dt.replace_time_zone("UTC")
                    for f in _TS_FORMATS_NAIVE
                ],
            )
        if isinstance(source_dtype, pl.Datetime):
            zoned = (
                pl.col(column).dt.replace_time_zone("UTC")
                if source_dtype.time_zone is None
                else pl.col(column).dt.convert_time_zone("UTC")
            )
            return zoned.dt.cast_time_unit("ms")
        return pl.lit(None, dtype=target)
    if target.is_integer():
        if is_text:
            return whole_number(column, target, number_format)
        if source_dtype.is_float():
            whole = pl.col(column).is_finite() & (pl.col(column) == pl.col(column).floor())
            return pl.when(whole).then(pl.col(column).cast(target, strict=False))
        return pl.col(column).cast(target, strict=False)
    if target.is_float():
        if is_text:
            return number(column, number_format)
        if source_dtype.is_numeric():
            return pl.col(column).cast(pl.Float64, strict=False)
        return pl.lit(None, dtype=pl.Float64)
    if isinstance(target, pl.Enum):
        text = pl.col(column).cast(pl.String).str.strip_chars()
        return pl.when(text.is_in(target.categories.to_list())).then(text).cast(target)
    return pl.col(column).cast(pl.String).str.strip_chars()


def parsed(source: TradeSource, column: str) -> pl.Expr:
    """A column of `source` parsed into the fact's type, in its folder's number format."""
    return parsed_value(column, source.schema[column], source.settings.number_format)


VALUE_KINDS = {
    "trade_date": DATE_KIND,
    "ts": "a timestamp (YYYY-MM-DD HH:MM:SS.fff, optionally with a zone such as Z or +02:00; no zone means UTC)",
}


def _kind(column: str) -> str:
    target = LANDED_TRADE_SCHEMA[column]
    if column in VALUE_KINDS:
        return VALUE_KINDS[column]
    if target.is_integer():
        return "a whole number >= 0 (an id)"
    if target.is_float():
        return "a number (digits, an optional decimal point; 1,234.50 is accepted)"
    if isinstance(target, pl.Enum):
        return f"one of {', '.join(target.categories.to_list())}"
    return "text"


@dataclass(frozen=True)
class ValueCheck:
    """A rule every row must pass: the rows that fail it (`flag`), and what to say, once, with the
    first failing value (a text, or a function of that value)."""

    column: str
    flag: pl.Expr
    what: str | Callable[[object], str]

    def message(self, first_value) -> str:
        return self.what(first_value) if callable(self.what) else self.what


# A `notional` column given beside quantity and price must agree with their product to this relative
# difference (sign included): a notional in another unit or scale is a file to fix, not to load.
NOTIONAL_TOLERANCE = 1e-6


def _not_a_value(column: str, source: TradeSource) -> str | Callable[[object], str]:
    if LANDED_TRADE_SCHEMA[column].is_float() and source.schema[column] == pl.String:
        number_format = source.settings.number_format
        return lambda value: f"{column} is {number_problem(str(value), number_format)}"
    return f"{column} is not {_kind(column)}"


def _column_checks(source: TradeSource, column: str) -> list[ValueCheck]:
    source_dtype = source.schema[column]
    blank = is_blank_value(column, source_dtype)
    value = parsed(source, column)
    checks = []
    required_value = column in REQUIRED_TRADE_COLUMNS and (
        column in NON_EMPTY_COLUMNS or not _is_text(LANDED_TRADE_SCHEMA[column])
    )
    if required_value:
        checks.append(ValueCheck(column, blank, f"{column} is empty: every trade needs one"))
    checks.append(ValueCheck(column, ~blank & value.is_null(), _not_a_value(column, source)))
    if LANDED_TRADE_SCHEMA[column].is_float():
        checks.append(
            ValueCheck(column, ~blank & value.is_not_null() & ~value.is_finite(), f"{column} is not finite")
        )
    return checks


def _trade_checks(source: TradeSource) -> list[ValueCheck]:
    """The rules across columns: a real trade's quantity, price, notional and time."""
    columns = source.schema
    checks = []
    if "price" in columns:
        price = parsed(source, "price")
        checks.append(
            ValueCheck(
                "price", price.is_finite() & (price <= 0), "price must be positive (the execution price per unit)"
            )
        )
    if "quantity" in columns:
        checks.append(
            ValueCheck(
                "quantity",
                parsed(source, "quantity") == 0,
                "quantity is 0: a trade moves a non-zero quantity (buys positive, sells negative); drop the row",
            )
        )
    if "quantity" in columns and "price" in columns:
        quantity, price = parsed(source, "quantity"), parsed(source, "price")
        product = quantity * price
        checks.append(
            ValueCheck(
                "quantity",
                quantity.is_finite() & price.is_finite() & ~product.is_finite(),
                "quantity × price is not a finite number: the quantity or the price is off by orders of magnitude",
            )
        )
        if "notional" in columns:
            notional = parsed(source, "notional")
            disagrees = (notional - product).abs() > NOTIONAL_TOLERANCE * product.abs()
            checks.append(
                ValueCheck(
                    "notional",
                    notional.is_finite() & product.is_finite() & disagrees,
                    "notional disagrees with quantity × price (sign included, beyond a relative 1e-6): give the "
                    "notional in the trade's currency as quantity × price, or leave the column empty",
                )
            )
    if "ts" in columns and "trade_date" in columns:
        days_apart = (parsed(source, "ts").dt.date() - parsed(source, "trade_date")).dt.total_days().abs()
        checks.append(
            ValueCheck(
                "ts",
                days_apart > 1,
                "ts is more than a day away from the row's trade_date: check the date or the time (and its zone)",
            )
        )
    return checks


def _checks(source: TradeSource) -> list[ValueCheck]:
    checks = []
    for column in source.schema:
        if column in LANDED_TRADE_SCHEMA:
            checks += _column_checks(source, column)
    return checks + _trade_checks(source)


def _is_text(dtype: pl.DataType) -> bool:
    """A free-text column of the fact (String, or an open vocabulary: Categorical)."""
    return dtype == pl.String or dtype == pl.Categorical


def value_text(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def row_problems(source: TradeSource, frame: pl.LazyFrame) -> list[str]:
    """Every failed check, once, with its row count and the first rows where it fails."""
    checks = _checks(source)
    if not checks:
        return []
    flags = [check.flag.fill_null(False).alias(f"__check_{i}") for i, check in enumerate(checks)]
    counts = frame.select([f.sum() for f in flags]).collect().row(0)
    if not any(counts):
        return []
    failing = [i for i, count in enumerate(counts) if count]
    examples = (
        frame.with_columns([flags[i] for i in failing])
        .filter(pl.any_horizontal([pl.col(f"__check_{i}") for i in failing]))
        .head(_ROW_LIMIT_FOR_EXAMPLES)
        .collect()
    )
    problems = []
    for i in failing:
        check = checks[i]
        rows = examples.filter(pl.col(f"__check_{i}")).head(3).select(ROW_INDEX, check.column).rows()
        where = ", ".join(f"{source.where(row)} ({value_text(value)})" for row, value in rows)
        more = f" and {counts[i] - len(rows):,} more row(s)" if counts[i] > len(rows) else ""
        problems.append(f"{where}{more}: {check.message(rows[0][1])}")
    return problems


def parse_frame(source: TradeSource, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The file's rows in LANDED_TRADE_SCHEMA (after the checks passed), defaults filled, `ROW_INDEX` kept."""
    present = [c for c in BASE_TRADE_COLUMNS if c in source.schema]
    frame = frame.with_columns([parsed(source, c).alias(c) for c in present])
    quantity_times_price = pl.col("quantity") * pl.col("price")
    notional = pl.col("notional").fill_null(quantity_times_price) if "notional" in present else quantity_times_price
    frame = frame.with_columns(notional.alias("notional"))
    exposure = pl.col("exposure").fill_null(pl.col("notional")) if "exposure" in present else pl.col("notional")
    defaults = [exposure.alias("exposure")]
    for column, value in {**MEASURE_DEFAULTS, **CLASSIFICATION_DEFAULTS}.items():
        defaults.append(pl.col(column).fill_null(value) if column in present else pl.lit(value).alias(column))
    # The columns that may be empty are empty strings in the fact, never nulls.
    defaults.append(pl.col("country", "venue", "counterparty").fill_null(""))
    frame = frame.with_columns(defaults)
    return frame.select(ROW_INDEX, *[pl.col(c).cast(t) for c, t in LANDED_TRADE_SCHEMA.items()])
