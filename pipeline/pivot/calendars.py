"""Exchange calendars: which listing exchanges hold a session on a date, and its open and close in UTC.

Pure: no Dagster, no database. Holidays, ad-hoc closures (e.g. NYSE's 2025-01-09), half days,
lunch breaks and daylight saving all come from the kept `exchange_calendars` library; this
module holds no holiday rule of its own, only the map from the exchanges the instruments
list to the library's calendars.

Choices where an exchange has no calendar of its own in the library:
- ARCA (NYSE Arca) and CBOE (Cboe Options: listed equity options and the SPX index) follow
  the NYSE calendar and its 09:30-16:00 New York session (the library's ARCX and BATS are
  aliases of XNYS; XCBF is Cboe *Futures*, a different market).
- CME, COMEX and NYMEX are CME Globex (CMES): a session labelled D opens the evening before
  (17:00 Chicago), so a futures trade of trade date D may carry a UTC timestamp of D-1.
- ICE (Brent) uses the library's only ICE calendar, ICE US (IEPA).
- LBMA and LPPM (and their OTC venue) are London's precious-metals market: spot trades
  when the London market (XLON) is open, priced against its auctions.

The library records the lunar holidays of Hong Kong only through 2049: a date past a
calendar's range fails naming the exchange and the library's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np

EXCHANGE_CALENDARS = {
    "NYSE": "XNYS",
    "NASDAQ": "XNAS",
    "ARCA": "XNYS",
    "CBOE": "XNYS",
    "CME": "CMES",
    "COMEX": "CMES",
    "NYMEX": "CMES",
    "ICE": "IEPA",
    "LBMA": "XLON",
    "LPPM": "XLON",
    "LSE": "XLON",
    "XETRA": "XETR",
    "EURONEXT": "XPAR",
    "SIX": "XSWX",
    "TSE": "XTKS",
    "HKEX": "XHKG",
    "TSX": "XTSE",
    "ASX": "XASX",
}
ALL_VENUES_CLOSED = "all venues closed"


class UnknownExchangeError(ValueError):
    """An instrument lists an exchange with no calendar in EXCHANGE_CALENDARS."""


@dataclass(frozen=True)
class Session:
    """One exchange session in UTC epoch milliseconds; a lunch break is [break_start, break_end)."""

    open_ms: int
    close_ms: int
    break_start_ms: int
    break_end_ms: int
    # The session's trading time over the calendar's usual full session (1 on a full day, ~0.5 on a half day).
    length_share: float

    @property
    def trading_ms(self) -> int:
        return self.close_ms - self.open_ms - (self.break_end_ms - self.break_start_ms)


def calendar_code(exchange: str) -> str:
    try:
        return EXCHANGE_CALENDARS[exchange]
    except KeyError:
        raise UnknownExchangeError(
            f"no exchange calendar for exchange {exchange!r}: add it to EXCHANGE_CALENDARS in "
            "pipeline/pivot/calendars.py (a code of the exchange_calendars library)"
        ) from None


def has_calendar(exchange: str) -> bool:
    """Whether `exchange` maps to a calendar (landed instruments may name exchanges that do not)."""
    return exchange in EXCHANGE_CALENDARS


def _ms(values) -> np.ndarray:
    return values.to_numpy(dtype="datetime64[ms]").astype(np.int64)


@lru_cache(maxsize=64)
def _year_sessions(code: str, year: int) -> dict[date, Session]:
    """Every session of calendar `code` in `year`. The calendar is built for that year only, so any
    requested date gets a calendar (the library's own range limits apart)."""
    try:
        calendar = xcals.get_calendar(code, start=f"{year - 1}-12-01", end=f"{year}-12-31")
    except Exception as error:  # the library's range errors name the calendar and its limit
        raise ValueError(f"exchange calendar {code} cannot cover {year}: {error}") from error
    schedule = calendar.schedule
    schedule = schedule[schedule.index.year == year]
    opens, closes = _ms(schedule["open"]), _ms(schedule["close"])
    has_break = schedule["break_start"].notna().to_numpy()
    break_start = np.where(has_break, _ms(schedule["break_start"].fillna(schedule["open"])), opens)
    break_end = np.where(has_break, _ms(schedule["break_end"].fillna(schedule["open"])), opens)
    trading = closes - opens - (break_end - break_start)
    usual = float(np.median(trading)) if len(trading) else 1.0
    return {
        day.date(): Session(int(o), int(c), int(bs), int(be), min(1.0, float(t) / usual))
        for day, o, c, bs, be, t in zip(schedule.index, opens, closes, break_start, break_end, trading)
    }


def session(exchange: str, day: date) -> Session | None:
    """The exchange's session on `day`, or None when it is closed (weekend, holiday, closure)."""
    return _year_sessions(calendar_code(exchange), day.year).get(day)


def sessions(exchanges: list[str], day: date) -> dict[str, Session | None]:
    """Each exchange's session on `day` (None where it is closed)."""
    return {exchange: session(exchange, day) for exchange in dict.fromkeys(exchanges)}


def open_exchanges(exchanges: list[str], day: date) -> list[str]:
    return [exchange for exchange, s in sessions(exchanges, day).items() if s is not None]
