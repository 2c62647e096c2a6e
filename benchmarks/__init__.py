"""Benchmarks: the pipeline against the engine's own limit and the naive path.

`python -m benchmarks.run --help` (or `make bench BENCH_ARGS="..."`). Every
measurement runs in a fresh subprocess (`benchmarks.worker`) with its own
temporary chDB store / PostgreSQL server under /tmp, so peaks of memory are
independent and the embedded store's one-process-per-directory rule holds.
"""
