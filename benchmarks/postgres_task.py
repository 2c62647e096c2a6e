"""The worker task `postgres`: the dist_perf_dw fact load paths of benchmarks/postgres_paths.py, run
against a local PostgreSQL in a temporary data directory."""

from __future__ import annotations

import os

from benchmarks.measuring import temporary_directory


def task_postgres(args: dict) -> dict:
    """Load one fact_aum_flows partition four ways into the same table, after the same dimensions."""
    with temporary_directory("postgres") as tmp:
        # Before any pipeline import: pipeline.settings reads it once. The server runs as
        # another user (pgserver, when we are root), which must reach its data directory.
        tmp.chmod(0o755)
        os.environ["PIVOT_DATA_DIR"] = str(tmp / "data")
        from benchmarks import postgres_paths

        try:
            return postgres_paths.run(args)
        finally:
            from pipeline.resources import local_postgres

            local_postgres.stop()
