"""The dist_perf_dw calendar: NYSE holidays and business days, month close, and dim_dates.

US fund flows settle on NYSE trading days only, so every fact is generated on
business days, and a month's books close on the fifth business day after it ends.
Sessions, holidays and ad-hoc closures come from the kept `exchange_calendars`
library (XNYS); this module holds no holiday rule of its own.
"""

import datetime as dt
import functools

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import polars as pl

from pipeline.dist_perf_dw.tables import columns

DIM_DATES_START = dt.date(2020, 1, 1)
# The calendar's horizon: the library needs a bounded range, and dim_dates must hold every day a
# fact can be loaded for (facts reference it). Daily partitions end today, but a backfill or a test
# may ask years ahead, so the range reaches HORIZON_YEARS past the current year (and never ends
# before 2035). A later horizon only appends years: no date's row depends on it.
HORIZON_YEARS = 10
DIM_DATES_END = max(dt.date(2035, 12, 31), dt.date(dt.date.today().year + HORIZON_YEARS, 12, 31))
# The first day with flows; the market index is 1.0 on it.
FLOWS_START_DATE = dt.date(2024, 1, 1)
BUSINESS_DAYS_TO_CLOSE_MONTH = 5
# NYSE: US fund flows settle on its sessions only.
MARKET_CALENDAR = "XNYS"
# The name of a closure outside the regular holiday rules (e.g. 2025-01-09, a national day of mourning).
AD_HOC_CLOSURE = "Market closed"


class BeyondCalendarError(ValueError):
    """A date outside [DIM_DATES_START, DIM_DATES_END], the range the calendar knows."""


@functools.cache
def _market_calendar() -> xcals.ExchangeCalendar:
    return xcals.get_calendar(MARKET_CALENDAR, start=DIM_DATES_START.isoformat(), end=DIM_DATES_END.isoformat())


@functools.cache
def _sessions() -> frozenset[dt.date]:
    return frozenset(session.date() for session in _market_calendar().sessions)


@functools.cache
def _holidays() -> dict[dt.date, str]:
    """Every weekday the market is closed, named by the library's regular holiday rules, or AD_HOC_CLOSURE."""
    regular = _market_calendar().regular_holidays.holidays(
        pd.Timestamp(DIM_DATES_START), pd.Timestamp(DIM_DATES_END), return_name=True
    )
    names = {day.date(): name for day, name in regular.items()}
    weekdays = (day.date() for day in pd.bdate_range(DIM_DATES_START, DIM_DATES_END))
    return {day: names.get(day, AD_HOC_CLOSURE) for day in weekdays if day not in _sessions()}


def market_holidays(year: int) -> dict[dt.date, str]:
    """The NYSE's full-day closures on weekdays of `year` (the days US fund flows do not settle)."""
    return {day: name for day, name in _holidays().items() if day.year == year}


def is_business_day(day: dt.date) -> bool:
    if not DIM_DATES_START <= day <= DIM_DATES_END:
        raise BeyondCalendarError(
            f"{day} is outside the calendar's range {DIM_DATES_START} .. {DIM_DATES_END} "
            "(DIM_DATES_END in pipeline/dist_perf_dw/calendar.py)"
        )
    return day in _sessions()


@functools.cache
def _business_day_ordinals() -> np.ndarray:
    return np.array(sorted(day.toordinal() for day in _sessions()), dtype=np.int64)


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
