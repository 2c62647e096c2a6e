"""The read-only web pages over the warehouses: a Flask app factory, one blueprint per warehouse.

    from pipeline.web import create_app
    app = create_app()            # PIVOT_WEB_POSTGRES_URL, else dist_perf_dw_reader on the pipeline's server

`python -m pipeline.web` (what `make web` runs) serves it with waitress on 127.0.0.1:8000.
"""

import logging
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, make_response, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from pipeline.dist_perf_dw.models import DimAdvisors, DimChannels, DimFirms, DimProducts, DimTerritories, DimWholesalers
from pipeline.resources.postgres import PostgresUnavailableError
from pipeline.web import pivot, serialize
from pipeline.web.cache import PageCache
from pipeline.web.database import EXTENSION_KEY, Database, close_session
from pipeline.web.dist_perf_dw import API_NAME, blueprint, wants_json
from pipeline.web.params import BadParameter, UnknownKey
from pipeline.web.pivot import BUSY, PivotStore, StoreBusy

log = logging.getLogger(__name__)
DEFAULT_POOL_SIZE = 8
UNAVAILABLE = (
    "The dist_perf_dw database cannot be reached right now (it is down, restarting or overloaded). "
    "Try again in a moment; if it persists, check that PostgreSQL is running "
    "(python -m pipeline.resources.local_postgres status) or PIVOT_WEB_POSTGRES_URL."
)
SECURITY_HEADERS = {
    # Scripts, styles and images come from this app only; chart data is JSON in non-executed <script> blocks.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def usd(value: Any) -> str:
    if value is None:
        return "–"
    return f"{Decimal(value):,.2f}"


def pct(value: Any) -> str:
    return "–" if value is None else f"{Decimal(value):.2f} %"


def keep_range() -> dict:
    """The request's from/to, for links to other pages of the same range."""
    return {name: request.args[name] for name in ("from", "to") if request.args.get(name)}


def member_url(member) -> str | None:
    key, days = serialize.member_key(member), keep_range()
    if isinstance(member, DimFirms):
        return url_for("dist_perf_dw.firm", crd=key, **days)
    if isinstance(member, DimAdvisors):
        return url_for("dist_perf_dw.advisor", crd=key, **days)
    if isinstance(member, DimProducts):
        return url_for("dist_perf_dw.product", key=key, **days)
    if isinstance(member, DimWholesalers):
        return url_for("dist_perf_dw.wholesaler", code=key, **days)
    if isinstance(member, DimChannels):
        return url_for("dist_perf_dw.flow_list", channel=key, **days)
    if isinstance(member, DimTerritories):
        return url_for("dist_perf_dw.flow_list", territory=key, **days)
    return None


def _error(status: int, title: str, message: str, **extra):
    if wants_json() or request.path.startswith("/api/"):
        return make_response(jsonify({"error": message, **extra}), status)
    return make_response(render_template("error.html", status=status, title=title, message=message), status)


def create_app(config: dict | None = None) -> Flask:
    """The app. `config` may set DIST_PERF_DW_URL (the read-only URL; default: see pipeline.web.database),
    DB_POOL_SIZE (connections kept, default 8: the server's threads), PAGE_CACHE_SECONDS (how long a
    rendered page may be served again while the data is unchanged, default 60; 0 = off, see
    pipeline.web.cache), PAGE_CACHE_ENTRIES (default 512) and PIVOT_CLICKHOUSE_URL (the pivot store the
    /pivot/ pages read; default PIVOT_WEB_CLICKHOUSE_URL, else PIVOT_CLICKHOUSE_URL, else the embedded one)."""
    app = Flask(__name__)
    app.json = serialize.JSONProvider(app)
    app.config.update(DIST_PERF_DW_URL=None, DB_POOL_SIZE=DEFAULT_POOL_SIZE, PAGE_CACHE_SECONDS=60,
                      PAGE_CACHE_ENTRIES=512, PIVOT_CLICKHOUSE_URL=None)
    app.config.update(config or {})
    app.extensions[EXTENSION_KEY] = Database(app.config["DIST_PERF_DW_URL"], app.config["DB_POOL_SIZE"])
    app.extensions["page_cache"] = PageCache(app.config["PAGE_CACHE_SECONDS"], app.config["PAGE_CACHE_ENTRIES"])

    app.register_blueprint(blueprint)
    app.register_blueprint(blueprint, url_prefix="/api", name=API_NAME)
    app.extensions[pivot.EXTENSION_KEY] = PivotStore(app.config["PIVOT_CLICKHOUSE_URL"])
    app.register_blueprint(pivot.blueprint)
    app.register_blueprint(pivot.blueprint, url_prefix="/api/pivot", name=pivot.API_NAME)
    app.teardown_appcontext(close_session)

    app.jinja_env.filters.update(usd=usd, pct=pct)
    app.jinja_env.globals.update(
        member_name=serialize.member_name, member_key=serialize.member_key, member_url=member_url,
        keep_range=keep_range,
    )

    @app.after_request
    def _headers(response):
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.errorhandler(BadParameter)
    def _bad_parameter(error: BadParameter):
        return _error(400, "Bad request", str(error), parameter=error.parameter)

    @app.errorhandler(UnknownKey)
    def _unknown(error: UnknownKey):
        return _error(404, "Not found", str(error), kind=error.kind, key=error.key)

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    @app.errorhandler(PostgresUnavailableError)
    def _unavailable(error: Exception):
        # The message SQLAlchemy builds has no parameters (hide_parameters) and no URL; logged for the operator.
        log.warning("dist_perf_dw unavailable: %s", str(getattr(error, "orig", error)).splitlines()[0])
        response = _error(503, "Service unavailable", UNAVAILABLE)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(StoreBusy)
    def _store_busy(error: StoreBusy):
        response = _error(503, "Service unavailable", BUSY if str(error) == BUSY else
                          "The pivot warehouse cannot be reached right now; try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _error(error.code or 500, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def _internal(error: Exception):
        log.exception("unhandled error on %s", request.path)
        return _error(500, "Internal error", "The page failed; the server's log has the details.")

    return app
