#!/bin/bash
# First start of the PostgreSQL container (docker-entrypoint-initdb.d): Dagster's database and its
# owner, database dist_perf_dw with its loader and reader roles. Passwords come from the environment,
# passed as psql variables (never spliced into SQL text).
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U postgres -v dagster_password="$DAGSTER_PG_PASSWORD" <<'SQL'
CREATE ROLE dagster LOGIN PASSWORD :'dagster_password';
CREATE DATABASE dagster OWNER dagster;
CREATE DATABASE dist_perf_dw;
SQL
psql -v ON_ERROR_STOP=1 -U postgres -d dist_perf_dw \
  -v loader_password="$DIST_PERF_DW_LOADER_PASSWORD" -v reader_password="$DIST_PERF_DW_READER_PASSWORD" \
  -f /docker-entrypoint-initdb.d/roles.sql.in
