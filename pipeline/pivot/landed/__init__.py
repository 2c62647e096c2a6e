"""Landed files of the pivot warehouse: a desk's own trades, instrument master files and its ETF
issuers' holdings files, as they land under $PIVOT_LANDING_DIR/{trades,instruments,compositions}/.

Pure: no Dagster, no database. Each module reads and checks one kind of file through the shared
file layer (pipeline.landed_files: folders, text tables, the number and date grammar) and refuses a
bad one with a `LandedFileError` that names the file, the line or row, and what to fix:

- `trade_files`, `trade_values`, `trade_checks`, `trades`: landed trade files (Parquet, CSV, CSV.gz,
  XLSX) -> the trades/ folder, base trades of a trade date, streamed.
- `instruments`: instrument master files -> merged into pivot.instruments, with a report.
- `holdings`: issuer holdings files (iShares CSV, SPDR XLSX) -> a composition period of the
  constituent map plus the constituents' new instruments.
"""
