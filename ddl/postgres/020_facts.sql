-- Facts. Each is loaded one partition (day, or month for compensation) at a
-- time: delete the partition, COPY it back, in one transaction. The leading
-- date column of each primary key or index serves those deletes and the usual
-- date-range filters; joins to the (small) dimensions are hash joins that need
-- no index on the fact side. Every extra index costs load time (each one took
-- ~15% off the COPY rate of fact_aum_flows), so only drill-downs to a single
-- advisor or wholesaler get one.

CREATE TABLE IF NOT EXISTS dist_perf_dw.fact_aum_flows (
    flow_id              BIGINT         PRIMARY KEY,   -- day number * 1e6 + sequence: deterministic
    flow_date            DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),
    transaction_type_id  INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_transaction_types (transaction_type_id),
    advisor_id           INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_advisors (advisor_id),
    firm_id              INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_firms (firm_id),
    channel_id           INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_channels (channel_id),
    product_id           INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_products (product_id),
    wholesaler_id        INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    amount               NUMERIC(18,2)  NOT NULL CHECK (amount > 0),
    net_amount           NUMERIC(18,2)  NOT NULL,      -- amount signed by the transaction type's direction
    -- The purchase a redemption redeems, or the other leg of an exchange. Not a
    -- foreign key on purpose: days load independently and in any order.
    related_flow_id      BIGINT,
    -- The transfer agent's id of a landed flow (NULL for generated flows): unique across all dates.
    source_transaction_id TEXT
);
ALTER TABLE dist_perf_dw.fact_aum_flows ADD COLUMN IF NOT EXISTS source_transaction_id TEXT;
-- Partial: generated flows (NULL) cost the index nothing on load.
CREATE UNIQUE INDEX IF NOT EXISTS ux_fact_aum_flows_source_transaction_id
    ON dist_perf_dw.fact_aum_flows (source_transaction_id) WHERE source_transaction_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_fact_aum_flows_flow_date ON dist_perf_dw.fact_aum_flows (flow_date);
CREATE INDEX IF NOT EXISTS ix_fact_aum_flows_advisor_id ON dist_perf_dw.fact_aum_flows (advisor_id);

CREATE TABLE IF NOT EXISTS dist_perf_dw.fact_retention_snapshots (
    flow_id          BIGINT         NOT NULL,           -- the purchase (fact_aum_flows.flow_id); see related_flow_id
    age_days         INTEGER        NOT NULL CHECK (age_days IN (30, 90, 180, 365)),
    snapshot_date    DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),
    flow_date        DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),
    advisor_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_advisors (advisor_id),
    product_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_products (product_id),
    channel_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_channels (channel_id),
    wholesaler_id    INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    original_amount  NUMERIC(18,2)  NOT NULL,
    redeemed_amount  NUMERIC(18,2)  NOT NULL,
    retained_amount  NUMERIC(18,2)  NOT NULL,
    retention_pct    NUMERIC(5,2)   NOT NULL CHECK (retention_pct BETWEEN 0 AND 100),
    PRIMARY KEY (flow_id, age_days)
);
CREATE INDEX IF NOT EXISTS ix_fact_retention_snapshots_snapshot_date ON dist_perf_dw.fact_retention_snapshots (snapshot_date);

CREATE TABLE IF NOT EXISTS dist_perf_dw.fact_revenue (
    revenue_date     DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),
    advisor_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_advisors (advisor_id),
    product_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_products (product_id),
    firm_id          INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_firms (firm_id),
    channel_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_channels (channel_id),
    wholesaler_id    INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    aum_amount       NUMERIC(18,2)  NOT NULL,           -- position value before the day's flows
    net_flow_amount  NUMERIC(18,2)  NOT NULL,
    fee_rate         NUMERIC(7,6)   NOT NULL,           -- the product's annual management fee rate
    revenue_amount   NUMERIC(18,2)  NOT NULL,           -- (aum + net flows) * fee_rate / 365
    is_estimate      BOOLEAN        NOT NULL,           -- true until the month's books close
    PRIMARY KEY (revenue_date, advisor_id, product_id)
);

CREATE TABLE IF NOT EXISTS dist_perf_dw.fact_distribution_expense (
    expense_id           BIGINT         PRIMARY KEY,
    expense_date         DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),
    wholesaler_id        INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    territory_id         INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_territories (territory_id),
    expense_type_id      INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_expense_types (expense_type_id),
    expense_category_id  INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_expense_categories (expense_category_id),
    firm_id              INTEGER        REFERENCES dist_perf_dw.dim_firms (firm_id),   -- client-facing spend only
    amount               NUMERIC(14,2)  NOT NULL CHECK (amount > 0)
);
CREATE INDEX IF NOT EXISTS ix_fact_distribution_expense_expense_date ON dist_perf_dw.fact_distribution_expense (expense_date);
CREATE INDEX IF NOT EXISTS ix_fact_distribution_expense_wholesaler_id ON dist_perf_dw.fact_distribution_expense (wholesaler_id);

CREATE TABLE IF NOT EXISTS dist_perf_dw.fact_wholesaler_comp (
    comp_month          DATE           NOT NULL REFERENCES dist_perf_dw.dim_dates (calendar_date),  -- first day of month
    wholesaler_id       INTEGER        NOT NULL REFERENCES dist_perf_dw.dim_wholesalers (wholesaler_id),
    base_salary_amount  NUMERIC(12,2)  NOT NULL,
    gross_sales_amount  NUMERIC(18,2)  NOT NULL,        -- purchases + exchanges in
    redemptions_amount  NUMERIC(18,2)  NOT NULL,
    net_flow_amount     NUMERIC(18,2)  NOT NULL,        -- all flows, signed
    incentive_rate      NUMERIC(7,6)   NOT NULL,
    incentive_amount    NUMERIC(12,2)  NOT NULL,        -- incentive_rate * max(net_flow_amount, 0)
    total_comp_amount   NUMERIC(12,2)  NOT NULL,
    PRIMARY KEY (comp_month, wholesaler_id)
);
