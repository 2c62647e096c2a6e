"""The read queries behind the web pages (pipeline/web/): one function per question, through the ORM.

Every function takes a Session and returns plain dataclasses whose members are ORM objects with
the relationships the pages read already loaded (`joinedload`), and everything else set to raise
when touched (`raiseload("*")`): a template that reaches for a name the query did not load fails
in the tests instead of issuing one statement per row. Each question is one SQL statement; the page
functions at the end (`overview`, `firm_page`, ...) compose a fixed number of them, and read a range's
flows once for all their groupings (`flow_breakdown`, GROUPING SETS), so a page's statement count does
not depend on its rows.

Ranges are inclusive calendar days. Amounts are the warehouse's Decimals (USD). Net flows are
`net_amount` (signed by the transaction type); gross sales are the amounts of inflows
(`net_amount > 0`: purchases, exchanges and transfers in), redemptions the amounts of outflows,
as fact_wholesaler_comp counts them.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, raiseload

from pipeline.dist_perf_dw.facts.retention import RETENTION_AGES_DAYS
from pipeline.dist_perf_dw.models import (
    AdvisorAssignments,
    DimAdvisors,
    DimChannels,
    DimExpenseCategories,
    DimFirms,
    DimProducts,
    DimTerritories,
    DimWholesalers,
    FactAUMFlow,
    FactDistributionExpense,
    FactRetentionSnapshots,
    FactRevenue,
    FactWholesalerComp,
)

ZERO = Decimal("0.00")
DEFAULT_RANGE_DAYS = 31
MAX_PAGE_SIZE = 1000
FLOW_GROUPS = ("channel", "firm", "product", "wholesaler", "territory")

# What each kind of member needs loaded for the pages to name it: the spec's relationship paths.
FIRM_LOADED = (joinedload(DimFirms.firm_type), joinedload(DimFirms.channel), joinedload(DimFirms.region))
ADVISOR_LOADED = (
    joinedload(DimAdvisors.firm).joinedload(DimFirms.firm_type),
    joinedload(DimAdvisors.territory).joinedload(DimTerritories.region),
)
PRODUCT_LOADED = (joinedload(DimProducts.asset_class), joinedload(DimProducts.vehicle_type))
WHOLESALER_LOADED = (joinedload(DimWholesalers.territory).joinedload(DimTerritories.region),)
TERRITORY_LOADED = (joinedload(DimTerritories.region),)
FLOW_LOADED = (
    joinedload(FactAUMFlow.advisor).joinedload(DimAdvisors.firm).joinedload(DimFirms.firm_type),
    joinedload(FactAUMFlow.firm),
    joinedload(FactAUMFlow.product),
    joinedload(FactAUMFlow.channel),
    joinedload(FactAUMFlow.transaction_type),
    joinedload(FactAUMFlow.wholesaler),
)
NOTHING_ELSE = raiseload("*")


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date

    @property
    def months(self) -> tuple[dt.date, dt.date]:
        """The first days of the first and the last month the range touches."""
        return self.start.replace(day=1), self.end.replace(day=1)


@dataclass(frozen=True)
class FlowTotals:
    net_amount: Decimal
    gross_amount: Decimal
    redemptions_amount: Decimal
    flows: int


@dataclass(frozen=True)
class GroupedFlows:
    """Flows of one member of a group (a channel, firm, product, wholesaler, territory, advisor or month)."""

    member: Any
    net_amount: Decimal
    gross_amount: Decimal
    redemptions_amount: Decimal
    flows: int


@dataclass(frozen=True)
class ChannelMonth:
    month: dt.date
    channel: DimChannels
    net_amount: Decimal


@dataclass(frozen=True)
class ProductRevenue:
    product: DimProducts
    revenue_amount: Decimal
    estimated_amount: Decimal

    @property
    def is_estimate(self) -> bool:
        """Some of the revenue is still an estimate (its month's books are not closed)."""
        return self.estimated_amount != 0


@dataclass(frozen=True)
class MonthRevenue:
    month: dt.date
    revenue_amount: Decimal
    estimated_amount: Decimal

    @property
    def is_estimate(self) -> bool:
        return self.estimated_amount != 0


@dataclass(frozen=True)
class RetentionPoint:
    age_days: int
    original_amount: Decimal
    retained_amount: Decimal
    purchases: int

    @property
    def retention_pct(self) -> Decimal | None:
        if not self.original_amount:
            return None
        return (100 * self.retained_amount / self.original_amount).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class FirmTenure:
    """A stretch of an advisor's flows at one firm (facts keep the firm in force on their date)."""

    firm: DimFirms
    first_flow_date: dt.date
    last_flow_date: dt.date
    net_amount: Decimal
    flows: int


@dataclass(frozen=True)
class CompMonth:
    month: dt.date
    gross_sales_amount: Decimal
    net_flow_amount: Decimal
    comp: FactWholesalerComp | None


@dataclass(frozen=True)
class ExpenseByCategory:
    category: DimExpenseCategories
    amount: Decimal
    items: int


@dataclass(frozen=True)
class FlowPage:
    flows: list[FactAUMFlow]
    next_after: int | None


@dataclass(frozen=True)
class FlowFilters:
    """Codes as the pages take them; None = no filter."""

    channel: str | None = None
    territory: str | None = None
    product: str | None = None
    firm: str | None = None
    advisor: str | None = None
    wholesaler: str | None = None


@dataclass(frozen=True)
class FilterOption:
    kind: str
    code: str
    name: str


@dataclass
class FilterOptions:
    """The codes a flow list can be filtered by, read in one statement."""

    by_kind: dict[str, list[FilterOption]] = field(default_factory=dict)

    def codes(self, kind: str) -> list[str]:
        return [option.code for option in self.by_kind.get(kind, [])]


# --------------------------------------------------------------------------- building blocks

_NET = sa.func.coalesce(sa.func.sum(FactAUMFlow.net_amount), ZERO)
_GROSS = sa.func.coalesce(sa.func.sum(FactAUMFlow.amount).filter(FactAUMFlow.net_amount > 0), ZERO)
_REDEEMED = sa.func.coalesce(sa.func.sum(FactAUMFlow.amount).filter(FactAUMFlow.net_amount < 0), ZERO)
_COUNT = sa.func.count(FactAUMFlow.flow_id)


def _measures() -> list:
    return [_NET.label("net_amount"), _GROSS.label("gross_amount"), _REDEEMED.label("redemptions_amount"),
            _COUNT.label("flows")]


def _in_range(column, days: DateRange):
    return column.between(days.start, days.end)


def _month(column):
    return sa.cast(sa.func.date_trunc("month", column), sa.Date)


def product_key_filter(key: str):
    """A product by CUSIP (when the ORM has the column), by ticker (any case), or by its id (digits)."""
    conditions = [sa.func.upper(DimProducts.ticker) == key.upper()]
    cusip = getattr(DimProducts, "cusip", None)
    if cusip is not None:
        conditions.append(sa.func.upper(cusip) == key.upper())
    if key.isdigit() and len(key) < 9:  # shorter than a CUSIP
        conditions.append(DimProducts.product_id == int(key))
    return sa.or_(*conditions)


def product_key(product: DimProducts) -> str:
    """How the pages address a product: its ticker, else its CUSIP, else its id."""
    return product.ticker or getattr(product, "cusip", None) or str(product.product_id)


# --------------------------------------------------------------------------- ranges


def latest_flow_date(session: Session) -> dt.date | None:
    return session.scalar(sa.select(sa.func.max(FactAUMFlow.flow_date)))


def default_range(latest: dt.date | None, today: dt.date) -> DateRange:
    """The last DEFAULT_RANGE_DAYS days up to the latest loaded flow (today when nothing is loaded)."""
    end = latest or today
    start = dt.date.min + dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)  # the earliest end with a whole window
    return DateRange(max(end, start) - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1), end)


# --------------------------------------------------------------------------- overview and groups


def flow_totals(session: Session, days: DateRange, **where) -> FlowTotals:
    statement = sa.select(*_measures()).where(_in_range(FactAUMFlow.flow_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactAUMFlow, column) == value)
    row = session.execute(statement).one()
    return FlowTotals(row.net_amount, row.gross_amount, row.redemptions_amount, row.flows)


# group name -> (the member's class, the fact column to group by, the member's key, loader options)
_GROUPS = {
    "channel": (DimChannels, FactAUMFlow.channel_id, DimChannels.channel_id, ()),
    "firm": (DimFirms, FactAUMFlow.firm_id, DimFirms.firm_id, FIRM_LOADED),
    "product": (DimProducts, FactAUMFlow.product_id, DimProducts.product_id, PRODUCT_LOADED),
    "wholesaler": (DimWholesalers, FactAUMFlow.wholesaler_id, DimWholesalers.wholesaler_id, WHOLESALER_LOADED),
    "advisor": (DimAdvisors, FactAUMFlow.advisor_id, DimAdvisors.advisor_id, ADVISOR_LOADED),
}


def flows_by(
    session: Session,
    days: DateRange,
    group: str,
    limit: int | None = None,
    ascending: bool = False,
    **where,
) -> list[GroupedFlows]:
    """Net flows, gross sales, redemptions and flow count per member of `group` (one of FLOW_GROUPS,
    or advisor), largest net flows first; `where` restricts the flows (fact column = value).
    Territory is the territory of the wholesaler the flow is attributed to."""
    if group == "territory":
        member_class, key, member_key, loaded = DimTerritories, DimWholesalers.territory_id, (
            DimTerritories.territory_id
        ), TERRITORY_LOADED
    else:
        member_class, key, member_key, loaded = _GROUPS[group]
    statement = sa.select(key.label("member_id"), *_measures()).where(_in_range(FactAUMFlow.flow_date, days))
    if group == "territory":
        statement = statement.join(DimWholesalers, DimWholesalers.wholesaler_id == FactAUMFlow.wholesaler_id)
    for column, value in where.items():
        statement = statement.where(getattr(FactAUMFlow, column) == value)
    grouped = statement.group_by(key).subquery()
    order = grouped.c.net_amount.asc() if ascending else grouped.c.net_amount.desc()
    query = (
        sa.select(member_class, grouped.c.net_amount, grouped.c.gross_amount, grouped.c.redemptions_amount,
                  grouped.c.flows)
        .join(grouped, grouped.c.member_id == member_key)
        .options(*loaded, NOTHING_ELSE)
        .order_by(order, member_key)
    )
    if limit is not None:
        query = query.limit(limit)
    return [GroupedFlows(*row) for row in session.execute(query).all()]


def flows_by_month(session: Session, days: DateRange, **where) -> list[GroupedFlows]:
    """Net flows, gross sales, redemptions and count per calendar month (member = the month's first day)."""
    month = _month(FactAUMFlow.flow_date).label("month")
    statement = sa.select(month, *_measures()).where(_in_range(FactAUMFlow.flow_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactAUMFlow, column) == value)
    rows = session.execute(statement.group_by(month).order_by(month)).all()
    return [GroupedFlows(*row) for row in rows]


def revenue_by_product(session: Session, days: DateRange, **where) -> list[ProductRevenue]:
    """Revenue per product over the range, largest first, with the part still estimated."""
    revenue = sa.func.sum(FactRevenue.revenue_amount)
    estimated = sa.func.coalesce(sa.func.sum(FactRevenue.revenue_amount).filter(FactRevenue.is_estimate), ZERO)
    statement = sa.select(
        FactRevenue.product_id, revenue.label("revenue"), estimated.label("estimated")
    ).where(_in_range(FactRevenue.revenue_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactRevenue, column) == value)
    grouped = statement.group_by(FactRevenue.product_id).subquery()
    rows = session.execute(
        sa.select(DimProducts, grouped.c.revenue, grouped.c.estimated)
        .join(grouped, grouped.c.product_id == DimProducts.product_id)
        .options(*PRODUCT_LOADED, NOTHING_ELSE)
        .order_by(grouped.c.revenue.desc(), DimProducts.product_id)
    ).all()
    return [ProductRevenue(*row) for row in rows]


def revenue_by_month(session: Session, days: DateRange, **where) -> list[MonthRevenue]:
    month = _month(FactRevenue.revenue_date).label("month")
    statement = sa.select(
        month,
        sa.func.sum(FactRevenue.revenue_amount),
        sa.func.coalesce(sa.func.sum(FactRevenue.revenue_amount).filter(FactRevenue.is_estimate), ZERO),
    ).where(_in_range(FactRevenue.revenue_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactRevenue, column) == value)
    rows = session.execute(statement.group_by(month).order_by(month)).all()
    return [MonthRevenue(*row) for row in rows]


def retention_curve(session: Session, days: DateRange, **where) -> list[RetentionPoint]:
    """Share of purchases still held 30/90/180/365 days after they were made, over the snapshots taken
    in the range; every age appears, with zero purchases when no snapshot of it was taken."""
    statement = sa.select(
        FactRetentionSnapshots.age_days,
        sa.func.sum(FactRetentionSnapshots.original_amount),
        sa.func.sum(FactRetentionSnapshots.retained_amount),
        sa.func.count(),
    ).where(_in_range(FactRetentionSnapshots.snapshot_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactRetentionSnapshots, column) == value)
    found = {row[0]: row for row in session.execute(statement.group_by(FactRetentionSnapshots.age_days)).all()}
    return [
        RetentionPoint(age, *found[age][1:]) if age in found else RetentionPoint(age, ZERO, ZERO, 0)
        for age in RETENTION_AGES_DAYS
    ]


# --------------------------------------------------------------------------- members


def firm_by_crd(session: Session, crd: str) -> DimFirms | None:
    return session.scalars(
        sa.select(DimFirms).where(DimFirms.crd_number == crd).options(*FIRM_LOADED, NOTHING_ELSE)
    ).one_or_none()


def advisor_by_crd(session: Session, crd: str) -> DimAdvisors | None:
    return session.scalars(
        sa.select(DimAdvisors).where(DimAdvisors.crd_number == crd).options(*ADVISOR_LOADED, NOTHING_ELSE)
    ).one_or_none()


def product_by_key(session: Session, key: str) -> DimProducts | None:
    return session.scalars(
        sa.select(DimProducts).where(product_key_filter(key)).options(*PRODUCT_LOADED, NOTHING_ELSE)
        .order_by(DimProducts.product_id).limit(1)
    ).one_or_none()


def wholesaler_by_code(session: Session, code: str) -> DimWholesalers | None:
    return session.scalars(
        sa.select(DimWholesalers).where(DimWholesalers.employee_code == code)
        .options(*WHOLESALER_LOADED, NOTHING_ELSE)
    ).one_or_none()


def firm_history(session: Session, advisor_id: int) -> list[FirmTenure]:
    """The firms an advisor's flows were booked at, in the order the advisor was there: a move is a
    stretch at a new firm. From all loaded flows, not a range: a move is history."""
    stretches = (
        sa.select(
            FactAUMFlow.firm_id,
            sa.func.min(FactAUMFlow.flow_date).label("first_flow_date"),
            sa.func.max(FactAUMFlow.flow_date).label("last_flow_date"),
            _NET.label("net_amount"),
            _COUNT.label("flows"),
        )
        .where(FactAUMFlow.advisor_id == advisor_id)
        .group_by(FactAUMFlow.firm_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(DimFirms, stretches.c.first_flow_date, stretches.c.last_flow_date, stretches.c.net_amount,
                  stretches.c.flows)
        .join(stretches, stretches.c.firm_id == DimFirms.firm_id)
        .options(*FIRM_LOADED, NOTHING_ELSE)
        .order_by(stretches.c.first_flow_date)
    ).all()
    return [FirmTenure(*row) for row in rows]


def advisor_assignments(session: Session, advisor_id: int) -> list[AdvisorAssignments]:
    """The advisor master's effective-dated firm and territory assignments (landed data; the synthetic
    world has none), oldest first."""
    return list(session.scalars(
        sa.select(AdvisorAssignments)
        .where(AdvisorAssignments.advisor_id == advisor_id)
        .options(joinedload(AdvisorAssignments.firm).joinedload(DimFirms.firm_type),
                 joinedload(AdvisorAssignments.territory), NOTHING_ELSE)
        .order_by(AdvisorAssignments.effective_date)
    ))


def recent_flows(session: Session, days: DateRange, limit: int, **where) -> list[FactAUMFlow]:
    statement = sa.select(FactAUMFlow).where(_in_range(FactAUMFlow.flow_date, days))
    for column, value in where.items():
        statement = statement.where(getattr(FactAUMFlow, column) == value)
    statement = statement.options(*FLOW_LOADED, NOTHING_ELSE).order_by(FactAUMFlow.flow_id.desc()).limit(limit)
    return list(session.scalars(statement).unique())


def sales_and_comp_by_month(
    session: Session, days: DateRange, wholesaler_id: int, sales: list[GroupedFlows]
) -> list[CompMonth]:
    """Per month the range touches: the wholesaler's gross sales and net flows in the range (`sales`, from
    flow_breakdown's months), next to the month's compensation row (None while the month is not loaded)."""
    first, last = days.months
    comp = {
        row.comp_month: row
        for row in session.scalars(
            sa.select(FactWholesalerComp)
            .where(FactWholesalerComp.wholesaler_id == wholesaler_id,
                   FactWholesalerComp.comp_month.between(first, last))
            .options(NOTHING_ELSE)
        )
    }
    by_month = {row.member: row for row in sales}
    return [
        CompMonth(month, by_month[month].gross_amount if month in by_month else ZERO,
                  by_month[month].net_amount if month in by_month else ZERO, comp.get(month))
        for month in sorted(set(by_month) | set(comp))
    ]


def expenses_by_category(session: Session, days: DateRange, wholesaler_id: int) -> list[ExpenseByCategory]:
    grouped = (
        sa.select(
            FactDistributionExpense.expense_category_id,
            sa.func.sum(FactDistributionExpense.amount).label("amount"),
            sa.func.count().label("item_count"),
        )
        .where(_in_range(FactDistributionExpense.expense_date, days),
               FactDistributionExpense.wholesaler_id == wholesaler_id)
        .group_by(FactDistributionExpense.expense_category_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(DimExpenseCategories, grouped.c.amount, grouped.c.item_count)
        .join(grouped, grouped.c.expense_category_id == DimExpenseCategories.expense_category_id)
        .options(NOTHING_ELSE)
        .order_by(grouped.c.amount.desc())
    ).all()
    return [ExpenseByCategory(*row) for row in rows]


# --------------------------------------------------------------------------- the flow list


def filter_options(session: Session) -> FilterOptions:
    """Channel, territory and product codes with their names, in one statement."""
    product_code = sa.func.coalesce(DimProducts.ticker, sa.cast(DimProducts.product_id, sa.Text))
    union = sa.union_all(
        sa.select(sa.literal("channel"), DimChannels.channel_code, DimChannels.channel_name, DimChannels.channel_id),
        sa.select(sa.literal("territory"), DimTerritories.territory_code, DimTerritories.territory_name,
                  DimTerritories.territory_id),
        sa.select(sa.literal("product"), product_code, DimProducts.product_name, DimProducts.product_id),
    ).subquery()
    options = FilterOptions()
    for kind, code, name, _ in session.execute(sa.select(union).order_by(*union.c)).all():
        options.by_kind.setdefault(kind, []).append(FilterOption(kind, code, name))
    return options


def flow_page(
    session: Session, days: DateRange, filters: FlowFilters, limit: int, after: int | None = None
) -> FlowPage:
    """Flows of the range, newest first, `limit` at a time: keyset pagination on flow_id (which grows with
    the date), so page N costs what page 1 costs. `after` is the last flow_id of the previous page."""
    statement = sa.select(FactAUMFlow).where(_in_range(FactAUMFlow.flow_date, days))
    if after is not None:
        statement = statement.where(FactAUMFlow.flow_id < after)
    if filters.channel:
        statement = statement.where(
            FactAUMFlow.channel_id == sa.select(DimChannels.channel_id)
            .where(DimChannels.channel_code == filters.channel).scalar_subquery()
        )
    if filters.territory:
        statement = statement.where(
            FactAUMFlow.wholesaler_id.in_(
                sa.select(DimWholesalers.wholesaler_id).join(DimWholesalers.territory)
                .where(DimTerritories.territory_code == filters.territory)
            )
        )
    if filters.product:
        statement = statement.where(
            FactAUMFlow.product_id.in_(sa.select(DimProducts.product_id).where(product_key_filter(filters.product)))
        )
    if filters.firm:
        statement = statement.where(
            FactAUMFlow.firm_id.in_(sa.select(DimFirms.firm_id).where(DimFirms.crd_number == filters.firm))
        )
    if filters.advisor:
        statement = statement.where(
            FactAUMFlow.advisor_id.in_(
                sa.select(DimAdvisors.advisor_id).where(DimAdvisors.crd_number == filters.advisor)
            )
        )
    if filters.wholesaler:
        statement = statement.where(
            FactAUMFlow.wholesaler_id.in_(
                sa.select(DimWholesalers.wholesaler_id).where(DimWholesalers.employee_code == filters.wholesaler)
            )
        )
    statement = statement.options(*FLOW_LOADED, NOTHING_ELSE).order_by(FactAUMFlow.flow_id.desc()).limit(limit + 1)
    flows = list(session.scalars(statement).unique())
    more = len(flows) > limit
    flows = flows[:limit]
    return FlowPage(flows, flows[-1].flow_id if more else None)


# --------------------------------------------------------------------------- one scan, several groupings

_BREAKDOWN_KEYS = {
    "month": lambda: _month(FactAUMFlow.flow_date),
    "advisor": lambda: FactAUMFlow.advisor_id,
    "product": lambda: FactAUMFlow.product_id,
    "channel": lambda: FactAUMFlow.channel_id,
}
# group -> (the member's class, its key, what its page names need loaded); months are their own members
_BREAKDOWN_MEMBERS = {
    "advisor": (DimAdvisors, DimAdvisors.advisor_id, ADVISOR_LOADED),
    "product": (DimProducts, DimProducts.product_id, PRODUCT_LOADED),
    "channel": (DimChannels, DimChannels.channel_id, ()),
}


@dataclass(frozen=True)
class Breakdown:
    totals: FlowTotals
    groups: dict[str, list[GroupedFlows]]


def flow_breakdown(
    session: Session, days: DateRange, groups: tuple[str, ...], limits: dict[str, int] | None = None, **where
) -> Breakdown:
    """The range's flows (restricted by `where`: fact column = value) read once and grouped several ways
    (GROUPING SETS): the totals and, per group of `groups` (month, advisor, product, channel), each member's
    net flows, gross sales, redemptions and count, largest net flows first (months in order), cut to
    `limits[group]`. Members come in one statement per dimension: 1 + len(groups without month) statements."""
    keys = [_BREAKDOWN_KEYS[group]() for group in groups]
    sets = sa.func.grouping_sets(sa.literal_column("()"), *(sa.tuple_(key) for key in keys))
    statement = sa.select(sa.func.grouping(*keys).label("grouping_set"), *keys, *_measures()).where(
        _in_range(FactAUMFlow.flow_date, days)
    )
    for column, value in where.items():
        statement = statement.where(getattr(FactAUMFlow, column) == value)
    rows = session.execute(statement.group_by(sets)).all()
    every = (1 << len(keys)) - 1
    totals = FlowTotals(ZERO, ZERO, ZERO, 0)
    found: dict[str, list] = {group: [] for group in groups}
    for row in rows:
        if row.grouping_set == every:
            totals = FlowTotals(row.net_amount, row.gross_amount, row.redemptions_amount, row.flows)
            continue
        for i, group in enumerate(groups):
            if row.grouping_set == every ^ (1 << (len(keys) - 1 - i)):
                found[group].append((row[1 + i], row))
    limits = limits or {}
    result = {}
    for group, members in found.items():
        if group == "month":
            ranked = sorted(members, key=lambda m: m[0])
            named = {key: key for key, _ in ranked}
        else:
            ranked = sorted(members, key=lambda m: (-m[1].net_amount, m[0]))[: limits.get(group)]
            cls, key_column, loaded = _BREAKDOWN_MEMBERS[group]
            ids = [key for key, _ in ranked]
            # Asked even for no ids: a page's statement count does not depend on its rows.
            named = {
                getattr(member, key_column.key): member
                for member in session.scalars(
                    sa.select(cls).where(key_column.in_(ids)).options(*loaded, NOTHING_ELSE)
                )
            }
        result[group] = [
            GroupedFlows(named[key], row.net_amount, row.gross_amount, row.redemptions_amount, row.flows)
            for key, row in ranked
        ]
    return Breakdown(totals, result)


# --------------------------------------------------------------------------- pages: what each web page shows

TOP = 10


@dataclass(frozen=True)
class Overview:
    days: DateRange
    totals: FlowTotals
    by_channel: list[GroupedFlows]
    by_channel_month: list[ChannelMonth]
    top_firms: list[GroupedFlows]
    top_products: list[GroupedFlows]
    top_wholesalers: list[GroupedFlows]
    revenue: list[ProductRevenue]


# GROUPING(channel, month, firm, product, wholesaler) of each grouping set of the overview's one scan:
# a bit is 1 where the column is aggregated over (the leftmost column is the highest bit).
_OVERVIEW_SETS = {"total": 0b11111, "channel": 0b01111, "channel_month": 0b00111, "firm": 0b11011,
                  "product": 0b11101, "wholesaler": 0b11110}


def overview(session: Session, days: DateRange) -> Overview:
    """The distribution overview of a range in 6 statements: the range's flows are read once, summed per
    (channel, month, firm, product, wholesaler), and those few thousand sums grouped six ways at once
    (GROUPING SETS: 1.6-2 x faster than grouping every flow six ways, the numeric additions being the
    cost); the members named come in one statement per dimension, then revenue by product."""
    fine_keys = (FactAUMFlow.channel_id, _month(FactAUMFlow.flow_date).label("month"), FactAUMFlow.firm_id,
                 FactAUMFlow.product_id, FactAUMFlow.wholesaler_id)
    fine = (
        sa.select(*fine_keys, *_measures())
        .where(_in_range(FactAUMFlow.flow_date, days))
        .group_by(*fine_keys)
        .subquery("fine")
    )
    keys = (fine.c.channel_id, fine.c.month, fine.c.firm_id, fine.c.product_id, fine.c.wholesaler_id)
    channel, month, firm, product, wholesaler = keys
    sets = sa.func.grouping_sets(
        sa.literal_column("()"), sa.tuple_(channel), sa.tuple_(channel, month), sa.tuple_(firm),
        sa.tuple_(product), sa.tuple_(wholesaler),
    )
    rows = session.execute(
        sa.select(
            sa.func.grouping(*keys).label("grouping_set"),
            *keys,
            # The grand total of no flows is one row of NULL sums: zeros, as flow_totals answers.
            sa.func.coalesce(sa.func.sum(fine.c.net_amount), ZERO).label("net_amount"),
            sa.func.coalesce(sa.func.sum(fine.c.gross_amount), ZERO).label("gross_amount"),
            sa.func.coalesce(sa.func.sum(fine.c.redemptions_amount), ZERO).label("redemptions_amount"),
            sa.cast(sa.func.coalesce(sa.func.sum(fine.c.flows), 0), sa.BigInteger).label("flows"),
        ).group_by(sets)
    ).all()
    by_set: dict[int, list] = {}
    for row in rows:
        by_set.setdefault(row[0], []).append(row)

    def top(name: str, column: int, limit: int | None) -> list:
        ranked = sorted(by_set.get(_OVERVIEW_SETS[name], []), key=lambda r: (-r.net_amount, r[column]))
        return ranked[:limit] if limit else ranked

    def members(cls, key, loaded, ids) -> dict:
        found = session.scalars(sa.select(cls).where(key.in_(ids)).options(*loaded, NOTHING_ELSE))
        return {getattr(member, key.key): member for member in found}

    def grouped(ranked: list, column: int, named: dict) -> list[GroupedFlows]:
        return [GroupedFlows(named[r[column]], r.net_amount, r.gross_amount, r.redemptions_amount, r.flows)
                for r in ranked]

    firms, products, wholesalers = top("firm", 3, TOP), top("product", 4, TOP), top("wholesaler", 5, TOP)
    channels = members(DimChannels, DimChannels.channel_id, (), [r[1] for r in top("channel", 1, None)])
    total = by_set.get(_OVERVIEW_SETS["total"])
    return Overview(
        days=days,
        totals=FlowTotals(total[0].net_amount, total[0].gross_amount, total[0].redemptions_amount, total[0].flows)
        if total else FlowTotals(ZERO, ZERO, ZERO, 0),
        by_channel=grouped(top("channel", 1, None), 1, channels),
        by_channel_month=[
            ChannelMonth(r[2], channels[r[1]], r.net_amount)
            for r in sorted(by_set.get(_OVERVIEW_SETS["channel_month"], []), key=lambda r: (r[2], r[1]))
        ],
        top_firms=grouped(firms, 3, members(DimFirms, DimFirms.firm_id, FIRM_LOADED, [r[3] for r in firms])),
        top_products=grouped(
            products, 4, members(DimProducts, DimProducts.product_id, PRODUCT_LOADED, [r[4] for r in products])
        ),
        top_wholesalers=grouped(
            wholesalers, 5,
            members(DimWholesalers, DimWholesalers.wholesaler_id, WHOLESALER_LOADED, [r[5] for r in wholesalers]),
        ),
        revenue=revenue_by_product(session, days),
    )


@dataclass(frozen=True)
class FirmPage:
    firm: DimFirms
    days: DateRange
    totals: FlowTotals
    by_month: list[GroupedFlows]
    top_advisors: list[GroupedFlows]
    by_product: list[GroupedFlows]
    revenue: list[MonthRevenue]
    retention: list[RetentionPoint]


def firm_page(session: Session, crd: str, days: DateRange) -> FirmPage | None:
    firm = firm_by_crd(session, crd)
    if firm is None:
        return None
    flows = flow_breakdown(session, days, ("month", "advisor", "product"), {"advisor": 25}, firm_id=firm.firm_id)
    return FirmPage(
        firm=firm,
        days=days,
        totals=flows.totals,
        by_month=flows.groups["month"],
        top_advisors=flows.groups["advisor"],
        by_product=flows.groups["product"],
        revenue=revenue_by_month(session, days, firm_id=firm.firm_id),
        retention=_firm_retention(session, days, firm.firm_id),
    )


def _firm_retention(session: Session, days: DateRange, firm_id: int) -> list[RetentionPoint]:
    # Snapshots carry the advisor, not the firm: the firm's advisors' purchases.
    advisors = sa.select(DimAdvisors.advisor_id).where(DimAdvisors.firm_id == firm_id)
    statement = sa.select(
        FactRetentionSnapshots.age_days,
        sa.func.sum(FactRetentionSnapshots.original_amount),
        sa.func.sum(FactRetentionSnapshots.retained_amount),
        sa.func.count(),
    ).where(_in_range(FactRetentionSnapshots.snapshot_date, days), FactRetentionSnapshots.advisor_id.in_(advisors))
    found = {row[0]: row for row in session.execute(statement.group_by(FactRetentionSnapshots.age_days)).all()}
    return [
        RetentionPoint(age, *found[age][1:]) if age in found else RetentionPoint(age, ZERO, ZERO, 0)
        for age in RETENTION_AGES_DAYS
    ]


@dataclass(frozen=True)
class AdvisorPage:
    advisor: DimAdvisors
    days: DateRange
    assignments: list[AdvisorAssignments]
    firm_history: list[FirmTenure]
    totals: FlowTotals
    by_month: list[GroupedFlows]
    by_product: list[GroupedFlows]
    wholesalers: list[GroupedFlows]
    recent_flows: list[FactAUMFlow]
    retention: list[RetentionPoint]

    @property
    def moves(self) -> list[tuple[DimFirms, DimFirms, dt.date]]:
        """(from firm, to firm, from when) for each change of firm: from the master's assignments where it
        has them, else from the firm the flows were booked at."""
        if self.assignments:
            steps = [(a.firm, a.effective_date) for a in self.assignments]
        else:
            steps = [(t.firm, t.first_flow_date) for t in self.firm_history]
        return [
            (before[0], after[0], after[1])
            for before, after in zip(steps, steps[1:])
            if before[0].firm_id != after[0].firm_id
        ]


def advisor_page(session: Session, crd: str, days: DateRange) -> AdvisorPage | None:
    advisor = advisor_by_crd(session, crd)
    if advisor is None:
        return None
    me = {"advisor_id": advisor.advisor_id}
    return AdvisorPage(
        advisor=advisor,
        days=days,
        assignments=advisor_assignments(session, advisor.advisor_id),
        firm_history=firm_history(session, advisor.advisor_id),
        totals=flow_totals(session, days, **me),
        by_month=flows_by_month(session, days, **me),
        by_product=flows_by(session, days, "product", **me),
        wholesalers=flows_by(session, days, "wholesaler", **me),
        recent_flows=recent_flows(session, days, 25, **me),
        retention=retention_curve(session, days, **me),
    )


@dataclass(frozen=True)
class ProductPage:
    product: DimProducts
    days: DateRange
    totals: FlowTotals
    by_month: list[GroupedFlows]
    by_channel: list[GroupedFlows]
    revenue: list[MonthRevenue]
    retention: list[RetentionPoint]


def product_page(session: Session, key: str, days: DateRange) -> ProductPage | None:
    product = product_by_key(session, key)
    if product is None:
        return None
    me = {"product_id": product.product_id}
    flows = flow_breakdown(session, days, ("month", "channel"), **me)
    return ProductPage(
        product=product,
        days=days,
        totals=flows.totals,
        by_month=flows.groups["month"],
        by_channel=flows.groups["channel"],
        revenue=revenue_by_month(session, days, **me),
        retention=retention_curve(session, days, **me),
    )


@dataclass(frozen=True)
class WholesalerPage:
    wholesaler: DimWholesalers
    days: DateRange
    totals: FlowTotals
    sales_and_comp: list[CompMonth]
    expenses: list[ExpenseByCategory]
    advisors: list[GroupedFlows]


def wholesaler_page(session: Session, code: str, days: DateRange) -> WholesalerPage | None:
    wholesaler = wholesaler_by_code(session, code)
    if wholesaler is None:
        return None
    flows = flow_breakdown(session, days, ("month", "advisor"), wholesaler_id=wholesaler.wholesaler_id)
    return WholesalerPage(
        wholesaler=wholesaler,
        days=days,
        totals=flows.totals,
        sales_and_comp=sales_and_comp_by_month(session, days, wholesaler.wholesaler_id, flows.groups["month"]),
        expenses=expenses_by_category(session, days, wholesaler.wholesaler_id),
        advisors=flows.groups["advisor"],
    )
