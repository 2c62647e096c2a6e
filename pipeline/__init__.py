"""pivot-pipeline: a Dagster code location for the pivot (ClickHouse) and dist_perf_dw (PostgreSQL) warehouses."""

import os

# The embedded ClickHouse engine (chDB) allocates through its own jemalloc, which by default
# keeps freed pages for reuse: while a day streams through, that is about 0.3-0.6 GB of RSS
# holding nothing. Returning them after 1 s costs no measurable speed (README "Performance").
# Read once when chDB loads, so it is set before anything imports it; a value set by the
# user wins.
os.environ.setdefault("JE_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")
