"""A few business answers from dist_perf_dw, read through the ORM (used by the demo)."""

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pipeline.dist_perf_dw.models import (
    DimChannels,
    DimProducts,
    DimWholesalers,
    FactAUMFlow,
    FactRevenue,
    FactWholesalerComp,
)


def _usd(value: Decimal | float | None) -> str:
    return f"{float(value or 0):>18,.2f}"


def net_flows_by_channel(session: Session, days: list[dt.date]):
    return (
        session.query(DimChannels.channel_name, sa.func.sum(FactAUMFlow.net_amount), sa.func.count())
        .join(FactAUMFlow.channel)
        .filter(FactAUMFlow.flow_date.in_(days))
        .group_by(DimChannels.channel_name)
        .order_by(sa.func.sum(FactAUMFlow.net_amount).desc())
        .all()
    )


def revenue_by_product(session: Session, days: list[dt.date], limit: int = 10):
    revenue = sa.func.sum(FactRevenue.revenue_amount)
    return (
        session.query(DimProducts.product_name, DimProducts.ticker, FactRevenue.is_estimate, revenue)
        .join(FactRevenue.product)
        .filter(FactRevenue.revenue_date.in_(days))
        .group_by(DimProducts.product_name, DimProducts.ticker, FactRevenue.is_estimate)
        .order_by(revenue.desc())
        .limit(limit)
        .all()
    )


def top_wholesalers(session: Session, days: list[dt.date], months: list[dt.date], limit: int = 5):
    """Net sales over the days next to compensation for `months`."""
    net_sales = (
        session.query(FactAUMFlow.wholesaler_id, sa.func.sum(FactAUMFlow.net_amount).label("net_sales"))
        .filter(FactAUMFlow.flow_date.in_(days))
        .group_by(FactAUMFlow.wholesaler_id)
        .subquery()
    )
    comp = (
        session.query(FactWholesalerComp.wholesaler_id, sa.func.sum(FactWholesalerComp.total_comp_amount).label("comp"))
        .filter(FactWholesalerComp.comp_month.in_(months))
        .group_by(FactWholesalerComp.wholesaler_id)
        .subquery()
    )
    return (
        session.query(DimWholesalers.wholesaler_name, DimWholesalers.team_name, net_sales.c.net_sales, comp.c.comp)
        .join(net_sales, net_sales.c.wholesaler_id == DimWholesalers.wholesaler_id)
        .outerjoin(comp, comp.c.wholesaler_id == DimWholesalers.wholesaler_id)
        .order_by(net_sales.c.net_sales.desc())
        .limit(limit)
        .all()
    )


def print_dist_perf_dw_report(
    engine: sa.Engine, partition_keys: list[str], comp_months: list[str] | None = None
) -> None:
    """The answers over the days of `partition_keys`; compensation for `comp_months` (monthly partition
    keys; default: the months of the days). A month is a partition only once it is over, so the demo
    passes the months it loaded, which may be the month before its days."""
    days = [dt.date.fromisoformat(key) for key in partition_keys]
    if comp_months is None:
        months = sorted({day.replace(day=1) for day in days})
    else:
        months = sorted(dt.date.fromisoformat(key) for key in comp_months)
    span = f"{min(days)} .. {max(days)}" if days else "no days"
    with Session(engine) as session:
        print(f"\ndist_perf_dw — {span}")

        print("\nNet flows by channel (USD)")
        for channel, net, flows in net_flows_by_channel(session, days):
            print(f"  {channel:<32}{_usd(net)}   {flows:>7,} flows")

        print("\nRevenue by product, top 10 (USD; * = estimate, month not yet closed)")
        for name, ticker, is_estimate, revenue in revenue_by_product(session, days):
            flag = "*" if is_estimate else " "
            print(f"  {name:<42}{ticker or '':<7}{_usd(revenue)} {flag}")

        month_names = ", ".join(f"{month:%Y-%m}" for month in months)
        print(f"\nTop wholesalers: net sales over the days vs compensation for {month_names} (USD)")
        for name, team, net_sales, comp in top_wholesalers(session, days, months):
            comp_text = _usd(comp) if comp is not None else f"{'none loaded':>18}"
            print(f"  {name:<22}{team:<18}{_usd(net_sales)}  comp {comp_text}")
