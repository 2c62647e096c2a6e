"""Landed ETF/ETC composition files: validation, and merging them into the constituent map.

Pure: no Dagster, no database. The reference-data sensor validates each new
file with `validate_landing_file`; the `pivot/constituents` asset calls
`merge_landed_files` to apply every valid file as a new effective period. Both
use the same rules, so a file the sensor accepted is exactly a file the asset
applies, and a file it rejected changes nothing.

File format (CSV with a header row, one file per rebalance, any number of parents):

    parent_symbol,constituent_symbol,weight,shares_per_unit,effective_date
    PMET,GOLD,0.6,0.03,2024-02-01
    PMET,SILVER,0.4,1.7,2024-02-01

Rules: exactly these five columns; the parent is a composite instrument (ETF,
ETC, Index) and every constituent a known instrument; weights in (0, 1] that
sum to 1 per (parent, effective_date); shares_per_unit > 0; ISO dates on or
after the first partition; no constituent listed twice for one parent and date;
UTF-8, not empty, at most MAX_LANDING_FILE_BYTES (checked from the file's size
before a byte is read). Across files: a (parent, effective_date) period may be
landed once; a second file defining it with different contents is rejected (to
correct a period, replace the file that defines it, under the same name).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import LandedFileError, folder_settings
from pipeline.landed_files.tables import LINE, read_table
from pipeline.landed_files.values import iso_date, number, number_problem
from pipeline.pivot.constituents import MAP_OPEN_ENDED_EXPIRY
from pipeline.settings import FIRST_TRADE_DATE

LANDING_COLUMNS = ["parent_symbol", "constituent_symbol", "weight", "shares_per_unit", "effective_date"]
WEIGHT_SUM_TOLERANCE = 1e-6
FIRST_EFFECTIVE_DATE = date.fromisoformat(FIRST_TRADE_DATE)
LANDING_GLOB = "*.csv"
# Enough rows to show an operator what is wrong without flooding a log line.
MAX_ERRORS_SHOWN = 20
# A composition file is a few hundred rows; anything this large is a mistake, refused unread.
MAX_LANDING_FILE_BYTES = 16 * 1024 * 1024

CONSTITUENT_SCHEMA = {
    "parent_symbol": pl.String,
    "constituent_symbol": pl.String,
    "weight": pl.Float64,
    "shares_per_unit": pl.Float64,
    "effective_date": pl.Date,
    "expiry_date": pl.Date,
}


def file_digest(path: Path) -> str:
    """Content hash: a file is 'new or changed' exactly when this changes.

    A file over MAX_LANDING_FILE_BYTES is never read: its size and modification time
    stand in for the hash, so it is still reported once per version."""
    stat = path.stat()
    if stat.st_size > MAX_LANDING_FILE_BYTES:
        return f"oversize:{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def landed_files(directory: Path) -> list[Path]:
    """The candidate files, oldest first (by name, then modification time) so that when two files
    define the same parent and date differently, the later one is the one rejected."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(LANDING_GLOB), key=lambda p: (p.stat().st_mtime_ns, p.name))


@dataclass
class ValidatedFile:
    """The outcome of validating one landed file; `frame` is set only when `errors` is empty."""

    path: Path
    digest: str
    errors: list[str] = field(default_factory=list)
    frame: pl.DataFrame | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def describe(self) -> str:
        """What a valid file holds, for its one-line summary."""
        return f"{self.frame.height} rows"

    def summary(self, prefix: str = "") -> str:
        if self.is_valid:
            return f"{prefix}{self.path.name}: valid, {self.describe()}"
        shown = self.errors[:MAX_ERRORS_SHOWN]
        more = f"\n  … and {len(self.errors) - len(shown)} more" if len(self.errors) > len(shown) else ""
        return f"{prefix}{self.path.name}: INVALID, nothing applied:\n  " + "\n  ".join(shown) + more


@dataclass
class LandingFileResult(ValidatedFile):
    """A five-column composition file."""

    def periods(self) -> list[tuple[str, date]]:
        """(parent_symbol, effective_date) pairs the file defines."""
        if self.frame is None:
            return []
        return [
            tuple(row)
            for row in self.frame.select("parent_symbol", "effective_date")
            .unique()
            .sort("parent_symbol", "effective_date")
            .iter_rows()
        ]

    def describe(self) -> str:
        periods = ", ".join(f"{p} from {d}" for p, d in self.periods())
        return f"{self.frame.height} rows ({periods})"


def _listing(values: list, limit: int = 10) -> str:
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def _line_number(message: str) -> int:
    head = message.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") and head[5:].isdigit() else 0


def _read_table(path: Path, errors: list[str]) -> pl.DataFrame | None:
    """The file's rows as strings, or None with the reason in `errors` (size, encoding, CSV, header)."""
    size = path.stat().st_size
    if size > MAX_LANDING_FILE_BYTES:
        errors.append(
            f"the file is {size:,} bytes, over the {MAX_LANDING_FILE_BYTES:,}-byte limit (MAX_LANDING_FILE_BYTES); "
            "it was not read. A composition file is a few hundred rows: check it is the right file, "
            "or split it into one file per rebalance"
        )
        return None
    if size == 0:
        errors.append(
            "the file is empty (0 bytes): write the header row "
            f"{','.join(LANDING_COLUMNS)} and one row per constituent, or remove the file"
        )
        return None
    try:
        table = read_table(path, folder_settings(path.parent))
    except LandedFileError as error:
        errors.extend(error.problems)
        return None
    raw = table.frame.rename({LINE: "line"}).with_columns(pl.col("line").cast(pl.Int64))
    columns = [c for c in raw.columns if c != "line"]
    if columns != LANDING_COLUMNS:
        missing = [c for c in LANDING_COLUMNS if c not in columns]
        extra = [c for c in columns if c not in LANDING_COLUMNS]
        errors.append(
            f"wrong columns {columns}: expected exactly {LANDING_COLUMNS} in this order"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra}" if extra else "")
        )
        return None
    if raw.is_empty():
        errors.append("the file has a header but no rows")
        return None
    return raw


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column) == "")


def _not_a_number(column: str) -> pl.Expr:
    return pl.col(column).is_null() | pl.col(column).is_nan()


# (failing rows, what is wrong and how to fix it, the column shown): one line per offending row.
VALUE_RULES = [
    (_blank("parent_symbol"), "empty parent symbol", "parent_symbol"),
    (_blank("constituent_symbol"), "empty constituent symbol", "constituent_symbol"),
    (_not_a_number("weight_value"), "weight is not a number", "weight"),
    (
        (pl.col("weight_value") <= 0) | (pl.col("weight_value") > 1),
        "weight must be in (0, 1], the constituent's fraction of the parent; drop a zero-weight row",
        "weight",
    ),
    (_not_a_number("shares_value"), "shares_per_unit is not a number", "shares_per_unit"),
    (
        pl.col("shares_value") <= 0,
        "shares_per_unit must be positive (units of the constituent held per unit of the parent)",
        "shares_per_unit",
    ),
    (pl.col("date_value").is_null(), "effective_date is not an ISO date (YYYY-MM-DD)", "effective_date"),
    (
        pl.col("date_value") < FIRST_EFFECTIVE_DATE,
        f"effective_date before the first trade date {FIRST_EFFECTIVE_DATE}",
        "effective_date",
    ),
    (
        pl.col("date_value") >= MAP_OPEN_ENDED_EXPIRY,
        f"effective_date on or after the open-ended expiry {MAP_OPEN_ENDED_EXPIRY}",
        "effective_date",
    ),
]


def _value_errors(parsed: pl.DataFrame) -> list[str]:
    errors = []
    for condition, what, column in VALUE_RULES:
        for line, value in parsed.filter(condition).select("line", column).iter_rows():
            why = f": {number_problem(value)}" if what.endswith("is not a number") and value else ""
            errors.append(f"line {line}: {what} ({column}={value!r}){why}")
    return errors


def _symbol_errors(parsed: pl.DataFrame, instruments: pl.DataFrame) -> list[str]:
    known = set(instruments["symbol"].to_list())
    composites = set(instruments.filter(pl.col("is_composite") == 1)["symbol"].to_list())
    errors = []
    for line, symbol in parsed.select("line", "parent_symbol").iter_rows():
        if symbol and symbol not in composites:
            why = "is not a composite instrument (ETF, ETC, Index)" if symbol in known else "unknown symbol"
            errors.append(f"line {line}: parent {symbol!r} {why}")
    for line, symbol in parsed.select("line", "constituent_symbol").iter_rows():
        if symbol and symbol not in known:
            errors.append(f"line {line}: constituent {symbol!r} is an unknown symbol")
    return errors


def _duplicate_errors(parsed: pl.DataFrame) -> list[str]:
    duplicates = (
        parsed.filter(pl.len().over("parent_symbol", "constituent_symbol", "effective_date") > 1)
        .group_by("parent_symbol", "constituent_symbol", "effective_date")
        .agg(pl.col("line"))
    )
    return [
        f"lines {lines}: {parent} lists {constituent} more than once for {day}: "
        "keep one row per constituent (add the weights up if they are parts of one holding)"
        for parent, constituent, day, lines in duplicates.sort("parent_symbol", "constituent_symbol").iter_rows()
    ]


def _weight_sum_errors(parsed: pl.DataFrame) -> list[str]:
    sums = parsed.group_by("parent_symbol", "date_value").agg(pl.col("weight_value").sum().alias("weight_sum"))
    off = sums.filter((pl.col("weight_sum") - 1.0).abs() > WEIGHT_SUM_TOLERANCE).sort("parent_symbol", "date_value")
    return [f"weights of {parent} effective {day} sum to {total:.6f}, not 1" for parent, day, total in off.iter_rows()]


def validate_landing_file(path: Path, instruments: pl.DataFrame) -> LandingFileResult:
    """Check one landed file against the format and the instrument universe.

    `instruments` is `pipeline.pivot.instruments.build_instruments(seed)` (symbol,
    is_composite): the pure reference data, so validation never needs a database."""
    result = LandingFileResult(path=path, digest=file_digest(path))
    raw = _read_table(path, result.errors)
    if raw is None:
        return result
    number_format = folder_settings(path.parent).number_format
    parsed = raw.with_columns(pl.col(LANDING_COLUMNS).str.strip_chars()).with_columns(
        number("weight", number_format).alias("weight_value"),
        number("shares_per_unit", number_format).alias("shares_value"),
        iso_date("effective_date", pl.String).alias("date_value"),
    )
    errors = [*_value_errors(parsed), *_symbol_errors(parsed, instruments), *_duplicate_errors(parsed)]
    # Weight sums are only meaningful once every row is valid.
    result.errors.extend(sorted(errors, key=_line_number) if errors else _weight_sum_errors(parsed))
    if not result.errors:
        result.frame = parsed.select(
            "parent_symbol",
            "constituent_symbol",
            pl.col("weight_value").alias("weight"),
            pl.col("shares_value").alias("shares_per_unit"),
            pl.col("date_value").alias("effective_date"),
        )
    return result


def apply_landed_period(constituents: pl.DataFrame, landed: pl.DataFrame) -> pl.DataFrame:
    """Insert one landed composition as new effective periods of the map.

    For each (parent, effective_date D) in `landed`: the period in force on D is
    closed the day before D, a period starting exactly on D is replaced, and the
    new period runs until the day before the parent's next period starts (or is
    open-ended). Later periods are kept: a scheduled rebalance still happens."""
    frame = constituents.select(list(CONSTITUENT_SCHEMA)).cast(CONSTITUENT_SCHEMA)
    for (parent, start), period in landed.group_by(["parent_symbol", "effective_date"], maintain_order=True):
        mine = pl.col("parent_symbol") == parent
        later_starts = frame.filter(mine & (pl.col("effective_date") > start))["effective_date"]
        expiry = later_starts.min() - timedelta(days=1) if later_starts.len() else MAP_OPEN_ENDED_EXPIRY
        frame = frame.filter(~(mine & (pl.col("effective_date") == start))).with_columns(
            expiry_date=pl.when(mine & (pl.col("effective_date") < start) & (pl.col("expiry_date") >= start))
            .then(pl.lit(start - timedelta(days=1)))
            .otherwise(pl.col("expiry_date"))
        )
        new_rows = period.select(
            "parent_symbol",
            "constituent_symbol",
            "weight",
            "shares_per_unit",
            "effective_date",
            pl.lit(expiry, dtype=pl.Date).alias("expiry_date"),
        ).cast(CONSTITUENT_SCHEMA)
        frame = pl.concat([frame, new_rows])
    return frame.sort("parent_symbol", "effective_date", pl.col("weight"), descending=[False, False, True])


def _period_rows(frame: pl.DataFrame, parent: str, start: date) -> list[tuple]:
    return sorted(
        frame.filter((pl.col("parent_symbol") == parent) & (pl.col("effective_date") == start))
        .select("constituent_symbol", "weight", "shares_per_unit")
        .iter_rows()
    )


def validate_landed_files(
    directory: Path, instruments: pl.DataFrame, paths: list[Path] | None = None
) -> list[LandingFileResult]:
    """Every landed file's result, in landing order (`paths`, else the CSV files of `directory`). Each
    file is checked alone, then a valid file that defines a (parent, effective_date) period an earlier
    valid file already defines with different contents is rejected: two versions of one period are
    ambiguous. (The same contents twice is harmless and accepted.)"""
    paths = landed_files(directory) if paths is None else paths
    results = [validate_landing_file(path, instruments) for path in paths]
    defined: dict[tuple[str, date], LandingFileResult] = {}
    for result in results:
        if not result.is_valid:
            continue
        conflicts = []
        for parent, start in result.periods():
            earlier = defined.get((parent, start))
            if earlier is not None and (
                _period_rows(earlier.frame, parent, start) != _period_rows(result.frame, parent, start)
            ):
                conflicts.append(
                    f"{parent} effective {start} is already defined, differently, by {earlier.path.name}: "
                    f"one period, two versions. To correct it, replace {earlier.path.name} (same name) "
                    f"with the new version, or remove one of the two files"
                )
        if conflicts:
            result.errors.extend(conflicts)
            result.frame = None
            continue
        for period in result.periods():
            defined.setdefault(period, result)
    return results


def merge_landed_files(
    constituents: pl.DataFrame, instruments: pl.DataFrame, directory: Path
) -> tuple[pl.DataFrame, list[LandingFileResult]]:
    """The map with every valid landed file applied in landing order, plus each file's result
    (invalid files are skipped and change nothing)."""
    results = validate_landed_files(directory, instruments)
    for result in results:
        if result.is_valid:
            constituents = apply_landed_period(constituents, result.frame)
    return constituents, results


def period_end(constituents: pl.DataFrame, parent: str, start: date) -> date:
    """The expiry of `parent`'s period starting on `start` in a (merged) map."""
    rows = constituents.filter((pl.col("parent_symbol") == parent) & (pl.col("effective_date") == start))
    return rows["expiry_date"].max() if rows.height else MAP_OPEN_ENDED_EXPIRY
