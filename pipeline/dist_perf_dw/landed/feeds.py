"""The landed feeds of dist_perf_dw: where each lives, its columns, and reading one file into typed rows.

A file is CSV (UTF-8 with or without a BOM, CRLF or LF, quoted fields, `"1,250,000.00"`), CSV.gz, XLSX
(first sheet; typed or text cells) or Parquet, read by `pipeline.landed_files.tables.read_table`.
Header names are compared case-insensitively; columns a feed does not know are ignored (CRM exports
carry many); a missing required column refuses the file. Every value is read exactly or the file is
refused naming each bad line: "line 7 (12,5): amount is not a number: ...". Nothing of a refused file
is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import (
    MAX_SHOWN,
    FolderSettings,
    LandedFileError,
    folder_files,
    listing,
)
from pipeline.landed_files.tables import CSV_SUFFIXES, LINE, PARQUET_SUFFIXES, XLSX_SUFFIXES, TextTable, read_table
from pipeline.landed_files.values import DATE_KIND, iso_date, number, number_problem

FEED_SUFFIXES = (*CSV_SUFFIXES, *XLSX_SUFFIXES, *PARQUET_SUFFIXES)
MAPPINGS_FOLDER = "mappings"
TRANSACTION_CODE_MAPPING = "transaction_codes.csv"

# Value kinds: how a column's text is read.
TEXT, CODE, DATE, AMOUNT, RATE, FLAG = "text", "code", "date", "amount", "rate", "flag"
DIGITS, CUSIP = "digits", "cusip"
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class Feed:
    """One landed feed: its folder under $PIVOT_LANDING_DIR/dist_perf_dw/ and its columns
    (name -> value kind); `optional` columns may be absent or blank."""

    folder: str
    columns: dict[str, str]
    optional: frozenset[str] = frozenset()

    @property
    def required(self) -> list[str]:
        return [c for c in self.columns if c not in self.optional]


FIRMS = Feed(
    "firms",
    {
        "crd_number": DIGITS,
        "firm_name": TEXT,
        "firm_type_code": CODE,
        "region_code": CODE,
        "headquarters_state": CODE,
        "relationship_start_date": DATE,
        "is_active": FLAG,
    },
)
ADVISORS = Feed(
    "advisors",
    {
        "crd_number": DIGITS,
        "advisor_name": TEXT,
        "firm_crd_number": DIGITS,
        "territory_code": CODE,
        "career_start_date": DATE,
        "firm_start_date": DATE,
        "segment": TEXT,
        "is_active": FLAG,
    },
)
PRODUCTS = Feed(
    "products",
    {
        "cusip": CUSIP,
        "ticker": CODE,
        "product_name": TEXT,
        "asset_class_code": CODE,
        "vehicle_type_code": CODE,
        "management_fee_rate": RATE,
        "inception_date": DATE,
        "is_active": FLAG,
    },
    optional=frozenset({"ticker"}),
)
WHOLESALERS = Feed(
    "wholesalers",
    {
        "employee_code": CODE,
        "wholesaler_name": TEXT,
        "territory_code": CODE,
        "team_name": TEXT,
        "hire_date": DATE,
        "annual_base_salary": AMOUNT,
        "incentive_rate": RATE,
        "territory_start_date": DATE,
    },
    optional=frozenset({"territory_start_date"}),
)
FLOWS = Feed(
    "flows",
    {
        "transaction_id": TEXT,
        "trade_date": DATE,
        "transaction_code": CODE,
        "advisor_crd_number": DIGITS,
        "firm_crd_number": DIGITS,
        "cusip": CUSIP,
        "amount": AMOUNT,
        "related_transaction_id": TEXT,
    },
    optional=frozenset({"related_transaction_id"}),
)
POSITIONS = Feed(
    "positions",
    {
        "as_of_date": DATE,
        "advisor_crd_number": DIGITS,
        "firm_crd_number": DIGITS,
        "cusip": CUSIP,
        "market_value": AMOUNT,
    },
)
EXPENSES = Feed(
    "expenses",
    {
        "expense_id": TEXT,
        "expense_date": DATE,
        "employee_code": CODE,
        "expense_type_code": CODE,
        "amount": AMOUNT,
        "firm_crd_number": DIGITS,
    },
    optional=frozenset({"firm_crd_number"}),
)
MASTER_FEEDS = (FIRMS, ADVISORS, PRODUCTS, WHOLESALERS)
FACT_FEEDS = (FLOWS, POSITIONS, EXPENSES)
FEEDS = {feed.folder: feed for feed in (*MASTER_FEEDS, *FACT_FEEDS)}

_SCHEMA = {
    TEXT: pl.String,
    CODE: pl.String,
    DIGITS: pl.String,
    CUSIP: pl.String,
    DATE: pl.Date,
    AMOUNT: pl.Float64,
    RATE: pl.Float64,
    FLAG: pl.Boolean,
}
_WHAT = {
    DATE: f"not {DATE_KIND}",
    FLAG: "not a yes/no value: write true or false (also yes/no, y/n, 1/0)",
    DIGITS: "not a CRD number: write its digits only (e.g. 5000001)",
    CUSIP: "not a CUSIP: nine letters and digits whose last is the check digit (e.g. 037833100)",
}


def feed_schema(feed: Feed) -> dict[str, pl.DataType]:
    return {column: _SCHEMA[kind] for column, kind in feed.columns.items()}


def feed_directory(landing: Path, feed: Feed | str) -> Path:
    return Path(landing) / (feed.folder if isinstance(feed, Feed) else feed)


def feed_files(directory: Path) -> tuple[Path, ...]:
    """The feed files of a folder, by name ([] when the folder does not exist); a file the folder
    holds but no reader would read is refused (named), so nothing is skipped without a word."""
    folder = folder_files(directory, FEED_SUFFIXES)
    unread = folder.unread_problem("Feed files are CSV, CSV.gz, XLSX or Parquet files at the top of the folder.")
    if unread:
        raise LandedFileError(directory, unread)
    return folder.read


def _valid_cusip(text: str) -> bool:
    from pipeline.dist_perf_dw.dimensions.products import cusip_check_digit  # noqa: PLC0415

    return len(text) == 9 and text.isalnum() and cusip_check_digit(text[:8]) == text[8]


def _parsed(column: str, kind: str, settings: FolderSettings) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    if kind == DATE:
        return iso_date(column, pl.String)
    if kind == AMOUNT:
        return number(column, settings.number_format)
    if kind == RATE:
        # 0.65% / 100 is 0.006500000000000001 in binary: rates are exact to 10 places, as written.
        return number(column, settings.number_format, percent=True).round(10)
    if kind == FLAG:
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(list(_TRUE))).then(True).when(lowered.is_in(list(_FALSE))).then(False)
    if kind == DIGITS:
        # Spreadsheets store a CRD as a number: 5000001 (or 5000001.0) is its digits.
        digits = text.str.strip_suffix(".0")
        return pl.when(digits.str.contains(r"^\d{1,10}$")).then(digits.str.strip_chars_start("0"))
    if kind == CUSIP:
        # The check digit is verified on the distinct values (value_problems): a few hundred, not a row each.
        upper = text.str.to_uppercase()
        return pl.when(upper.str.contains(r"^[0-9A-Z]{9}$")).then(upper)
    if kind == CODE:
        return pl.when(text != "").then(text.str.to_uppercase())
    return pl.when(text != "").then(text)


def _value_problem(kind: str, value: str, settings: FolderSettings) -> str:
    if kind in (AMOUNT, RATE):
        return "not a number: " + number_problem(value, settings.number_format, percent=kind == RATE)
    return _WHAT.get(kind, "not readable")


def _native(series: pl.Series | None, kind: str) -> pl.Series | None:
    """A Parquet column already of its kind's type, exactly as parsing its text would read it; None
    where only the text can say (another type, a null, a value the text would refuse or change).
    Float64 only: a Float32's text is its shortest decimal, which as a Float64 is another value."""
    if series is None or series.is_empty() or series.null_count():
        return None
    dtype = series.dtype
    if kind == DATE and dtype == pl.Date:
        return series
    if kind in (AMOUNT, RATE) and dtype == pl.Float64 and series.is_finite().all():
        return series if kind == AMOUNT else series.round(10)
    if kind == DIGITS and dtype.is_integer() and series.min() >= 1 and series.max() < 10**10:
        return series.cast(pl.String)
    return None


def _typed(frame: pl.DataFrame, column: str, kind: str, settings: FolderSettings,
           native: pl.Series | None = None) -> pl.Series:
    """A column parsed by its kind. A Parquet column already of the kind's type (`native`) is taken as
    it is where that gives the very values its text would (`_native`): 1M amounts or CRDs are not
    printed and parsed again. The parse is a function of each value alone, so a column of few
    distinct values (a date, codes, CUSIPs, CRDs) is parsed once per distinct value and mapped back:
    the same values, without a regex and a cast per row."""
    taken = _native(native, kind)
    if taken is not None:
        return taken.alias(column)
    parse = _parsed(column, kind, settings).cast(_SCHEMA[kind]).alias(column)
    source = frame.get_column(column)
    sample = source.head(10_000)
    if sample.n_unique() * 8 > sample.len():  # ids, amounts: parsed row by row, in Rust
        return frame.select(parse).to_series()
    distinct = source.drop_nulls().unique()
    parsed = distinct.to_frame().select(parse).to_series()
    # A null parses to null (every parse is null on null), which `default` gives.
    return source.replace_strict(distinct, parsed, default=None, return_dtype=_SCHEMA[kind])


def _column(frame: pl.DataFrame | None, column: str) -> pl.Series | None:
    return frame.get_column(column) if frame is not None and column in frame.columns else None


def value_problems(table: TextTable, feed: Feed, settings: FolderSettings) -> tuple[pl.DataFrame, list[str]]:
    """The file's rows typed by the feed's columns (LINE kept), and every value that is not what its
    column takes: an empty required value, or a value that does not parse."""
    frame = table.frame
    present = [c for c in feed.columns if c in frame.columns]
    typed = pl.DataFrame([
        frame.get_column(LINE),
        *[_typed(frame, c, feed.columns[c], settings, _column(table.typed, c)) for c in present],
        *[pl.repeat(None, frame.height, dtype=_SCHEMA[feed.columns[c]], eager=True).alias(c)
          for c in feed.columns if c not in present],
    ])
    for column in present:
        if feed.columns[column] == CUSIP:
            valid = [c for c in typed[column].drop_nulls().unique().to_list() if _valid_cusip(c)]
            typed = typed.with_columns(pl.when(pl.col(column).is_in(valid)).then(pl.col(column)).alias(column))
    problems = []
    for column in present:
        if typed[column].null_count() == 0:
            continue  # every value parsed, and a blank one never parses: nothing to report
        raw = frame[column].str.strip_chars()
        empty = raw.is_null() | (raw == "")
        bad = frame.select(LINE, column).with_columns(
            __empty=empty, __bad=typed[column].is_null() & ~empty
        ).filter(pl.col("__bad") | (pl.col("__empty") & (column not in feed.optional)))
        if bad.is_empty():
            continue
        shown = [
            f"{table.where(line)} ({value!r})" if not is_empty else table.where(line)
            for line, value, is_empty in bad.select(LINE, column, "__empty").head(MAX_SHOWN).rows()
        ]
        more = f" (+{bad.height - MAX_SHOWN} more)" if bad.height > MAX_SHOWN else ""
        empties = bad["__empty"].all()
        what = "is empty: every row needs one" if empties else _value_problem(
            feed.columns[column], bad.filter(~pl.col("__empty"))[column][0], settings
        )
        problems.append(f"{', '.join(shown)}{more}: {column} {what}")
    return typed, problems


def read_feed_file(path: Path, feed: Feed, settings: FolderSettings | None = None) -> tuple[TextTable, pl.DataFrame]:
    """One feed file as typed rows (the feed's columns plus LINE), or LandedFileError naming every problem."""
    settings = settings or FolderSettings()
    table = read_table(path, settings, lower_case=True)
    missing = [c for c in feed.required if c not in table.columns]
    if missing:
        raise LandedFileError(
            path,
            f"missing required column(s) {listing(missing)}: a {feed.folder} file has the columns "
            f"{', '.join(feed.columns)} (optional: {', '.join(sorted(feed.optional)) or 'none'}), any case",
        )
    typed, problems = value_problems(table, feed, settings)
    if problems:
        raise LandedFileError(path, problems)
    return table, typed


def problems_at(table: TextTable, frame: pl.DataFrame, column: str, what: str) -> str:
    """'line 3 (X), line 9 (Y): <what>' for the rows of `frame` (with LINE and `column`)."""
    shown = [f"{table.where(line)} ({value!r})" for line, value in frame.select(LINE, column).head(MAX_SHOWN).rows()]
    more = f" (+{frame.height - MAX_SHOWN} more)" if frame.height > MAX_SHOWN else ""
    return f"{', '.join(shown)}{more}: {what}"


def duplicates(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Rows whose `keys` repeat, grouped: keys, lines."""
    return (
        frame.group_by(keys, maintain_order=True)
        .agg(pl.col(LINE).sort())
        .filter(pl.col(LINE).list.len() > 1)
    )
