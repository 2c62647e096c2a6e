"""The grammar of the values in a landed file: numbers, dates and timestamps, read exactly or not
at all. Each rule exists twice, once as a Polars expression (a whole column, null where a value does
not parse) and once for a single text (`number_problem`, for the message that says why not).

Numbers. A plain decimal with a point (`-1234.5`, `0.0045`, `1.5E+06`); thousands separators only as
comma-grouped threes before the point (`1,250,000.00`). Anything else with a comma or a second point
(`182,81`, `1.250,00`, `1.250.000`) is an ambiguous locale and refused, unless the folder declares its
locale in `_format.toml` (`decimal = ","`, `thousands = "."`), in which case it is read that way.
Currency symbols and spaces inside a number are refused by name; a percent sign only where a column
takes percents (`percent=True`: `0.45%` is 0.0045).

Dates. ISO 8601: `YYYY-MM-DD` or its basic form `YYYYMMDD` (as an integer too, the way Parquet and
Excel exports often store dates); a spreadsheet's date cell (`YYYY-MM-DD 00:00:00`) is its date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

CURRENCY_SIGNS = "$€£¥₹₩₽₺₪฿₫₴₦"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_DATE_TEXT = re.compile(rf"^(?:{_ISO_DATE}|\d{{8}})(?: 00:00:00(?:\.0+)?)?$")
FIX_LOCALE = (
    "export with a decimal point (and commas only as thousands separators, 1,250,000.00), or declare the "
    'folder\'s locale in its _format.toml (decimal = ",", thousands = ".")'
)


@dataclass(frozen=True)
class NumberFormat:
    """How a folder writes numbers: its decimal mark and its thousands separator ("" for none)."""

    decimal: str = "."
    thousands: str = ","

    def describe(self) -> str:
        grouping = f"{self.thousands!r} as thousands separator" if self.thousands else "no thousands separator"
        return f"decimal mark {self.decimal!r}, {grouping}"


POINT = NumberFormat()


def number_pattern(number_format: NumberFormat, *, percent: bool = False, whole: bool = False) -> str:
    """The regular expression a number's text must match (after trimming), exactly."""
    decimal, thousands = re.escape(number_format.decimal), re.escape(number_format.thousands)
    integer = rf"(?:\d+|\d{{1,3}}(?:{thousands}\d{{3}})+)" if number_format.thousands else r"\d+"
    fraction = rf"(?:{integer}(?:{decimal}\d*)?|{decimal}\d+)(?:[eE][+-]?\d+)?"
    body = integer if whole else fraction
    return rf"^[+-]?{body}{'%?' if percent else ''}$"


def _canonical(text: pl.Expr, number_format: NumberFormat) -> pl.Expr:
    if number_format.thousands:
        text = text.str.replace_all(number_format.thousands, "", literal=True)
    if number_format.decimal != ".":
        text = text.str.replace(number_format.decimal, ".", literal=True)
    return text


def number(column: str, number_format: NumberFormat = POINT, *, percent: bool = False) -> pl.Expr:
    """Text -> Float64 by the grammar above; null where the text is blank or not exactly a number."""
    text = pl.col(column).str.strip_chars()
    valid = text.str.contains(number_pattern(number_format, percent=percent))
    if not percent:
        return pl.when(valid).then(_canonical(text, number_format).cast(pl.Float64, strict=False))
    is_percent = text.str.ends_with("%")
    value = _canonical(text.str.strip_suffix("%"), number_format).cast(pl.Float64, strict=False)
    return pl.when(valid).then(pl.when(is_percent).then(value / 100).otherwise(value))


def whole_number(column: str, dtype: pl.DataType, number_format: NumberFormat = POINT) -> pl.Expr:
    """Text -> an integer type (ids): digits only, grouped by the folder's thousands separator."""
    text = pl.col(column).str.strip_chars()
    valid = text.str.contains(number_pattern(number_format, whole=True))
    return pl.when(valid).then(_canonical(text, number_format).cast(dtype, strict=False))


def number_problem(text: str, number_format: NumberFormat = POINT, *, percent: bool = False) -> str:
    """Why `text` is not a number by the folder's format: what is wrong and what to do."""
    value = text.strip()
    if value.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return f"not a finite number ({value!r}): write the value"
    sign = next((c for c in value if c in CURRENCY_SIGNS), None)
    if sign is not None:
        return f"a currency symbol ({sign!r}) in the number: write the number alone, in the currency of the row"
    if re.search(r"\d\s+\d", value) and number_format.thousands not in (" ", "\u00a0"):
        return "a space inside the number: write it without spaces (digits, an optional decimal mark)"
    if value.endswith("%") and not percent:
        return "a percent sign: write the value as a plain number (0.45% as 0.0045)"
    if value.startswith("(") and value.endswith(")"):
        return "a negative in parentheses (accounting format): write it with a minus sign"
    if number_format == POINT and ("," in value or value.count(".") > 1):
        return f"an ambiguous number: {value!r} could be read in more than one locale; {FIX_LOCALE}"
    if number_format != POINT and re.search(r"[.,]", value):
        return f"not a number in this folder's format ({number_format.describe()}, from its _format.toml)"
    return "not a number"


def parse_number(text: str, number_format: NumberFormat = POINT, *, percent: bool = False) -> float:
    """One text as a number by the grammar above; ValueError saying why not."""
    value = text.strip()
    if not re.match(number_pattern(number_format, percent=percent), value):
        raise ValueError(number_problem(value, number_format, percent=percent))
    scale = 100.0 if value.endswith("%") else 1.0
    if number_format.thousands:
        value = value.replace(number_format.thousands, "")
    return float(value.removesuffix("%").replace(number_format.decimal, ".")) / scale


def iso_date(column: str, source_dtype: pl.DataType) -> pl.Expr:
    """A date column of any source type -> Date: text by the grammar above; Date as is; a Datetime's
    date only at midnight; an integer as yyyymmdd. Null where the value is not such a date (another
    type is all nulls: `date_type_problem` says why)."""
    if source_dtype == pl.String:
        text = pl.col(column).str.strip_chars()
        day = text.str.slice(0, 10)
        valid = text.str.contains(_DATE_TEXT.pattern)
        dashed = day.str.to_date("%Y-%m-%d", strict=False)
        basic = text.str.slice(0, 8).str.to_date("%Y%m%d", strict=False)
        return pl.when(valid).then(pl.when(text.str.slice(4, 1) == "-").then(dashed).otherwise(basic))
    if source_dtype == pl.Date:
        return pl.col(column)
    if isinstance(source_dtype, pl.Datetime):
        at_midnight = pl.col(column).dt.time() == pl.time(0)
        return pl.when(at_midnight).then(pl.col(column).dt.date())
    if source_dtype.is_integer():
        digits = pl.col(column).cast(pl.String)
        return pl.when(digits.str.len_chars() == 8).then(digits.str.to_date("%Y%m%d", strict=False))
    return pl.lit(None, dtype=pl.Date)


def date_type_problem(column: str, source_dtype: pl.DataType) -> str | None:
    """A date column stored as a type no date can be read from exactly (floats, booleans, …)."""
    if source_dtype == pl.String or source_dtype == pl.Date or isinstance(source_dtype, pl.Datetime):
        return None
    if source_dtype.is_integer():
        return None
    return (
        f"column {column!r} is stored as {source_dtype}, which holds no date exactly: write it as a date, "
        "an ISO text (YYYY-MM-DD) or an integer yyyymmdd"
    )


DATE_KIND = "an ISO date (YYYY-MM-DD, or YYYYMMDD)"
