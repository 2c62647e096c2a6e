"""The pivot blueprint: a trade date's top-level and look-through views in USD and a symbol's total
exposure (the spec's queries, pipeline/pivot/reads.py), at /pivot/ and, as JSON, /api/pivot/.

Where the pivot warehouse lives decides how it is read:
- on a ClickHouse server (`PIVOT_WEB_CLICKHOUSE_URL`, else `PIVOT_CLICKHOUSE_URL`, as `pivot_reader_user`
  in production) requests read concurrently, while loads run: a day is swapped in whole
  (REPLACE PARTITION), so a reader sees the old day or the new one;
- on the embedded store (chDB), which one process holds at a time, each request opens the store, reads
  and hands it back at once, one request at a time; a request that finds a load holding it (or waits
  more than a few seconds for another request) answers 503 with Retry-After, never a hang and never
  half a day: the loading process holds the whole store until its swap is done.
"""

import os
import threading
from contextlib import contextmanager
from datetime import date

from flask import Blueprint, current_app, jsonify, render_template

from pipeline.pivot import reads
from pipeline.resources.clickhouse import ClickHouseResource, ClickHouseUnavailableError, close_all_clients
from pipeline.settings import ENV_CLICKHOUSE_URL, ENV_WEB_CLICKHOUSE_URL, default_clickhouse_url
from pipeline.web.dist_perf_dw import wants_json
from pipeline.web.params import BadParameter, UnknownKey, int_param

blueprint = Blueprint("pivot", __name__, url_prefix="/pivot")
API_NAME = "pivot_api"
EXTENSION_KEY = "pivot_store"
WAIT_FOR_THE_STORE_SECONDS = 5
BUSY = (
    "The embedded pivot store is held by another process right now, most likely a load (chDB admits one "
    "process per data directory, and a load keeps it until its day is swapped in whole). Try again in a few "
    "seconds. A ClickHouse server (PIVOT_CLICKHOUSE_URL=http://…, read here as pivot_reader_user) serves "
    "readers while it loads."
)


class StoreBusy(RuntimeError):
    """The embedded store is held elsewhere: answered 503 with Retry-After."""


class PivotStore:
    """How the app reads pivot: a server concurrently, the embedded store one request at a time."""

    def __init__(self, url: str | None = None, database: str = "pivot"):
        url = url or os.environ.get(ENV_WEB_CLICKHOUSE_URL) or os.environ.get(ENV_CLICKHOUSE_URL)
        self.resource = ClickHouseResource(url=url or default_clickhouse_url(), database=database)
        self._embedded_lock = threading.Lock()

    @contextmanager
    def reading(self):
        if not self.resource.is_embedded:
            try:
                yield self.resource
            except ClickHouseUnavailableError as error:
                raise StoreBusy(str(error)) from None
            return
        if not self._embedded_lock.acquire(timeout=WAIT_FOR_THE_STORE_SECONDS):
            raise StoreBusy(BUSY)
        try:
            try:
                self.resource.get_client()
            except ClickHouseUnavailableError:
                raise StoreBusy(BUSY) from None
            yield self.resource
        finally:
            # Hand the store back at once: the next load may be another process.
            close_all_clients()
            self._embedded_lock.release()


def _store() -> PivotStore:
    return current_app.extensions[EXTENSION_KEY]


def _day(raw: str) -> date:
    try:
        if len(raw) > 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter("trade_date", f"{raw[:40]!r} is not a date: write it as YYYY-MM-DD") from None


@blueprint.get("/")
def trade_dates():
    with _store().reading() as store:
        days = reads.loaded_dates(store, store.database)
    if wants_json():
        return jsonify([{"trade_date": day, "rows": rows} for day, rows in days])
    return render_template("pivot_dates.html", trade_dates=days)


@blueprint.get("/<trade_date>")
def trade_date(trade_date: str):
    day = _day(trade_date)
    limit = int_param("limit", 50, 1, 1000)
    with _store().reading() as store:
        page = reads.trade_date_page(store, day, limit, store.database)
    if not page.top_level and not page.look_through:
        raise UnknownKey("trade date", "date", day.isoformat())
    if wants_json():
        return jsonify({
            "trade_date": day,
            "top_level_view_usd": [vars(row) for row in page.top_level],
            "look_through_view_usd": [vars(row) for row in page.look_through],
        })
    return render_template("pivot_date.html", page=page, limit=limit)


@blueprint.get("/<trade_date>/symbols/<symbol>")
def symbol(trade_date: str, symbol: str):
    day = _day(trade_date)
    if not reads.SYMBOL_SHAPE.fullmatch(symbol):
        raise UnknownKey("symbol", "name", symbol)
    with _store().reading() as store:
        exposure = reads.symbol_exposure(store, day, symbol, store.database)
    if exposure is None:
        raise UnknownKey(f"exposure on {day.isoformat()} to a symbol", "name", symbol)
    if wants_json():
        return jsonify({"trade_date": day, **vars(exposure)})
    return render_template("pivot_symbol.html", day=day, exposure=exposure)
