"""pivot-pipeline: a Dagster code location for the pivot and dist_perf_dw warehouses."""
