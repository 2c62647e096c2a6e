"""The one file layer every landed-file reader shares (pivot's trades, instruments, compositions,
issuer holdings and FX rates; dist_perf_dw's feeds).

Pure: no Dagster, no database. A value is read exactly or refused with the file, the line (or row),
the column and what to do; never guessed.

- `folders`: the refusal type, listing a folder (and naming every file it will not read), the
  folder's `_format.toml` settings, content digests, "still being written" (settle) rules.
- `tables`: opening a CSV, CSV.gz, XLSX or Parquet file as a table of text (encoding, delimiter,
  BOM, trailing commas and blank lines, a last line cut short).
- `values`: the grammar of numbers, dates and timestamps, as Polars expressions and for one value.
"""
