-- The versions of the date-partitioned facts (issue 18, DESIGN decision 12): a reload or a restore of
-- a date moves the rows it replaces into the fact's history table, in the transaction of the swap
-- (pipeline/resources/postgres_versions.py; the rules in pipeline/dist_perf_dw/versions.py).

-- Every version of every date: one row per (fact, date, version), updated in place as it goes
-- live -> kept -> dropped. partition_start is the date (the month's first day for fact_wholesaler_comp).
CREATE TABLE IF NOT EXISTS dist_perf_dw.partition_versions (
    table_name       TEXT           NOT NULL,
    partition_start  DATE           NOT NULL,
    version          INTEGER        NOT NULL CHECK (version > 0),
    state            TEXT           NOT NULL CHECK (state IN ('live', 'kept', 'dropped')),
    loaded_at        TIMESTAMPTZ,                     -- NULL: loaded before versions were kept
    replaced_at      TIMESTAMPTZ,                     -- NULL while live
    run_id           TEXT           NOT NULL DEFAULT '',
    source           TEXT           NOT NULL DEFAULT '',  -- synthetic seed, or landed files with SHA-256
    rows             BIGINT         NOT NULL,
    amount_usd       NUMERIC(20,2)  NOT NULL,         -- the fact's amount total (versions.AMOUNT_COLUMNS)
    PRIMARY KEY (table_name, partition_start, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_partition_versions_live
    ON dist_perf_dw.partition_versions (table_name, partition_start) WHERE state = 'live';

-- <fact>_history: the fact's columns (LIKE: types and NOT NULL; no keys, foreign keys or checks, so
-- keeping a version writes the rows and little else, and a member a kept version references may still
-- change: a restore proves the foreign keys again) plus the version's number. Rows of kept versions
-- only: the history of a dropped version is deleted. A column the fact gains later is added here too
-- (NULL in older versions). The index is BRIN on (date, version): a version's rows are written together
-- by one INSERT, so block ranges stay narrow, and a BRIN costs an insert next to nothing, a B-tree on the
-- same columns does not (benchmarks/README.md, "dist_perf_dw versions").
DO $$
DECLARE
    fact RECORD;
    missing RECORD;
BEGIN
    FOR fact IN
        SELECT * FROM (VALUES
            ('fact_aum_flows', 'flow_date'),
            ('fact_revenue', 'revenue_date'),
            ('fact_retention_snapshots', 'snapshot_date'),
            ('fact_distribution_expense', 'expense_date'),
            ('fact_wholesaler_comp', 'comp_month')
        ) AS f (name, date_column)
    LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS dist_perf_dw.%I (LIKE dist_perf_dw.%I, version INTEGER NOT NULL)',
            fact.name || '_history', fact.name);
        EXECUTE format('DROP INDEX IF EXISTS dist_perf_dw.%I', 'ix_' || fact.name || '_history');  -- the B-tree of 8280376
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS %I ON dist_perf_dw.%I USING brin (%I, version) WITH (autosummarize = on)',
            'brin_' || fact.name || '_history', fact.name || '_history', fact.date_column);
        FOR missing IN
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_attribute a
            WHERE a.attrelid = format('dist_perf_dw.%I', fact.name)::regclass AND a.attnum > 0
              AND NOT a.attisdropped
              AND NOT EXISTS (
                  SELECT 1 FROM pg_attribute h
                  WHERE h.attrelid = format('dist_perf_dw.%I', fact.name || '_history')::regclass
                    AND h.attname = a.attname AND NOT h.attisdropped)
        LOOP
            EXECUTE format('ALTER TABLE dist_perf_dw.%I ADD COLUMN %I %s',
                fact.name || '_history', missing.attname, missing.type);
        END LOOP;
    END LOOP;
END $$;
