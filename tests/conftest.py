"""Shared fixtures. Each warehouse keeps its fixtures in its own plugin module."""

pytest_plugins = ["tests.fixtures_clickhouse", "tests.fixtures_postgres"]
