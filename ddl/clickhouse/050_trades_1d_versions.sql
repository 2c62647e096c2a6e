-- The versions of each trade date of pivot.trades_1d (pipeline/pivot/versions.py): the one live now and
-- the ones a reload or a restore replaced. A replaced day's parts are not rewritten: they are
-- hard-linked (REPLACE PARTITION ... FROM pivot.trades_1d) into a slot table
-- pivot.trades_1d_version_<slot>, created AS pivot.trades_1d (the same structure, so a restore swaps
-- them back the same way), and the last PIVOT_VERSIONS_KEPT of a date are kept.
-- Append-only: every change of a version's state is a new row; a version's state is its latest row
-- (the greatest recorded_at).
CREATE TABLE IF NOT EXISTS pivot.trades_1d_versions
(
    trade_date   Date COMMENT 'Trade date of the version',
    version      UInt32 COMMENT 'Number of the version within its date: 1, 2, ... in the order the versions went live',
    state        Enum8('pending' = 1, 'live' = 2, 'kept' = 3, 'dropped' = 4, 'failed' = 5) COMMENT 'pending: being swapped in, live: what pivot.trades_1d holds, kept: in its slot table, dropped: past the versions kept, failed: never swapped in',
    slot         UInt16 COMMENT 'A kept version: the slot table pivot.trades_1d_version_<slot> holding its parts',
    loaded_at    DateTime64(3, 'UTC') COMMENT 'When the version went live',
    replaced_at  Nullable(DateTime64(3, 'UTC')) COMMENT 'When another version replaced it (NULL while live)',
    run_id       String COMMENT 'The Dagster run (or CLI) that put the version live',
    source       String COMMENT 'Where its trades came from: synthetic with seed and size, landed files with SHA-256, or the version it restored',
    rows         UInt64 COMMENT 'Rows of the version in pivot.trades_1d',
    notional_usd Float64 COMMENT 'Top-level notional in USD (Direct, ETF, ETC rows)',
    recorded_at  DateTime64(6, 'UTC') COMMENT 'When this state was recorded: the latest row of a version is its state'
)
ENGINE = MergeTree
ORDER BY (trade_date, version, recorded_at);
