-- The archive of pivot.trades_1d (pipeline/pivot/retention.py): a trade date older than
-- PIVOT_RETENTION_DAYS is exported to one Parquet file under PIVOT_ARCHIVE_DIR, verified by reading it
-- back, and only then dropped from pivot.trades_1d and pivot.trades_1d_rollup (its kept versions too).
-- This table is the manifest: each file's SHA-256, rows and sums, against which a drop and a bring-back
-- check the file. A JSON sidecar next to each file holds the same figures.
-- Append-only: every change of a date's state is a new row; a date's state is its latest row
-- (the greatest recorded_at).
CREATE TABLE IF NOT EXISTS pivot.trades_1d_archive
(
    trade_date   Date COMMENT 'Trade date archived',
    state        Enum8('verified' = 1, 'dropped' = 2, 'restored' = 3) COMMENT 'verified: the file reads back equal to the live date, not dropped yet, dropped: the date lives in the file only, restored: brought back into pivot.trades_1d (the file stays)',
    file         String COMMENT 'The Parquet file, relative to PIVOT_ARCHIVE_DIR',
    sha256       String COMMENT 'SHA-256 of the file (64 hex digits)',
    rows         UInt64 COMMENT 'Rows of the date in the file',
    notional     Float64 COMMENT 'sum(notional) of those rows',
    notional_usd Float64 COMMENT 'sum(notional_usd) of those rows',
    pnl          Float64 COMMENT 'sum(pnl) of those rows',
    version      UInt32 COMMENT 'The version of the date archived (in trades_1d_versions, 0: none recorded)',
    run_id       String COMMENT 'The Dagster run (or CLI) that recorded the state',
    recorded_at  DateTime64(6, 'UTC') COMMENT 'When this state was recorded: the latest row of a date is its state'
)
ENGINE = MergeTree
ORDER BY (trade_date, recorded_at);
