"""Generators of the dist_perf_dw fact tables, one module per fact: pure functions of
(seed, date, scale) returning a frame with the table's columns in DDL order."""
