"""Query-string and path parameters: parsed strictly, refused with a 400 naming the parameter.

Nothing a request sends reaches SQL as text: dates become `date`s, numbers `int`s, choices one of
a fixed list, and keys (CRD numbers, tickers, employee codes) are bound parameters of the ORM's
statements, after a shape check that keeps bytes PostgreSQL cannot hold (NUL) out of them.
"""

import datetime as dt
import re

from flask import request

from pipeline.dist_perf_dw.queries import DateRange, default_range

KEY_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}")


class BadParameter(ValueError):
    """A parameter the page cannot use: answered 400 with this message."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class UnknownKey(LookupError):
    """No member with this key: answered 404 naming it."""

    def __init__(self, kind: str, key_name: str, key: str):
        super().__init__(f"No {kind} with {key_name} {key!r} in dist_perf_dw.")
        self.kind, self.key_name, self.key = kind, key_name, key


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def date_param(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) > 10:
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(name, f"{_shown(raw)} is not a date: write it as YYYY-MM-DD") from None


def date_range(latest_flow_date, today: dt.date) -> DateRange:
    """?from=&to= (ISO dates, inclusive). Missing ends default to the last 31 days up to the latest
    loaded flow; `latest_flow_date` is called only then (it costs a statement)."""
    start, end = date_param("from"), date_param("to")
    if start is None or end is None:
        default = default_range(latest_flow_date() if end is None else end, today)
        start, end = start or default.start, end or default.end
        if start > end:  # only `from` was given, after the latest flow
            end = start
    if start > end:
        raise BadParameter("from", f"{start.isoformat()} is after to={end.isoformat()}")
    return DateRange(start, end)


def choice_param(name: str, choices: list[str] | tuple[str, ...], default: str | None = None) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if raw not in choices:
        raise BadParameter(name, f"{_shown(raw)} is not one of {', '.join(choices)}")
    return raw


def int_param(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"\d{1,19}", raw) or not minimum <= int(raw) <= maximum:
        raise BadParameter(name, f"{_shown(raw)} is not a whole number from {minimum:,} to {maximum:,}")
    return int(raw)


def key_param(name: str) -> str | None:
    """An optional member key in the query string (a filter): shape-checked, else 400."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not KEY_SHAPE.fullmatch(raw):
        raise BadParameter(name, f"{_shown(raw)} is not a code: letters, digits, '.', '-', '_', at most 40")
    return raw


def path_key(kind: str, key_name: str, raw: str) -> str:
    """A member key from the path: one that cannot exist is a 404 at once, without a query."""
    key = raw.strip()
    if not KEY_SHAPE.fullmatch(key):
        raise UnknownKey(kind, key_name, raw)
    return key
