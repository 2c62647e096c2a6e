-- Dimensions. Natural codes are unique so loads can be checked against them;
-- surrogate integer ids are what the facts reference.

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_dates (
    calendar_date       DATE     PRIMARY KEY,
    date_key            INTEGER  NOT NULL UNIQUE,   -- YYYYMMDD, for tools that want integer date keys
    year                INTEGER  NOT NULL,
    quarter             INTEGER  NOT NULL,
    month               INTEGER  NOT NULL,
    month_name          TEXT     NOT NULL,
    day_of_month        INTEGER  NOT NULL,
    day_of_year         INTEGER  NOT NULL,
    day_of_week         INTEGER  NOT NULL,          -- ISO: 1 = Monday ... 7 = Sunday
    weekday_name        TEXT     NOT NULL,
    iso_year            INTEGER  NOT NULL,
    iso_week            INTEGER  NOT NULL,
    year_month          TEXT     NOT NULL,          -- '2024-01'
    year_quarter        TEXT     NOT NULL,          -- '2024-Q1'
    month_start_date    DATE     NOT NULL,
    is_weekend          BOOLEAN  NOT NULL,
    is_month_end        BOOLEAN  NOT NULL,
    is_quarter_end      BOOLEAN  NOT NULL,
    is_year_end         BOOLEAN  NOT NULL,
    is_holiday          BOOLEAN  NOT NULL,          -- NYSE full-day holiday
    holiday_name        TEXT,
    is_business_day     BOOLEAN  NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_regions (
    region_id           INTEGER  PRIMARY KEY,
    region_code         TEXT     NOT NULL UNIQUE,
    region_name         TEXT     NOT NULL,
    is_unassigned       BOOLEAN  NOT NULL DEFAULT false   -- Kimball's unknown member (landed data only)
);
ALTER TABLE dist_perf_dw.dim_regions ADD COLUMN IF NOT EXISTS is_unassigned BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_channels (
    channel_id          INTEGER  PRIMARY KEY,
    channel_code        TEXT     NOT NULL UNIQUE,
    channel_name        TEXT     NOT NULL,
    description         TEXT     NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_firm_types (
    firm_type_id        INTEGER  PRIMARY KEY,
    firm_type_code      TEXT     NOT NULL UNIQUE,
    firm_type_name      TEXT     NOT NULL,
    channel_id          INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_channels (channel_id)
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_firms (
    firm_id                  INTEGER  PRIMARY KEY,
    firm_name                TEXT     NOT NULL,
    crd_number               TEXT     NOT NULL UNIQUE,   -- FINRA Central Registration Depository id
    firm_type_id             INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_firm_types (firm_type_id),
    channel_id               INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_channels (channel_id),
    region_id                INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_regions (region_id),
    headquarters_state       TEXT     NOT NULL,
    relationship_start_date  DATE     NOT NULL,
    is_active                BOOLEAN  NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_territories (
    territory_id        INTEGER  PRIMARY KEY,
    territory_code      TEXT     NOT NULL UNIQUE,
    territory_name      TEXT     NOT NULL,
    region_id           INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_regions (region_id),
    is_unassigned       BOOLEAN  NOT NULL DEFAULT false   -- where flows of an advisor without a known territory go
);
ALTER TABLE dist_perf_dw.dim_territories ADD COLUMN IF NOT EXISTS is_unassigned BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_advisors (
    advisor_id          INTEGER  PRIMARY KEY,
    advisor_name        TEXT     NOT NULL,
    crd_number          TEXT     NOT NULL UNIQUE,
    firm_id             INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_firms (firm_id),
    territory_id        INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_territories (territory_id),
    career_start_date   DATE     NOT NULL,           -- tenure in the industry
    firm_start_date     DATE     NOT NULL,           -- tenure at the current firm
    segment             TEXT     NOT NULL,           -- 'Top producer' | 'Core' | 'Emerging'
    is_active           BOOLEAN  NOT NULL,
    is_inferred         BOOLEAN  NOT NULL DEFAULT false  -- created from a flow before a master named it
);
ALTER TABLE dist_perf_dw.dim_advisors ADD COLUMN IF NOT EXISTS is_inferred BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS ix_dim_advisors_firm_id ON dist_perf_dw.dim_advisors (firm_id);
CREATE INDEX IF NOT EXISTS ix_dim_advisors_territory_id ON dist_perf_dw.dim_advisors (territory_id);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_asset_classes (
    asset_class_id      INTEGER  PRIMARY KEY,
    asset_class_code    TEXT     NOT NULL UNIQUE,
    asset_class_name    TEXT     NOT NULL,
    risk_level          INTEGER  NOT NULL CHECK (risk_level BETWEEN 1 AND 5)
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_vehicle_types (
    vehicle_type_id     INTEGER  PRIMARY KEY,
    vehicle_type_code   TEXT     NOT NULL UNIQUE,
    vehicle_type_name   TEXT     NOT NULL,
    is_exchange_traded  BOOLEAN  NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_products (
    product_id           INTEGER       PRIMARY KEY,
    product_name         TEXT          NOT NULL UNIQUE,
    ticker               TEXT          UNIQUE,         -- SMAs and CITs have none
    asset_class_id       INTEGER       NOT NULL REFERENCES dist_perf_dw.dim_asset_classes (asset_class_id),
    vehicle_type_id      INTEGER       NOT NULL REFERENCES dist_perf_dw.dim_vehicle_types (vehicle_type_id),
    management_fee_rate  NUMERIC(7,6)  NOT NULL CHECK (management_fee_rate >= 0),   -- annual, 0.0065 = 65 bps
    inception_date       DATE          NOT NULL,
    is_active            BOOLEAN       NOT NULL,
    cusip                TEXT          UNIQUE CHECK (length(cusip) = 9)   -- the natural key of landed products
);
ALTER TABLE dist_perf_dw.dim_products ADD COLUMN IF NOT EXISTS cusip TEXT UNIQUE CHECK (length(cusip) = 9);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_wholesalers (
    wholesaler_id       INTEGER        PRIMARY KEY,
    wholesaler_name     TEXT           NOT NULL,
    employee_code       TEXT           NOT NULL UNIQUE,
    territory_id        INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_territories (territory_id),
    team_name           TEXT           NOT NULL,
    hire_date           DATE           NOT NULL,
    annual_base_salary  NUMERIC(12,2)  NOT NULL,
    incentive_rate      NUMERIC(7,6)   NOT NULL,     -- paid on positive monthly net flows
    is_unassigned       BOOLEAN        NOT NULL DEFAULT false   -- credited with flows of unassigned territories
);
ALTER TABLE dist_perf_dw.dim_wholesalers ADD COLUMN IF NOT EXISTS is_unassigned BOOLEAN NOT NULL DEFAULT false;

-- Effective-dated assignments (landed data): who was where from which day. The dimension row holds
-- the member's current state under a key that never changes; a fact takes the assignment in force on
-- its date, so a move never rewrites history (DESIGN decision 11).
CREATE TABLE IF NOT EXISTS dist_perf_dw.advisor_assignments (
    advisor_id          INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_advisors (advisor_id),
    effective_date      DATE     NOT NULL,
    firm_id             INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_firms (firm_id),
    territory_id        INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_territories (territory_id),
    PRIMARY KEY (advisor_id, effective_date)
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.wholesaler_assignments (
    wholesaler_id       INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    effective_date      DATE     NOT NULL,
    territory_id        INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_territories (territory_id),
    PRIMARY KEY (wholesaler_id, effective_date)
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_expense_categories (
    expense_category_id    INTEGER  PRIMARY KEY,
    expense_category_code  TEXT     NOT NULL UNIQUE,
    expense_category_name  TEXT     NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_expense_types (
    expense_type_id      INTEGER  PRIMARY KEY,
    expense_type_code    TEXT     NOT NULL UNIQUE,
    expense_type_name    TEXT     NOT NULL,
    expense_category_id  INTEGER  NOT NULL REFERENCES dist_perf_dw.dim_expense_categories (expense_category_id),
    is_reimbursable      BOOLEAN  NOT NULL
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.dim_transaction_types (
    transaction_type_id    INTEGER  PRIMARY KEY,
    transaction_type_code  TEXT     NOT NULL UNIQUE,
    transaction_type_name  TEXT     NOT NULL,
    transaction_category   TEXT     NOT NULL,        -- purchase | redemption | exchange | transfer
    flow_direction         TEXT     NOT NULL CHECK (flow_direction IN ('inflow', 'outflow')),
    direction_sign         INTEGER  NOT NULL CHECK (direction_sign IN (-1, 1))
);
