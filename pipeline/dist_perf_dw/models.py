"""SQLAlchemy ORM for the PostgreSQL schema `dist_perf_dw` (spec: dist_perf_dw-orm-reference.md).

ddl/postgres/ is the source of truth; these classes mirror it column for column
(a test compares them against a database built from the DDL). The ORM is for
reads and analysis; facts are bulk-loaded with COPY, never through the ORM.
Each class's docstring names the business object of its table, and each
column's `doc=` says what the column holds, once: the Dagster assets use them as
their description and column schema (`tables.py` derives the rest). They are
`doc=`, not `comment=`: the DDL carries no COMMENTs, and the ORM-vs-DDL test
(alembic) would report every SQL comment as a drift.

Relationships are one-way (no back_populates) and name their target class as a
string, so classes can be declared in any order:

    session.query(FactRevenue).filter(FactRevenue.is_estimate == False)
    flow.product.product_name
    advisor.firm.firm_type.firm_type_name
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, MetaData, Numeric, Text, false, text
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

    calendar_date: Mapped[dt.date] = mapped_column(Date, primary_key=True, doc="The calendar day.")
    date_key: Mapped[int] = mapped_column(
        Integer, unique=True, doc="The day as the integer YYYYMMDD, for tools that want integer date keys."
    )
    year: Mapped[int] = mapped_column(Integer, doc="Calendar year.")
    quarter: Mapped[int] = mapped_column(Integer, doc="Calendar quarter, 1-4.")
    month: Mapped[int] = mapped_column(Integer, doc="Month number, 1-12.")
    month_name: Mapped[str] = mapped_column(Text, doc="Month name, e.g. January.")
    day_of_month: Mapped[int] = mapped_column(Integer, doc="Day of the month, 1-31.")
    day_of_year: Mapped[int] = mapped_column(Integer, doc="Day of the year, 1-366.")
    day_of_week: Mapped[int] = mapped_column(Integer, doc="ISO weekday: 1 = Monday ... 7 = Sunday.")
    weekday_name: Mapped[str] = mapped_column(Text, doc="Weekday name, e.g. Monday.")
    iso_year: Mapped[int] = mapped_column(Integer, doc="ISO 8601 week-numbering year.")
    iso_week: Mapped[int] = mapped_column(Integer, doc="ISO 8601 week number, 1-53.")
    year_month: Mapped[str] = mapped_column(Text, doc="Year and month, e.g. '2024-01'.")
    year_quarter: Mapped[str] = mapped_column(Text, doc="Year and quarter, e.g. '2024-Q1'.")
    month_start_date: Mapped[dt.date] = mapped_column(Date, doc="First day of the month.")
    is_weekend: Mapped[bool] = mapped_column(Boolean, doc="Saturday or Sunday.")
    is_month_end: Mapped[bool] = mapped_column(Boolean, doc="Last day of the month.")
    is_quarter_end: Mapped[bool] = mapped_column(Boolean, doc="Last day of the quarter.")
    is_year_end: Mapped[bool] = mapped_column(Boolean, doc="31 December.")
    is_holiday: Mapped[bool] = mapped_column(
        Boolean, doc="A weekday on which NYSE is closed (full-day holiday or ad-hoc closure)."
    )
    holiday_name: Mapped[str | None] = mapped_column(Text, doc="The closure's name; empty unless is_holiday.")
    is_business_day: Mapped[bool] = mapped_column(Boolean, doc="A weekday on which NYSE is open.")


class DimRegions(Base):
    """Geographic sales regions of the US."""

    __tablename__ = "dim_regions"

    region_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the region.")
    region_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the region.")
    region_name: Mapped[str] = mapped_column(Text, doc="Name of the region.")
    is_unassigned: Mapped[bool] = mapped_column(
        Boolean, server_default=false(),
        doc="Kimball's unknown member ('Unassigned'), the region of the Unassigned territory (landed data only).",
    )


class DimChannels(Base):
    """Distribution channels: wirehouse, independent BD, RIA, bank trust, insurance."""

    __tablename__ = "dim_channels"

    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the channel.")
    channel_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the channel.")
    channel_name: Mapped[str] = mapped_column(Text, doc="Name of the channel.")
    description: Mapped[str] = mapped_column(Text, doc="What the channel covers.")


class DimFirmTypes(Base):
    """Kinds of advisory firm and the channel each sells through."""

    __tablename__ = "dim_firm_types"

    firm_type_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the firm type.")
    firm_type_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the firm type.")
    firm_type_name: Mapped[str] = mapped_column(Text, doc="Name of the firm type.")
    channel_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_channels.channel_id"), doc="The channel firms of this type sell through."
    )

    channel: Mapped["DimChannels"] = relationship("DimChannels")


class DimFirms(Base):
    """Advisory firms (broker-dealers, RIAs, banks) selling our products, with firm type, channel and region."""

    __tablename__ = "dim_firms"

    firm_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the firm.")
    firm_name: Mapped[str] = mapped_column(Text, doc="Name of the firm.")
    crd_number: Mapped[str] = mapped_column(
        Text, unique=True, doc="FINRA Central Registration Depository id of the firm."
    )
    firm_type_id: Mapped[int] = mapped_column(Integer, _fk("dim_firm_types.firm_type_id"), doc="The kind of firm.")
    channel_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_channels.channel_id"), doc="The channel the firm sells through."
    )
    region_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_regions.region_id"), doc="The region of the firm's headquarters."
    )
    headquarters_state: Mapped[str] = mapped_column(Text, doc="US state of the firm's headquarters.")
    relationship_start_date: Mapped[dt.date] = mapped_column(Date, doc="Day the firm started selling our products.")
    is_active: Mapped[bool] = mapped_column(Boolean, doc="The firm still sells our products.")

    firm_type: Mapped["DimFirmTypes"] = relationship("DimFirmTypes")
    channel: Mapped["DimChannels"] = relationship("DimChannels")
    region: Mapped["DimRegions"] = relationship("DimRegions")


class DimTerritories(Base):
    """Sales territories; each belongs to a region and is covered by one or two wholesalers."""

    __tablename__ = "dim_territories"

    territory_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the territory.")
    territory_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the territory.")
    territory_name: Mapped[str] = mapped_column(Text, doc="Name of the territory.")
    region_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_regions.region_id"), doc="The region the territory belongs to."
    )
    is_unassigned: Mapped[bool] = mapped_column(
        Boolean, server_default=false(),
        doc="Kimball's unknown member ('Unassigned'): flows of an advisor whose territory is not known yet.",
    )

    region: Mapped["DimRegions"] = relationship("DimRegions")


class DimAdvisors(Base):
    """Financial advisors with their firm, territory, career and firm tenure, and segment."""

    __tablename__ = "dim_advisors"
    __table_args__ = (
        Index("ix_dim_advisors_firm_id", "firm_id"),
        Index("ix_dim_advisors_territory_id", "territory_id"),
    )

    advisor_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the advisor.")
    advisor_name: Mapped[str] = mapped_column(Text, doc="Name of the advisor.")
    crd_number: Mapped[str] = mapped_column(
        Text, unique=True, doc="FINRA Central Registration Depository id of the advisor."
    )
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"), doc="The firm the advisor works for.")
    territory_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_territories.territory_id"), doc="The sales territory covering the advisor."
    )
    career_start_date: Mapped[dt.date] = mapped_column(
        Date, doc="Day the advisor entered the industry (tenure in the industry)."
    )
    firm_start_date: Mapped[dt.date] = mapped_column(
        Date, doc="Day the advisor joined the current firm (tenure at the firm)."
    )
    segment: Mapped[str] = mapped_column(Text, doc="'Top producer', 'Core' or 'Emerging'.")
    is_active: Mapped[bool] = mapped_column(Boolean, doc="The advisor still sells our products.")
    is_inferred: Mapped[bool] = mapped_column(
        Boolean, server_default=false(),
        doc="Created from a flow or position before any master named the advisor ('Unknown advisor <CRD>'); "
        "completed in place, under the same key, when a master brings the CRD.",
    )

    firm: Mapped["DimFirms"] = relationship("DimFirms")
    territory: Mapped["DimTerritories"] = relationship("DimTerritories")

    def tenure_years(self, as_of: dt.date) -> float:
        """Years in the industry as of a date (tenure changes daily, so it is not stored)."""
        return round((as_of - self.career_start_date).days / 365.25, 1)


class DimAssetClasses(Base):
    """Product asset classes with a risk level."""

    __tablename__ = "dim_asset_classes"

    asset_class_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the asset class.")
    asset_class_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the asset class.")
    asset_class_name: Mapped[str] = mapped_column(Text, doc="Name of the asset class.")
    risk_level: Mapped[int] = mapped_column(Integer, doc="Risk level from 1 (lowest) to 5 (highest).")


class DimVehicleTypes(Base):
    """Product vehicles: mutual fund, ETF, SMA, CIT, interval fund."""

    __tablename__ = "dim_vehicle_types"

    vehicle_type_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the vehicle type.")
    vehicle_type_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the vehicle type.")
    vehicle_type_name: Mapped[str] = mapped_column(Text, doc="Name of the vehicle type, e.g. ETF.")
    is_exchange_traded: Mapped[bool] = mapped_column(Boolean, doc="Units trade on an exchange.")


class DimProducts(Base):
    """Investment products (funds, ETFs, SMAs, CITs) with asset class, vehicle type, ticker and annual
    management fee rate."""

    __tablename__ = "dim_products"

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the product.")
    product_name: Mapped[str] = mapped_column(Text, unique=True, doc="Name of the product.")
    ticker: Mapped[str | None] = mapped_column(
        Text, unique=True, doc="Exchange or fund ticker; empty for SMAs and CITs."
    )
    asset_class_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_asset_classes.asset_class_id"), doc="The product's asset class."
    )
    vehicle_type_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_vehicle_types.vehicle_type_id"), doc="The product's vehicle structure."
    )
    management_fee_rate: Mapped[Decimal] = mapped_column(
        Numeric(7, 6), doc="Annual management fee rate: 0.0065 = 65 bps."
    )
    inception_date: Mapped[dt.date] = mapped_column(Date, doc="Day the product launched.")
    is_active: Mapped[bool] = mapped_column(Boolean, doc="The product is still offered.")
    cusip: Mapped[str | None] = mapped_column(
        Text, unique=True, doc="The product's nine-character CUSIP: the natural key of landed products."
    )

    asset_class: Mapped["DimAssetClasses"] = relationship("DimAssetClasses")
    vehicle_type: Mapped["DimVehicleTypes"] = relationship("DimVehicleTypes")


class DimWholesalers(Base):
    """Wholesalers (external sales reps) with territory, team, base salary and incentive rate."""

    __tablename__ = "dim_wholesalers"

    wholesaler_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the wholesaler.")
    wholesaler_name: Mapped[str] = mapped_column(Text, doc="Name of the wholesaler.")
    employee_code: Mapped[str] = mapped_column(Text, unique=True, doc="Unique employee code of the wholesaler.")
    territory_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_territories.territory_id"), doc="The territory the wholesaler covers."
    )
    team_name: Mapped[str] = mapped_column(Text, doc="The sales team the wholesaler belongs to.")
    hire_date: Mapped[dt.date] = mapped_column(Date, doc="Day the wholesaler was hired.")
    annual_base_salary: Mapped[Decimal] = mapped_column(Numeric(12, 2), doc="Annual base salary, USD.")
    incentive_rate: Mapped[Decimal] = mapped_column(
        Numeric(7, 6), doc="Incentive paid on positive monthly net flows, as a fraction."
    )
    is_unassigned: Mapped[bool] = mapped_column(
        Boolean, server_default=false(),
        doc="Kimball's unknown member ('Unassigned'): credited with the flows of the Unassigned territory.",
    )

    territory: Mapped["DimTerritories"] = relationship("DimTerritories")


class AdvisorAssignments(Base):
    """Effective-dated assignments of an advisor to a firm and a territory (landed data): a flow takes the
    one in force on its date, so a move never rewrites earlier flows."""

    __tablename__ = "advisor_assignments"

    advisor_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_advisors.advisor_id"), primary_key=True, doc="The advisor."
    )
    effective_date: Mapped[dt.date] = mapped_column(
        Date, primary_key=True, doc="First day of the assignment (the master's firm_start_date)."
    )
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"), doc="The firm from that day.")
    territory_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_territories.territory_id"), doc="The territory from that day."
    )

    advisor: Mapped["DimAdvisors"] = relationship("DimAdvisors")
    firm: Mapped["DimFirms"] = relationship("DimFirms")
    territory: Mapped["DimTerritories"] = relationship("DimTerritories")


class WholesalerAssignments(Base):
    """Effective-dated territory assignments of a wholesaler (landed data): a flow is credited to the
    wholesaler covering its advisor's territory on its date."""

    __tablename__ = "wholesaler_assignments"

    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), primary_key=True, doc="The wholesaler."
    )
    effective_date: Mapped[dt.date] = mapped_column(
        Date, primary_key=True, doc="First day of the assignment (territory_start_date, else hire_date)."
    )
    territory_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_territories.territory_id"), doc="The territory covered from that day."
    )

    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")
    territory: Mapped["DimTerritories"] = relationship("DimTerritories")


class DimExpenseCategories(Base):
    """Distribution expense categories."""

    __tablename__ = "dim_expense_categories"

    expense_category_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, doc="Surrogate key of the expense category."
    )
    expense_category_code: Mapped[str] = mapped_column(
        Text, unique=True, doc="Short unique code of the expense category."
    )
    expense_category_name: Mapped[str] = mapped_column(Text, doc="Name of the expense category.")


class DimExpenseTypes(Base):
    """Distribution expense types within their category."""

    __tablename__ = "dim_expense_types"

    expense_type_id: Mapped[int] = mapped_column(Integer, primary_key=True, doc="Surrogate key of the expense type.")
    expense_type_code: Mapped[str] = mapped_column(Text, unique=True, doc="Short unique code of the expense type.")
    expense_type_name: Mapped[str] = mapped_column(Text, doc="Name of the expense type.")
    expense_category_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_expense_categories.expense_category_id"), doc="The category the expense type belongs to."
    )
    is_reimbursable: Mapped[bool] = mapped_column(
        Boolean, doc="Expenses of this type are reimbursed to the wholesaler."
    )

    expense_category: Mapped["DimExpenseCategories"] = relationship("DimExpenseCategories")


class DimTransactionTypes(Base):
    """Flow types with their direction: inflows count +1, outflows -1 toward net flows."""

    __tablename__ = "dim_transaction_types"

    transaction_type_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, doc="Surrogate key of the transaction type."
    )
    transaction_type_code: Mapped[str] = mapped_column(
        Text, unique=True, doc="Short unique code of the transaction type."
    )
    transaction_type_name: Mapped[str] = mapped_column(Text, doc="Name of the transaction type.")
    transaction_category: Mapped[str] = mapped_column(Text, doc="purchase, redemption, exchange or transfer.")
    flow_direction: Mapped[str] = mapped_column(Text, doc="inflow or outflow.")
    direction_sign: Mapped[int] = mapped_column(Integer, doc="+1 for inflows, -1 for outflows: the sign of net_amount.")


# --------------------------------------------------------------------------- facts


class FactAUMFlow(Base):
    """AUM flows: every purchase, redemption, exchange leg and account transfer of a day, attributed to
    the advisor, firm, channel, product and covering wholesaler."""

    __tablename__ = "fact_aum_flows"
    __table_args__ = (
        Index("ix_fact_aum_flows_flow_date", "flow_date"),
        Index("ix_fact_aum_flows_advisor_id", "advisor_id"),
        Index(
            "ux_fact_aum_flows_source_transaction_id", "source_transaction_id", unique=True,
            postgresql_where=text("source_transaction_id IS NOT NULL"),
        ),
    )

    flow_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False,
        doc="Flow id: the day number * 1e6 + a sequence, deterministic.",
    )
    flow_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), doc="Day of the flow.")
    transaction_type_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_transaction_types.transaction_type_id"),
        doc="Kind of flow (purchase, redemption, exchange leg, transfer).",
    )
    advisor_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_advisors.advisor_id"), doc="The advisor who placed the flow."
    )
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"), doc="The advisor's firm.")
    channel_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_channels.channel_id"), doc="The firm's distribution channel."
    )
    product_id: Mapped[int] = mapped_column(Integer, _fk("dim_products.product_id"), doc="The product bought or sold.")
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), doc="The wholesaler covering the advisor's territory."
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), doc="Amount of the flow, USD, always positive.")
    net_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="amount signed by the transaction type's direction, USD."
    )
    related_flow_id: Mapped[int | None] = mapped_column(
        BigInteger, doc="The purchase a redemption redeems, or the other leg of an exchange (not a foreign key)."
    )
    source_transaction_id: Mapped[str | None] = mapped_column(
        Text, doc="The transfer agent's transaction id of a landed flow (unique across dates); empty if generated."
    )

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

    flow_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, doc="The purchase (fact_aum_flows.flow_id)."
    )
    age_days: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False,
        doc="Days from the purchase to the snapshot: 30, 90, 180 or 365.",
    )
    snapshot_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), doc="Day of the snapshot.")
    flow_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), doc="Day of the purchase.")
    advisor_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_advisors.advisor_id"), doc="The advisor who made the purchase."
    )
    product_id: Mapped[int] = mapped_column(Integer, _fk("dim_products.product_id"), doc="The product purchased.")
    channel_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_channels.channel_id"), doc="The advisor's firm's channel."
    )
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), doc="The wholesaler covering the advisor."
    )
    original_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), doc="Amount of the purchase, USD.")
    redeemed_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="Part of the purchase redeemed by the snapshot date, USD."
    )
    retained_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="Part of the purchase still held on the snapshot date, USD."
    )
    retention_pct: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), doc="retained_amount as a percentage of original_amount, 0-100."
    )

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

    revenue_date: Mapped[dt.date] = mapped_column(
        Date, _fk("dim_dates.calendar_date"), primary_key=True, doc="Day the fee accrued."
    )
    advisor_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_advisors.advisor_id"), primary_key=True, autoincrement=False,
        doc="The advisor holding the position.",
    )
    product_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_products.product_id"), primary_key=True, autoincrement=False, doc="The product held."
    )
    firm_id: Mapped[int] = mapped_column(Integer, _fk("dim_firms.firm_id"), doc="The advisor's firm.")
    channel_id: Mapped[int] = mapped_column(Integer, _fk("dim_channels.channel_id"), doc="The firm's channel.")
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), doc="The wholesaler covering the advisor."
    )
    aum_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), doc="Position value before the day's flows, USD.")
    net_flow_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), doc="The day's net flows into the position, USD.")
    fee_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6), doc="The product's annual management fee rate.")
    revenue_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="Fee accrued: (aum + net flows) * fee_rate / 365, USD."
    )
    is_estimate: Mapped[bool] = mapped_column(Boolean, doc="True until the month's books close.")

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

    expense_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False,
        doc="Expense id: the day number * 100,000 + a sequence, deterministic.",
    )
    expense_date: Mapped[dt.date] = mapped_column(Date, _fk("dim_dates.calendar_date"), doc="Day of the expense.")
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), doc="The wholesaler who spent it."
    )
    territory_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_territories.territory_id"), doc="The wholesaler's territory."
    )
    expense_type_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_expense_types.expense_type_id"), doc="Kind of expense."
    )
    expense_category_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_expense_categories.expense_category_id"), doc="Category of the expense type."
    )
    firm_id: Mapped[int | None] = mapped_column(
        Integer, _fk("dim_firms.firm_id"), doc="The firm the money was spent on; empty unless client facing."
    )
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), doc="Amount spent, USD, always positive.")

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

    comp_month: Mapped[dt.date] = mapped_column(
        Date, _fk("dim_dates.calendar_date"), primary_key=True, doc="First day of the month paid."
    )
    wholesaler_id: Mapped[int] = mapped_column(
        Integer, _fk("dim_wholesalers.wholesaler_id"), primary_key=True, autoincrement=False, doc="The wholesaler paid."
    )
    base_salary_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), doc="A twelfth of the annual base salary, USD.")
    gross_sales_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="Purchases and exchanges in by the covered advisors, USD."
    )
    redemptions_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), doc="Redemptions by the covered advisors, USD.")
    net_flow_amount: Mapped[Decimal] = mapped_column(
        Numeric(18, 2), doc="All flows of the covered advisors, signed, USD."
    )
    incentive_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6), doc="The wholesaler's incentive rate in the month.")
    incentive_amount: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), doc="incentive_rate * max(net_flow_amount, 0), USD."
    )
    total_comp_amount: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), doc="base_salary_amount + incentive_amount, USD."
    )

    month_start_day: Mapped["DimDates"] = relationship("DimDates")
    wholesaler: Mapped["DimWholesalers"] = relationship("DimWholesalers")


TABLE_TO_CLASS: dict[str, type[Base]] = {
    mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers
}
