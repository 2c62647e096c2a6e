"""SQLAlchemy ORM for the PostgreSQL schema `dist_perf_dw` (spec: dist_perf_dw-orm-reference.md).

ddl/postgres/ is the source of truth; these classes mirror it column for column
(a test compares them against a database built from the DDL). The ORM is for
reads and analysis; facts are bulk-loaded with COPY, never through the ORM.
Each class's docstring names the business object of its table, once: the
Dagster assets use it as their description (`tables.py` derives the rest).

Relationships are one-way (no back_populates) and name their target class as a
string, so classes can be declared in any order:

    session.query(FactRevenue).filter(FactRevenue.is_estimate == False)
    flow.product.product_name
    advisor.firm.firm_type.firm_type_name
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, MetaData, Numeric, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA = "dist_perf_dw"


def _fk(table_column: str) -> ForeignKey:
    return ForeignKey(f"{SCHEMA}.{table_column}")


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


# --------------------------------------------------------------------------- dimensions


class DimDates(Base):
    """Calendar days from 2020 to ten years past the current year, with year/quarter/month/week parts
    and month-end, quarter-end, NYSE holiday and business-day flags."""

    __tablename__ = "dim_dates"

    calendar_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    date_key: Mapped[int] = mapped_column(Integer, unique=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    month_name: Mapped[str] = mapped_column(Text)
    day_of_month: Mapped[int] = mapped_column(Integer)
    day_of_year: Mapped[int] = mapped_column(Integer)
    day_of_week: Mapped[int] = mapped_column(Integer)
    weekday_name: Mapped[str] = mapped_column(Text)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    year_month: Mapped[str] = mapped_column(Text)
    year_quarter: Mapped[str] = mapped_column(Text)
    month_start_date: Mapped[dt.date] = mapped_column(Date)
    is_weekend: Mapped[bool] = mapped_column(Boolean)
    is_month_end: Mapped[bool] = mapped_column(Boolean)
    is_quarter_end: Mapped[bool] = mapped_column(Boolean)
    is_year_end: Mapped[bool] = mapped_column(Boolean)
    is_holiday: Mapped[bool] = mapped_column(Boolean)
    holiday_name: Mapped[str | None] = mapped_column(Text)
    is_business_day: Mapped[bool] = mapped_column(Boolean)


class DimRegions(Base):
    """Geographic sales regions of the US."""

    __tablename__ = "dim_regions"

    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(Text, unique=True)
    region_name: Mapped[str] = mapped_column(Text)


class DimChannels(Base):
    """Distribution channels: wirehouse, independent BD, RIA, bank trust, insurance."""

    __tablename__ = "dim_channels"

    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_code: Mapped[str] = mapped_column(Text, unique=True)
    channel_name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)


class DimFirmTypes(Base):
    """Kinds of advisory firm and the channel each sells through."""

    __tablename__ = "dim_firm_types"

    firm_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_type_code: Mapped[str] = mapped_column(Text, unique=True)
    firm_type_name: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"))

    channel: Mapped["DimChannels"] = relationship("DimChannels")


class DimFirms(Base):
    """Advisory firms (broker-dealers, RIAs, banks) selling our products, with firm type, channel and region."""

    __tablename__ = "dim_firms"

    firm_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_name: Mapped[str] = mapped_column(Text)
    crd_number: Mapped[str] = mapped_column(Text, unique=True)
    firm_type_id: Mapped[int] = mapped_column(Integer, _fk("dim_firm_types.firm_type_id"))
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"))
    region_id: Mapped[int] = mapped_column(Integer, _fk("dim_regions.region_id"))
    headquarters_state: Mapped[str] = mapped_column(Text)
    relationship_start_date: Mapped[dt.date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean)

    firm_type: Mapped["DimFirmTypes"] = relationship("DimFirmTypes")
    channel: Mapped["DimChannels"] = relationship("DimChannels")
    region: Mapped["DimRegions"] = relationship("DimRegions")


class DimTerritories(Base):
    """Sales territories; each belongs to a region and is covered by one or two wholesalers."""

    __tablename__ = "dim_territories"

    territory_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_code: Mapped[str] = mapped_column(Text, unique=True)
    territory_name: Mapped[str] = mapped_column(Text)
    region_id: Mapped[int] = mapped_column(Integer, _fk("dim_regions.region_id"))

    region: Mapped["DimRegions"] = relationship("DimRegions")


class DimAdvisors(Base):
    """Financial advisors with their firm, territory, career and firm tenure, and segment."""

    __tablename__ = "dim_advisors"
    __table_args__ = (
        Index("ix_dim_advisors_firm_id", "firm_id"),
        Index("ix_dim_advisors_territory_id", "territory_id"),
    )

    advisor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisor_name: Mapped[str] = mapped_column(Text)
    crd_number: Mapped[str] = mapped_column(Text, unique=True)
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"))
    territory_id: Mapped[int] = mapped_column(Integer, _fk("dim_territories.territory_id"))
    career_start_date: Mapped[dt.date] = mapped_column(Date)
    firm_start_date: Mapped[dt.date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean)

    firm: Mapped["DimFirms"] = relationship("DimFirms")
    territory: Mapped["DimTerritories"] = relationship("DimTerritories")

    def tenure_years(self, as_of: dt.date) -> float:
        """Years in the industry as of a date (tenure changes daily, so it is not stored)."""
        return round((as_of - self.career_start_date).days / 365.25, 1)


class DimAssetClasses(Base):
    """Product asset classes with a risk level."""

    __tablename__ = "dim_asset_classes"

    asset_class_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_class_code: Mapped[str] = mapped_column(Text, unique=True)
    asset_class_name: Mapped[str] = mapped_column(Text)
    risk_level: Mapped[int] = mapped_column(Integer)


class DimVehicleTypes(Base):
    """Product vehicles: mutual fund, ETF, SMA, CIT, interval fund."""

    __tablename__ = "dim_vehicle_types"

    vehicle_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_type_code: Mapped[str] = mapped_column(Text, unique=True)
    vehicle_type_name: Mapped[str] = mapped_column(Text)
    is_exchange_traded: Mapped[bool] = mapped_column(Boolean)


class DimProducts(Base):
    """Investment products (funds, ETFs, SMAs, CITs) with asset class, vehicle type, ticker and annual
    management fee rate."""

    __tablename__ = "dim_products"

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_name: Mapped[str] = mapped_column(Text, unique=True)
    ticker: Mapped[str | None] = mapped_column(Text, unique=True)
    asset_class_id: Mapped[int] = mapped_column(Integer, _fk("dim_asset_classes.asset_class_id"))
    vehicle_type_id: Mapped[int] = mapped_column(Integer, _fk("dim_vehicle_types.vehicle_type_id"))
    management_fee_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    inception_date: Mapped[dt.date] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean)

    asset_class: Mapped["DimAssetClasses"] = relationship("DimAssetClasses")
    vehicle_type: Mapped["DimVehicleTypes"] = relationship("DimVehicleTypes")


class DimWholesalers(Base):
    """Wholesalers (external sales reps) with territory, team, base salary and incentive rate."""

    __tablename__ = "dim_wholesalers"

    wholesaler_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wholesaler_name: Mapped[str] = mapped_column(Text)
    employee_code: Mapped[str] = mapped_column(Text, unique=True)
    territory_id: Mapped[int] = mapped_column(Integer, _fk("dim_territories.territory_id"))
    team_name: Mapped[str] = mapped_column(Text)
    hire_date: Mapped[dt.date] = mapped_column(Date)
    annual_base_salary: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    incentive_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))

    territory: Mapped["DimTerritories"] = relationship("DimTerritories")


class DimExpenseCategories(Base):
    """Distribution expense categories."""

    __tablename__ = "dim_expense_categories"

    expense_category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expense_category_code: Mapped[str] = mapped_column(Text, unique=True)
    expense_category_name: Mapped[str] = mapped_column(Text)


class DimExpenseTypes(Base):
    """Distribution expense types within their category."""

    __tablename__ = "dim_expense_types"

    expense_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expense_type_code: Mapped[str] = mapped_column(Text, unique=True)
    expense_type_name: Mapped[str] = mapped_column(Text)
    expense_category_id: Mapped[int] = mapped_column(Integer, _fk("dim_expense_categories.expense_category_id"))
    is_reimbursable: Mapped[bool] = mapped_column(Boolean)

    expense_category: Mapped["DimExpenseCategories"] = relationship("DimExpenseCategories")


class DimTransactionTypes(Base):
    """Flow types with their direction: inflows count +1, outflows -1 toward net flows."""

    __tablename__ = "dim_transaction_types"

    transaction_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_type_code: Mapped[str] = mapped_column(Text, unique=True)
    transaction_type_name: Mapped[str] = mapped_column(Text)
    transaction_category: Mapped[str] = mapped_column(Text)
    flow_direction: Mapped[str] = mapped_column(Text)
    direction_sign: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------- facts


class FactAUMFlow(Base):
    """AUM flows: every purchase, redemption, exchange leg and account transfer of a day, attributed to
    the advisor, firm, channel, product and covering wholesaler."""

    __tablename__ = "fact_aum_flows"
    __table_args__ = (
        Index("ix_fact_aum_flows_flow_date", "flow_date"),
        Index("ix_fact_aum_flows_advisor_id", "advisor_id"),
    )

    flow_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"))
    transaction_type_id: Mapped[int] = mapped_column(Integer, _fk("dim_transaction_types.transaction_type_id"))
    advisor_id: Mapped[int] = mapped_column(Integer, _fk("dim_advisors.advisor_id"))
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"))
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"))
    product_id: Mapped[int] = mapped_column(Integer, _fk("dim_products.product_id"))
    wholesaler_id: Mapped[int] = mapped_column(Integer, _fk("dim_wholesalers.wholesaler_id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    related_flow_id: Mapped[int | None] = mapped_column(BigInteger)

    calendar_day: Mapped["DimDates"] = relationship("DimDates")
    transaction_type: Mapped["DimTransactionTypes"] = relationship("DimTransactionTypes")
    advisor: Mapped["DimAdvisors"] = relationship("DimAdvisors")
    firm: Mapped["DimFirms"] = relationship("DimFirms")
    channel: Mapped["DimChannels"] = relationship("DimChannels")
    product: Mapped["DimProducts"] = relationship("DimProducts")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")


class FactRetentionSnapshots(Base):
    """Retention snapshots: for each purchase made 30, 90, 180 or 365 days before the snapshot date, the
    amount and share still held (`age_days` after it was made), consistent with the redemptions recorded since."""

    __tablename__ = "fact_retention_snapshots"
    __table_args__ = (Index("ix_fact_retention_snapshots_snapshot_date", "snapshot_date"),)

    flow_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    age_days: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    snapshot_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"))
    flow_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"))
    advisor_id: Mapped[int] = mapped_column(Integer, _fk("dim_advisors.advisor_id"))
    product_id: Mapped[int] = mapped_column(Integer, _fk("dim_products.product_id"))
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"))
    wholesaler_id: Mapped[int] = mapped_column(Integer, _fk("dim_wholesalers.wholesaler_id"))
    original_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    redeemed_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    retained_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    retention_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    snapshot_day: Mapped["DimDates"] = relationship("DimDates", foreign_keys=[snapshot_date])
    flow_day: Mapped["DimDates"] = relationship("DimDates", foreign_keys=[flow_date])
    advisor: Mapped["DimAdvisors"] = relationship("DimAdvisors")
    product: Mapped["DimProducts"] = relationship("DimProducts")
    channel: Mapped["DimChannels"] = relationship("DimChannels")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")


class FactRevenue(Base):
    """Fee revenue: management fees accrued per advisor position and product each day, from AUM and that
    day's net flows at the product's fee rate; flagged as an estimate until the month's books close."""

    __tablename__ = "fact_revenue"

    revenue_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), primary_key=True)
    advisor_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_advisors.advisor_id"), primary_key=True, autoincrement=False
    )
    product_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_products.product_id"), primary_key=True, autoincrement=False
    )
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"))
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"))
    wholesaler_id: Mapped[int] = mapped_column(Integer, _fk("dim_wholesalers.wholesaler_id"))
    aum_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    net_flow_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    revenue_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    is_estimate: Mapped[bool] = mapped_column(Boolean)

    calendar_day: Mapped["DimDates"] = relationship("DimDates")
    advisor: Mapped["DimAdvisors"] = relationship("DimAdvisors")
    product: Mapped["DimProducts"] = relationship("DimProducts")
    firm: Mapped["DimFirms"] = relationship("DimFirms")
    channel: Mapped["DimChannels"] = relationship("DimChannels")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")


class FactDistributionExpense(Base):
    """Distribution expenses: each wholesaler's travel, marketing, event and sales-support spend by
    expense type and category, tied to the firm it was spent on where client facing."""

    __tablename__ = "fact_distribution_expense"
    __table_args__ = (
        Index("ix_fact_distribution_expense_expense_date", "expense_date"),
        Index("ix_fact_distribution_expense_wholesaler_id", "wholesaler_id"),
    )

    expense_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    expense_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"))
    wholesaler_id: Mapped[int] = mapped_column(Integer, _fk("dim_wholesalers.wholesaler_id"))
    territory_id: Mapped[int] = mapped_column(Integer, _fk("dim_territories.territory_id"))
    expense_type_id: Mapped[int] = mapped_column(Integer, _fk("dim_expense_types.expense_type_id"))
    expense_category_id: Mapped[int] = mapped_column(Integer, _fk("dim_expense_categories.expense_category_id"))
    firm_id: Mapped[int | None] = mapped_column(Integer, _fk("dim_firms.firm_id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    calendar_day: Mapped["DimDates"] = relationship("DimDates")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")
    territory: Mapped["DimTerritories"] = relationship("DimTerritories")
    expense_type: Mapped["DimExpenseTypes"] = relationship("DimExpenseTypes")
    expense_category: Mapped["DimExpenseCategories"] = relationship("DimExpenseCategories")
    firm: Mapped["DimFirms | None"] = relationship("DimFirms")


class FactWholesalerComp(Base):
    """Wholesaler compensation: each wholesaler's monthly base salary plus an incentive on the positive
    net flows of the advisors they cover."""

    __tablename__ = "fact_wholesaler_comp"

    comp_month: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), primary_key=True)
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), primary_key=True, autoincrement=False
    )
    base_salary_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    gross_sales_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    redemptions_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    net_flow_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    incentive_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    incentive_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total_comp_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    month_start_day: Mapped["DimDates"] = relationship("DimDates")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")


TABLE_TO_CLASS: dict[str, type[Base]] = {
    mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers
}
