"""What the pages' JSON twins answer, and the chart specifications the HTML pages hand Chart.js.

Amounts are JSON numbers (the warehouse's Decimals, exact to the cent as floats up to 2^53 cents),
dates ISO strings. Members are named by the keys their pages take (CRD number, ticker, employee
code). Every name read here is one the queries loaded eagerly (they raise otherwise).
"""

import datetime as dt
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

from pipeline.dist_perf_dw import queries as q
from pipeline.dist_perf_dw.models import (
    DimAdvisors,
    DimChannels,
    DimFirms,
    DimProducts,
    DimTerritories,
    DimWholesalers,
    FactAUMFlow,
)


class JSONProvider(DefaultJSONProvider):
    """Decimals as numbers and dates as ISO strings (Flask's default writes dates as HTTP dates)."""

    sort_keys = False

    @staticmethod
    def default(value):
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


# --------------------------------------------------------------------------- members


def member_name(member) -> str:
    if isinstance(member, DimChannels):
        return member.channel_name
    if isinstance(member, DimFirms):
        return member.firm_name
    if isinstance(member, DimProducts):
        return member.product_name
    if isinstance(member, DimWholesalers):
        return member.wholesaler_name
    if isinstance(member, DimTerritories):
        return member.territory_name
    if isinstance(member, DimAdvisors):
        return member.advisor_name
    if isinstance(member, dt.date):
        return member.strftime("%Y-%m")
    raise TypeError(f"not a member: {member!r}")


def member_key(member) -> str:
    if isinstance(member, DimChannels):
        return member.channel_code
    if isinstance(member, DimFirms | DimAdvisors):
        return member.crd_number
    if isinstance(member, DimProducts):
        return q.product_key(member)
    if isinstance(member, DimWholesalers):
        return member.employee_code
    if isinstance(member, DimTerritories):
        return member.territory_code
    if isinstance(member, dt.date):
        return member.strftime("%Y-%m")
    raise TypeError(f"not a member: {member!r}")


def firm(firm: DimFirms, full: bool = True) -> dict:
    out = {"crd_number": firm.crd_number, "firm_name": firm.firm_name, "firm_type": firm.firm_type.firm_type_name}
    if full:
        out |= {
            "channel": firm.channel.channel_name,
            "region": firm.region.region_name,
            "headquarters_state": firm.headquarters_state,
            "relationship_start_date": firm.relationship_start_date,
            "is_active": firm.is_active,
        }
    return out


def territory(territory: DimTerritories) -> dict:
    return {
        "territory_code": territory.territory_code,
        "territory_name": territory.territory_name,
        "region": territory.region.region_name,
    }


def advisor(advisor: DimAdvisors) -> dict:
    return {
        "crd_number": advisor.crd_number,
        "advisor_name": advisor.advisor_name,
        "segment": advisor.segment,
        "firm": firm(advisor.firm, full=False),
        "territory": territory(advisor.territory),
        "career_start_date": advisor.career_start_date,
        "firm_start_date": advisor.firm_start_date,
        "is_active": advisor.is_active,
    }


def product(product: DimProducts) -> dict:
    out = {"key": q.product_key(product), "ticker": product.ticker}
    if hasattr(product, "cusip"):
        out["cusip"] = product.cusip
    return out | {
        "product_name": product.product_name,
        "asset_class": product.asset_class.asset_class_name,
        "vehicle_type": product.vehicle_type.vehicle_type_name,
        "management_fee_rate": product.management_fee_rate,
        "inception_date": product.inception_date,
        "is_active": product.is_active,
    }


def wholesaler(wholesaler: DimWholesalers) -> dict:
    return {
        "employee_code": wholesaler.employee_code,
        "wholesaler_name": wholesaler.wholesaler_name,
        "team_name": wholesaler.team_name,
        "territory": territory(wholesaler.territory),
        "hire_date": wholesaler.hire_date,
    }


# --------------------------------------------------------------------------- figures


def days(days: q.DateRange) -> dict:
    return {"from": days.start, "to": days.end}


def totals(totals: q.FlowTotals) -> dict:
    return {
        "net_amount": totals.net_amount,
        "gross_amount": totals.gross_amount,
        "redemptions_amount": totals.redemptions_amount,
        "flows": totals.flows,
    }


def grouped(rows: list[q.GroupedFlows]) -> list[dict]:
    return [
        {
            "group": member_name(row.member),
            "key": member_key(row.member),
            "net_amount": row.net_amount,
            "gross_amount": row.gross_amount,
            "redemptions_amount": row.redemptions_amount,
            "flows": row.flows,
        }
        for row in rows
    ]


def product_revenue(rows: list[q.ProductRevenue]) -> list[dict]:
    return [
        {
            "product": row.product.product_name,
            "key": q.product_key(row.product),
            "revenue_amount": row.revenue_amount,
            "estimated_amount": row.estimated_amount,
            "is_estimate": row.is_estimate,
        }
        for row in rows
    ]


def month_revenue(rows: list[q.MonthRevenue]) -> list[dict]:
    return [
        {"month": row.month.strftime("%Y-%m"), "revenue_amount": row.revenue_amount,
         "estimated_amount": row.estimated_amount, "is_estimate": row.is_estimate}
        for row in rows
    ]


def retention(points: list[q.RetentionPoint]) -> list[dict]:
    return [
        {"age_days": p.age_days, "original_amount": p.original_amount, "retained_amount": p.retained_amount,
         "retention_pct": p.retention_pct, "purchases": p.purchases}
        for p in points
    ]


def flow(flow: FactAUMFlow) -> dict:
    return {
        "flow_id": flow.flow_id,
        "flow_date": flow.flow_date,
        "transaction_type": flow.transaction_type.transaction_type_name,
        "advisor": {"crd_number": flow.advisor.crd_number, "advisor_name": flow.advisor.advisor_name},
        "firm": {
            "crd_number": flow.advisor.firm.crd_number,
            "firm_name": flow.advisor.firm.firm_name,
            "firm_type": flow.advisor.firm.firm_type.firm_type_name,
        },
        "channel": flow.channel.channel_name,
        "product": {"key": q.product_key(flow.product), "product_name": flow.product.product_name},
        "wholesaler": {"employee_code": flow.wholesaler.employee_code,
                       "wholesaler_name": flow.wholesaler.wholesaler_name},
        "amount": flow.amount,
        "net_amount": flow.net_amount,
    }


# --------------------------------------------------------------------------- pages


def overview(page: q.Overview) -> dict:
    return {
        "range": days(page.days),
        "totals": totals(page.totals),
        "net_flows_by_channel": grouped(page.by_channel),
        "net_flows_by_channel_and_month": [
            {"month": row.month.strftime("%Y-%m"), "channel": row.channel.channel_name, "net_amount": row.net_amount}
            for row in page.by_channel_month
        ],
        "top_firms": grouped(page.top_firms),
        "top_products": grouped(page.top_products),
        "top_wholesalers": grouped(page.top_wholesalers),
        "revenue_by_product": product_revenue(page.revenue),
    }


def firm_page(page: q.FirmPage) -> dict:
    return {
        "firm": firm(page.firm),
        "range": days(page.days),
        "totals": totals(page.totals),
        "by_month": grouped(page.by_month),
        "top_advisors": grouped(page.top_advisors),
        "by_product": grouped(page.by_product),
        "revenue_by_month": month_revenue(page.revenue),
        "retention": retention(page.retention),
    }


def advisor_page(page: q.AdvisorPage) -> dict:
    return {
        "advisor": advisor(page.advisor),
        "range": days(page.days),
        "firm_history": [
            {"firm": firm(t.firm, full=False), "first_flow_date": t.first_flow_date,
             "last_flow_date": t.last_flow_date, "net_amount": t.net_amount, "flows": t.flows}
            for t in page.firm_history
        ],
        "assignments": [
            {"effective_date": a.effective_date, "firm": firm(a.firm, full=False),
             "territory_code": a.territory.territory_code}
            for a in page.assignments
        ],
        "moves": [
            {"from": before.crd_number, "to": after.crd_number, "from_date": when}
            for before, after, when in page.moves
        ],
        "totals": totals(page.totals),
        "by_month": grouped(page.by_month),
        "by_product": grouped(page.by_product),
        "wholesalers": grouped(page.wholesalers),
        "recent_flows": [flow(f) for f in page.recent_flows],
        "retention": retention(page.retention),
    }


def product_page(page: q.ProductPage) -> dict:
    return {
        "product": product(page.product),
        "range": days(page.days),
        "totals": totals(page.totals),
        "by_month": grouped(page.by_month),
        "by_channel": grouped(page.by_channel),
        "revenue_by_month": month_revenue(page.revenue),
        "retention": retention(page.retention),
    }


def wholesaler_page(page: q.WholesalerPage) -> dict:
    return {
        "wholesaler": wholesaler(page.wholesaler),
        "range": days(page.days),
        "totals": totals(page.totals),
        "sales_and_comp_by_month": [
            {
                "month": m.month.strftime("%Y-%m"),
                "gross_sales_amount": m.gross_sales_amount,
                "net_flow_amount": m.net_flow_amount,
                "comp": None if m.comp is None else {
                    "base_salary_amount": m.comp.base_salary_amount,
                    "gross_sales_amount": m.comp.gross_sales_amount,
                    "redemptions_amount": m.comp.redemptions_amount,
                    "net_flow_amount": m.comp.net_flow_amount,
                    "incentive_amount": m.comp.incentive_amount,
                    "total_comp_amount": m.comp.total_comp_amount,
                },
            }
            for m in page.sales_and_comp
        ],
        "expenses_by_category": [
            {"category": e.category.expense_category_name, "amount": e.amount, "items": e.items} for e in page.expenses
        ],
        "advisors": grouped(page.advisors),
    }


def flow_list(days_: q.DateRange, filters: q.FlowFilters, page: q.FlowPage, limit: int) -> dict:
    return {
        "range": days(days_),
        "filters": {k: v for k, v in vars(filters).items() if v is not None},
        "limit": limit,
        "flows": [flow(f) for f in page.flows],
        "next_after": page.next_after,
    }


# --------------------------------------------------------------------------- charts (Chart.js configurations)


def _number(value) -> float:
    return float(value or 0)


def channel_month_chart(rows: list[q.ChannelMonth]) -> dict:
    months = sorted({row.month for row in rows})
    channels: dict[str, dict] = {}
    for row in rows:
        series = channels.setdefault(row.channel.channel_name, {m: 0.0 for m in months})
        series[row.month] = _number(row.net_amount)
    return {
        "type": "bar",
        "stacked": True,
        "labels": [m.strftime("%Y-%m") for m in months],
        "datasets": [{"label": name, "data": list(series.values())} for name, series in channels.items()],
    }


def month_chart(rows: list[q.GroupedFlows], label: str = "Net flows (USD)") -> dict:
    return {
        "type": "bar",
        "labels": [member_name(row.member) for row in rows],
        "datasets": [
            {"label": label, "data": [_number(row.net_amount) for row in rows]},
            {"label": "Gross sales (USD)", "data": [_number(row.gross_amount) for row in rows]},
        ],
    }


def retention_chart(points: list[q.RetentionPoint]) -> dict:
    return {
        "type": "line",
        "labels": [f"{p.age_days} days" for p in points],
        "datasets": [{"label": "Retained (%)", "data": [_number(p.retention_pct) if p.purchases else None
                                                         for p in points]}],
        "percent": True,
    }


def sales_comp_chart(months: list[q.CompMonth]) -> dict:
    return {
        "type": "bar",
        "labels": [m.month.strftime("%Y-%m") for m in months],
        "datasets": [
            {"label": "Gross sales (USD)", "data": [_number(m.gross_sales_amount) for m in months]},
            {"label": "Net flows (USD)", "data": [_number(m.net_flow_amount) for m in months]},
            # Compensation is ~1/1000 of sales: on its own axis, on the right.
            {"label": "Total compensation (USD, right axis)", "type": "line", "yAxisID": "y2",
             "data": [_number(m.comp.total_comp_amount) if m.comp else None for m in months]},
        ],
    }
