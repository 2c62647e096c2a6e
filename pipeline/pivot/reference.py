"""The pivot warehouse's reference data with every landed file applied: pivot.instruments and the
constituent map, built the same way by the instruments asset, the constituents asset and the
composition sensor (so a file the sensor accepts is exactly a file the assets apply).

Pure: no Dagster, no database. Landing folders under $PIVOT_LANDING_DIR:

- `instruments/`: instrument master files (`landed.instruments`), merged into the synthetic universe
  (new symbols added, listed symbols' attributes replaced, nothing dropped). A bad master file refuses
  the reference load (it decides what every other file is checked against).
- `compositions/`: issuer holdings files (iShares CSV, SPDR XLSX: `landed.holdings`), the five-column
  composition files (`landing`), and `ticker_map.csv` (issuer ticker -> your symbol). The five-column
  files also keep working at the top level of the landing folder.

Order, and why: instruments first (master files), then the holdings files are read against them (a
fund must be a composite there), and the constituents they name that pivot.instruments does not know
are added to pivot.instruments from the files' own columns (name, sector, asset class, exchange,
currency). Both assets compute this same function, so the instruments asset writes the holdings'
new constituents before the constituents asset writes a map that names them. Then the map: the
synthetic map, every valid five-column file (checked against the final instruments), then every
valid holdings file as a new effective period from its as-of date (landing order: five-column files
by modification time, then holdings files by name; a later period for the same parent and date
replaces an earlier one). A refused composition or holdings file changes nothing and is reported.

Prices: a holdings file that gives no fund shares outstanding (SPDR, older iShares) needs
shares_per_unit = weight x parent price / constituent price; the constituent's price comes from the
file's Price column when it has one, else, like the parent's, from `instruments.closing_prices(seed,
as_of, symbols)` -- the pipeline's own deterministic closing path, the same prices the synthetic
trades use. A desk with real closing prices should land files with shares outstanding (or quantity
and a five-column file) until a price feed lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import (
    COMPOSITIONS_FOLDER,
    INSTRUMENTS_FOLDER,
    LANDING_KINDS,
    LandedFileError,
    content_digest,
    ready_folder,
)
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.instruments import PRICE_HISTORY_START, build_instruments, closing_prices
from pipeline.pivot.landed.holdings import (
    UNIT_PRICED_ASSET_CLASSES,
    HoldingsResult,
    composition_from_holdings,
    line_asset_class,
)
from pipeline.pivot.landed.holdings_readers import (
    TICKER_MAP_FILE,
    HoldingsFile,
    holdings_files,
    holdings_format,
    read_holdings_file,
    read_ticker_map,
)
from pipeline.pivot.landed.instruments import (
    INSTRUMENT_FILE_SUFFIXES,
    InstrumentMergeReport,
    composites_without_composition,
    instrument_files,
    merge_instrument_files,
    merge_instruments,
)
from pipeline.pivot.landing import LandingFileResult, apply_landed_period, landed_files, validate_landed_files


@dataclass
class HoldingsOutcome:
    """One holdings file: applied (`result`) or refused (`error`), with its content hash."""

    path: Path
    digest: str
    result: HoldingsResult | None = None
    error: LandedFileError | None = None

    @property
    def is_valid(self) -> bool:
        return self.result is not None

    def summary(self) -> str:
        if self.result is not None:
            return self.result.summary()
        problems = "; ".join(self.error.problems)
        if self.error.path.name != self.path.name:  # refused for another file's sake (the ticker map)
            problems = f"{self.error.path.name}: {problems}"
        return f"{self.path.name}: REFUSED, nothing applied: {problems}"


@dataclass
class LandedReference:
    """pivot.instruments and pivot.constituents with the landing folders applied, and what each file did."""

    instruments: pl.DataFrame
    constituents: pl.DataFrame
    master_files: list[Path]
    master_report: InstrumentMergeReport
    added_from_holdings: list[str]
    holdings: list[HoldingsOutcome] = field(default_factory=list)
    composition_files: list[LandingFileResult] = field(default_factory=list)

    @property
    def composites_without_composition(self) -> list[str]:
        return composites_without_composition(self.instruments, self.constituents)

    def instruments_summary(self) -> str:
        return (
            f"{self.master_report.summary()}; {len(self.added_from_holdings)} constituent instrument(s) added "
            "from holdings files"
        )


def reference_files(landing_root: Path) -> list[Path]:
    """Every file `build_reference` reads: instrument master files, issuer holdings files, the ticker
    map and the five-column composition files."""
    root = Path(landing_root)
    folder = root / COMPOSITIONS_FOLDER
    ticker_map = folder / TICKER_MAP_FILE
    return [
        *instrument_files(root / INSTRUMENTS_FOLDER),
        *holdings_files(folder),
        *([ticker_map] if ticker_map.is_file() else []),
        *five_column_files(root),
    ]


def five_column_files(landing_root: Path) -> list[Path]:
    """The five-column composition files: *.csv at the top of the landing folder and in compositions/
    (there: every CSV that is not an issuer holdings file or the ticker map), oldest first."""
    folder = Path(landing_root) / COMPOSITIONS_FOLDER
    nested = [p for p in landed_files(folder) if p.name != TICKER_MAP_FILE and holdings_format(p) is None]
    return sorted([*landed_files(Path(landing_root)), *nested], key=lambda p: (p.stat().st_mtime_ns, p.name))


def _holdings_prices(holdings: HoldingsFile, seed: int, ticker_map: dict[str, str]) -> pl.DataFrame | None:
    if holdings.as_of is None or holdings.as_of < PRICE_HISTORY_START:
        return None
    names = {holdings.fund_ticker or ""}
    for line in holdings.lines:
        if line_asset_class(line) not in UNIT_PRICED_ASSET_CLASSES:  # priced at 1 by the holdings rules
            names |= {line.get(k, "") for k in ("ticker", "cusip", "sedol")}
    symbols = sorted({ticker_map.get(n, n) for n in names if n and n.strip()})
    return closing_prices(seed, holdings.as_of, symbols)


def read_holdings(
    landing_root: Path, instruments: pl.DataFrame, seed: int
) -> tuple[list[HoldingsOutcome], pl.DataFrame | None]:
    """Every holdings file of compositions/ against `instruments`, and the constituent instruments the
    accepted ones add (INSTRUMENT_SCHEMA; a symbol two files add is taken from the first, by name).
    A refused ticker map refuses every holdings file (they depend on it)."""
    folder = Path(landing_root) / COMPOSITIONS_FOLDER
    paths = holdings_files(folder)
    try:
        ticker_map = read_ticker_map(folder / TICKER_MAP_FILE)
    except LandedFileError as error:
        return [HoldingsOutcome(p, content_digest(p), error=error) for p in paths], None
    outcomes = []
    for path in paths:
        outcome = HoldingsOutcome(path, content_digest(path))
        try:
            holdings = read_holdings_file(path)
            prices = _holdings_prices(holdings, seed, ticker_map)
            outcome.result = composition_from_holdings(holdings, instruments, prices=prices, ticker_map=ticker_map)
        except LandedFileError as error:
            outcome.error = error
        outcomes.append(outcome)
    new = [o.result.new_instruments for o in outcomes if o.result is not None and o.result.new_instruments.height]
    added = pl.concat(new).unique("symbol", keep="first", maintain_order=True) if new else None
    return outcomes, added


def landed_instruments(seed: int, landing_root: Path) -> tuple[pl.DataFrame, list[Path], InstrumentMergeReport]:
    """The synthetic universe with every instrument master file of instruments/ merged in (later files
    win). Raises LandedFileError for a bad master file, before anything is merged."""
    paths = instrument_files(Path(landing_root) / INSTRUMENTS_FOLDER)
    merged, report = merge_instrument_files(build_instruments(seed), paths)
    return merged, paths, report


def require_ready_reference_folders(landing_root: Path, settle_seconds: float) -> None:
    """Refuse (LandedFileError, every problem at once) the reference folders' files that would not be
    read and those changed within the settle window: instruments/, compositions/ and the five-column
    files at the top of the landing folder (whose sub-folders are the other kinds' folders)."""
    root = Path(landing_root)
    problems = []
    folders = [
        (root / INSTRUMENTS_FOLDER, INSTRUMENT_FILE_SUFFIXES, "Instrument master files are CSV, Parquet or XLSX.", ()),
        (root / COMPOSITIONS_FOLDER, (".csv", ".xlsx"), "Composition and holdings files are CSV or XLSX.", ()),
        (root, (".csv",), "Files at the top of the landing folder are five-column composition CSVs.", LANDING_KINDS),
    ]
    for directory, suffixes, what, kinds in folders:
        try:
            ready_folder(directory, suffixes, what, settle_seconds, exclude=kinds)
        except LandedFileError as error:
            problems += error.problems
    if problems:
        raise LandedFileError(root, problems)


def build_reference(seed: int, landing_root: Path, settle_seconds: float = 0.0) -> LandedReference:
    """Instruments, then holdings' new constituents, then the map (see the module docstring).
    Raises LandedFileError for a bad instrument master file, and for reference folders holding files
    that would not be read or that changed within `settle_seconds`."""
    require_ready_reference_folders(landing_root, settle_seconds)
    instruments, master_paths, report = landed_instruments(seed, landing_root)
    holdings, added = read_holdings(landing_root, instruments, seed)
    added_symbols: list[str] = []
    if added is not None and added.height:
        instruments, added_report = merge_instruments(instruments, added)
        added_symbols = added_report.added
    constituents, five_column = validate_and_apply(build_constituents(seed), instruments, landing_root)
    for outcome in holdings:
        if outcome.result is not None:
            constituents = apply_landed_period(constituents, outcome.result.constituents)
    return LandedReference(instruments, constituents, master_paths, report, added_symbols, holdings, five_column)


def validate_and_apply(
    constituents: pl.DataFrame, instruments: pl.DataFrame, landing_root: Path
) -> tuple[pl.DataFrame, list[LandingFileResult]]:
    """The map with every valid five-column file applied in landing order, plus each file's result."""
    results = validate_landed_files(Path(landing_root), instruments, paths=five_column_files(landing_root))
    for result in results:
        if result.is_valid:
            constituents = apply_landed_period(constituents, result.frame)
    return constituents, results
