-- The roles of dist_perf_dw (DESIGN decision 13): dist_perf_dw_loader writes schema dist_perf_dw and
-- nothing else (it owns the schema, so the pipeline's DDL and loads run as it); dist_perf_dw_reader
-- only reads it (web pages, BI tools). Idempotent: re-run it to change a password.
-- Run as a superuser (or a CREATEROLE role) in database dist_perf_dw:
--   psql -d dist_perf_dw -v loader_password=… -v reader_password=… -f deploy/postgres/roles.sql
SELECT 'CREATE ROLE dist_perf_dw_loader LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dist_perf_dw_loader') \gexec
SELECT 'CREATE ROLE dist_perf_dw_reader LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dist_perf_dw_reader') \gexec
ALTER ROLE dist_perf_dw_loader PASSWORD :'loader_password';
ALTER ROLE dist_perf_dw_reader PASSWORD :'reader_password';

SELECT format('GRANT CONNECT ON DATABASE %I TO dist_perf_dw_loader, dist_perf_dw_reader', current_database()) \gexec
CREATE SCHEMA IF NOT EXISTS dist_perf_dw AUTHORIZATION dist_perf_dw_loader;
ALTER SCHEMA dist_perf_dw OWNER TO dist_perf_dw_loader;
-- Tables created before the loader owned the schema.
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA dist_perf_dw TO dist_perf_dw_loader;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA dist_perf_dw TO dist_perf_dw_loader;

GRANT USAGE ON SCHEMA dist_perf_dw TO dist_perf_dw_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA dist_perf_dw TO dist_perf_dw_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE dist_perf_dw_loader IN SCHEMA dist_perf_dw GRANT SELECT ON TABLES TO dist_perf_dw_reader;
