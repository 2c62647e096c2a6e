"""Run policies shared by every warehouse load."""

import dagster as dg

# Loads are idempotent partition swaps, so retrying one is always safe; the delay rides
# out a database restart or another process briefly holding the embedded store.
LOAD_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)
