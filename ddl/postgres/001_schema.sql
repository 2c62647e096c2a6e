-- dist_perf_dw: the distribution performance star schema.
-- Every statement is idempotent, so applying the directory to a live database is safe.
CREATE SCHEMA IF NOT EXISTS dist_perf_dw;
