"""A distribution team's own data for dist_perf_dw: the landed feeds under
$PIVOT_LANDING_DIR/dist_perf_dw/<feed>/ read, checked and turned into dimension and fact rows.

Pure: no Dagster, no database (the assets hand in what the warehouse holds and write what comes back).
The file layer (listing, settle rules, CSV/CSV.gz/XLSX/Parquet as text, the number and date grammar,
the refusal type) is `pipeline.landed_files`, shared with pivot's landed files, never copied.

- `feeds`: the feed folders, their columns, and reading one file into typed rows or a refusal that
  names every problem ("line N (value): what is wrong and what to do").
- `masters`: firms, advisors, products and wholesalers: the masters' rows of all files of a folder.
- `members`: merging masters into the dimensions on natural keys (stable surrogate keys, nothing
  deleted), effective-dated assignments (moves), inferred advisors completed in place.
- `flows`: a date's flows, resolved against the dimensions and assignments in force on that date.
"""
