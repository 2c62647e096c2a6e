"""The dist_perf_dw blueprint: each view parses its parameters, calls one query function
(pipeline.dist_perf_dw.queries) and renders the page, or its JSON twin.

The blueprint is registered twice: at `/` for pages and at `/api/` for JSON; a page also answers
JSON when the request prefers `application/json`.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template, request

from pipeline.dist_perf_dw import queries as q
from pipeline.settings import TRADING_TIMEZONE
from pipeline.web import serialize
from pipeline.web.cache import cached
from pipeline.web.database import get_session
from pipeline.web.params import UnknownKey, choice_param, date_range, int_param, key_param, path_key

blueprint = Blueprint("dist_perf_dw", __name__)
API_NAME = "dist_perf_dw_api"
FLOW_PAGE_SIZE = 100


def wants_json() -> bool:
    if request.blueprint and request.blueprint.endswith("_api"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _render(template: str, page, to_json, **context):
    if wants_json():
        return jsonify(to_json(page))
    return render_template(template, page=page, **context)


def _days() -> q.DateRange:
    today = dt.datetime.now(ZoneInfo(TRADING_TIMEZONE)).date()
    return date_range(lambda: q.latest_flow_date(get_session()), today)


def _found(page, kind: str, key_name: str, key: str):
    if page is None:
        raise UnknownKey(kind, key_name, key)
    return page


@blueprint.get("/")
@cached
def overview():
    days = _days()
    page = q.overview(get_session(), days)
    return _render("overview.html", page, serialize.overview,
                   chart=serialize.channel_month_chart(page.by_channel_month))


@blueprint.get("/flows")
@cached
def flows():
    group = choice_param("group", q.FLOW_GROUPS, default="channel")
    days = _days()
    rows = q.flows_by(get_session(), days, group)
    if wants_json():
        return jsonify(serialize.grouped(rows))
    return render_template("flows.html", rows=rows, group=group, groups=q.FLOW_GROUPS, days=days)


@blueprint.get("/flows/list")
@cached
def flow_list():
    filters = q.FlowFilters(
        channel=key_param("channel"),
        territory=key_param("territory"),
        product=key_param("product"),
        firm=key_param("firm"),
        advisor=key_param("advisor"),
        wholesaler=key_param("wholesaler"),
    )
    limit = int_param("limit", FLOW_PAGE_SIZE, 1, q.MAX_PAGE_SIZE)
    after = int_param("after", None, 0, 2**63 - 1)
    days = _days()
    session = get_session()
    page = q.flow_page(session, days, filters, limit, after)
    if wants_json():
        return jsonify(serialize.flow_list(days, filters, page, limit))
    return render_template("flow_list.html", page=page, days=days, filters=filters, limit=limit,
                           options=q.filter_options(session))


@blueprint.get("/firms/<crd>")
@cached
def firm(crd: str):
    crd = path_key("firm", "CRD number", crd)
    page = _found(q.firm_page(get_session(), crd, _days()), "firm", "CRD number", crd)
    return _render("firm.html", page, serialize.firm_page, chart=serialize.month_chart(page.by_month),
                   retention_chart=serialize.retention_chart(page.retention))


@blueprint.get("/advisors/<crd>")
@cached
def advisor(crd: str):
    crd = path_key("advisor", "CRD number", crd)
    page = _found(q.advisor_page(get_session(), crd, _days()), "advisor", "CRD number", crd)
    return _render("advisor.html", page, serialize.advisor_page, chart=serialize.month_chart(page.by_month),
                   retention_chart=serialize.retention_chart(page.retention))


@blueprint.get("/products/<key>")
@cached
def product(key: str):
    key = path_key("product", "ticker or CUSIP", key)
    page = _found(q.product_page(get_session(), key, _days()), "product", "ticker or CUSIP", key)
    return _render("product.html", page, serialize.product_page, chart=serialize.month_chart(page.by_month),
                   retention_chart=serialize.retention_chart(page.retention))


@blueprint.get("/wholesalers/<code>")
@cached
def wholesaler(code: str):
    code = path_key("wholesaler", "employee code", code)
    page = _found(q.wholesaler_page(get_session(), code, _days()), "wholesaler", "employee code", code)
    return _render("wholesaler.html", page, serialize.wholesaler_page,
                   chart=serialize.sales_comp_chart(page.sales_and_comp))
