"""Generators of the dist_perf_dw dimension tables, one module per group of related
dimensions; `pipeline.dist_perf_dw.universe` assembles them (dim_dates comes from
`pipeline.dist_perf_dw.calendar`)."""
