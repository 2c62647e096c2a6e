"""The dist_perf_dw calendar: NYSE holidays and business days, month close, and dim_dates.

US fund flows settle on NYSE trading days only, so every fact is generated on
business days, and a month's books close on the fifth business day after it ends.
"""

import datetime as dt
import functools

import numpy as np
import polars as pl

from pipeline.dist_perf_dw.tables import columns

DIM_DATES_START = dt.date(2020, 1, 1)
DIM_DATES_END = dt.date(2035, 12, 31)
# The first day with flows; the market index is 1.0 on it.
FLOWS_START_DATE = dt.date(2024, 1, 1)
BUSINESS_DAYS_TO_CLOSE_MONTH = 5


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter_sunday(year: int) -> dt.date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def us_market_holidays(year: int) -> dict[dt.date, str]:
    """NYSE full-day holidays (the days US fund flows do not settle)."""
    holidays = {
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _easter_sunday(year) - dt.timedelta(days=2): "Good Friday",
        _last_weekday(year, 5, 0): "Memorial Day",
        _observed(dt.date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        _observed(dt.date(year, 12, 25)): "Christmas Day",
    }
    # NYSE does not observe New Year's Day on the Friday before when it falls on a Saturday.
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:
        holidays[_observed(new_year)] = "New Year's Day"
    if year >= 2022:
        holidays[_observed(dt.date(year, 6, 19))] = "Juneteenth"
    return holidays


@functools.cache
def _holidays() -> dict[dt.date, str]:
    result: dict[dt.date, str] = {}
    for year in range(DIM_DATES_START.year, DIM_DATES_END.year + 1):
        result.update(us_market_holidays(year))
    return result


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays()


@functools.cache
def _business_day_ordinals() -> np.ndarray:
    days = (DIM_DATES_START + dt.timedelta(days=i) for i in range((DIM_DATES_END - DIM_DATES_START).days + 1))
    return np.array([day.toordinal() for day in days if is_business_day(day)], dtype=np.int64)


def next_business_day_ordinals(ordinals: np.ndarray) -> np.ndarray:
    """The business day on or after each date (as ordinals)."""
    business = _business_day_ordinals()
    return business[np.searchsorted(business, ordinals, side="left")]


def month_days(month_start: dt.date) -> list[dt.date]:
    next_month = dt.date(month_start.year + (month_start.month == 12), month_start.month % 12 + 1, 1)
    return [month_start + dt.timedelta(days=i) for i in range((next_month - month_start).days)]


def month_close_date(day: dt.date) -> dt.date:
    """The day the books of `day`'s month close: the fifth business day after month end."""
    month_end = month_days(day.replace(day=1))[-1]
    business = _business_day_ordinals()
    index = np.searchsorted(business, month_end.toordinal(), side="right") + BUSINESS_DAYS_TO_CLOSE_MONTH - 1
    return dt.date.fromordinal(int(business[index]))


def generate_dim_dates(start: dt.date = DIM_DATES_START, end: dt.date = DIM_DATES_END) -> pl.DataFrame:
    day = pl.col("calendar_date")
    month_end = day == day.dt.month_end()
    frame = pl.DataFrame(pl.date_range(start, end, "1d", eager=True).alias("calendar_date")).with_columns(
        date_key=day.dt.strftime("%Y%m%d").cast(pl.Int32),
        year=day.dt.year().cast(pl.Int32),
        quarter=day.dt.quarter().cast(pl.Int32),
        month=day.dt.month().cast(pl.Int32),
        month_name=day.dt.strftime("%B"),
        day_of_month=day.dt.day().cast(pl.Int32),
        day_of_year=day.dt.ordinal_day().cast(pl.Int32),
        day_of_week=day.dt.weekday().cast(pl.Int32),
        weekday_name=day.dt.strftime("%A"),
        iso_year=day.dt.iso_year().cast(pl.Int32),
        iso_week=day.dt.week().cast(pl.Int32),
        year_month=day.dt.strftime("%Y-%m"),
        year_quarter=pl.format("{}-Q{}", day.dt.year(), day.dt.quarter()),
        month_start_date=day.dt.month_start(),
        is_weekend=day.dt.weekday() >= 6,
        is_month_end=month_end,
        is_quarter_end=month_end & (day.dt.month() % 3 == 0),
        is_year_end=(day.dt.month() == 12) & (day.dt.day() == 31),
        holiday_name=day.replace_strict(_holidays(), default=None, return_dtype=pl.String),
    )
    return frame.with_columns(
        is_holiday=pl.col("holiday_name").is_not_null(),
        is_business_day=~pl.col("is_weekend") & pl.col("holiday_name").is_null(),
    ).select(columns("dim_dates"))
