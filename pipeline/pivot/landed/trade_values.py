"""The values of a landed trade file: one parsing expression per column (null where a present value
does not parse), the checks every row must pass, and the parsed rows with their defaults filled."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

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


def _number_text(column: str) -> pl.Expr:
    # "1,234.50" as a spreadsheet quotes it: thousands separators go, the decimal point stays.
    return pl.col(column).str.strip_chars().str.replace_all(",", "", literal=True)


def parsed_value(column: str, source_dtype: pl.DataType) -> pl.Expr:
    target = LANDED_TRADE_SCHEMA[column]
    is_text = source_dtype == pl.String
    if column == "trade_date":
        if is_text:
            return pl.col(column).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        if isinstance(source_dtype, pl.Datetime):
            return pl.col(column).dt.date()
        return pl.col(column).cast(pl.Date, strict=False)
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
            return _number_text(column).cast(target, strict=False)
        if source_dtype.is_float():
            whole = pl.col(column).is_finite() & (pl.col(column) == pl.col(column).floor())
            return pl.when(whole).then(pl.col(column).cast(target, strict=False))
        return pl.col(column).cast(target, strict=False)
    if target.is_float():
        if is_text:
            return _number_text(column).cast(pl.Float64, strict=False)
        return pl.col(column).cast(pl.Float64, strict=False)
    if isinstance(target, pl.Enum):
        text = pl.col(column).cast(pl.String).str.strip_chars()
        return pl.when(text.is_in(target.categories.to_list())).then(text).cast(target)
    return pl.col(column).cast(pl.String).str.strip_chars()


VALUE_KINDS = {
    "trade_date": "an ISO date (YYYY-MM-DD)",
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
    column: str
    flag: pl.Expr
    what: str


def _checks(source: TradeSource) -> list[ValueCheck]:
    checks = []
    for column, source_dtype in source.schema.items():
        if column not in LANDED_TRADE_SCHEMA:
            continue
        blank = is_blank_value(column, source_dtype)
        parsed = parsed_value(column, source_dtype)
        required_value = column in REQUIRED_TRADE_COLUMNS and (
            column in NON_EMPTY_COLUMNS or not _is_text(LANDED_TRADE_SCHEMA[column])
        )
        if required_value:
            checks.append(ValueCheck(column, blank, f"{column} is empty: every trade needs one"))
        checks.append(ValueCheck(column, ~blank & parsed.is_null(), f"{column} is not {_kind(column)}"))
        if LANDED_TRADE_SCHEMA[column].is_float():
            checks.append(
                ValueCheck(column, ~blank & parsed.is_not_null() & ~parsed.is_finite(), f"{column} is not finite")
            )
    if "price" in source.schema:
        price = parsed_value("price", source.schema["price"])
        checks.append(
            ValueCheck(
                "price", price.is_finite() & (price <= 0), "price must be positive (the execution price per unit)"
            )
        )
    return checks


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
        problems.append(f"{where}{more}: {check.what}")
    return problems


def parse_frame(source: TradeSource, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The file's rows in LANDED_TRADE_SCHEMA (after the checks passed), defaults filled, `ROW_INDEX` kept."""
    present = [c for c in BASE_TRADE_COLUMNS if c in source.schema]
    frame = frame.with_columns([parsed_value(c, source.schema[c]).alias(c) for c in present])
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
