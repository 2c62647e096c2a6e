"""What every landed file kind shares: the refusal type, a folder's settings (`_format.toml`),
listing a folder (the files a reader reads and every entry it would not), content digests, and
telling a file that is still being written from one that is finished.

Pure: no Dagster, no database. A sensor observes a folder on each tick (`observe`), keeps the
observation in its cursor (`FileState.to_cursor` / `from_cursor`) and reads only the files that
`ready_files` says have settled; a load sees a folder once, so it refuses what has not settled
(`settled_state`, `ready_folder`). Everything read is identified by `content_digest`.
"""

from __future__ import annotations

import codecs
import difflib
import fnmatch
import hashlib
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.landed_files.values import NumberFormat

# One folder per kind under $PIVOT_LANDING_DIR (DESIGN decision 8).
TRADES_FOLDER = "trades"
INSTRUMENTS_FOLDER = "instruments"
COMPOSITIONS_FOLDER = "compositions"
# Every kind's folder under $PIVOT_LANDING_DIR (pivot's four, dist_perf_dw's feeds).
LANDING_KINDS = (TRADES_FOLDER, INSTRUMENTS_FOLDER, COMPOSITIONS_FOLDER, "fx", "dist_perf_dw")

PARQUET_MAGIC = b"PAR1"
# Names browsers, copy tools and editors give a file while they write it (and Excel's lock file):
# never a finished landed file, so never read.
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp")
TEMPORARY_PREFIXES = (".", "~$", "~")
# What operating systems leave in any folder they show: never data, so never listed as unread.
OS_METADATA_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# Enough of a list to show an operator what is wrong without flooding a log line.
MAX_SHOWN = 10
_DIGEST_BLOCK = 1 << 20
_ISO_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


class LandedFileError(ValueError):
    """A landed file that cannot be used as it is: names the file and every problem found, each
    saying where (line or row) and what to fix. Nothing of the file is applied."""

    def __init__(self, path: Path | str, problems: str | Sequence[str]):
        self.path = Path(path)
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(self.summary())

    def summary(self) -> str:
        if len(self.problems) == 1:
            return f"{self.path.name}: {self.problems[0]}"
        return f"{self.path.name}: {len(self.problems)} problems, nothing applied:\n  " + "\n  ".join(self.problems)


def listing(values: Sequence, limit: int = MAX_SHOWN) -> str:
    """'a, b, c (+4 more)': a bounded, readable list for messages."""
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


def unknown_column_problem(column: str, known: Iterable[str], what: str) -> str:
    """The refusal of a column a format does not have, with the nearest known name if there is one."""
    known = list(known)
    by_lower = {k.lower(): k for k in known}
    guess = by_lower.get(column.strip().lower()) or next(iter(difflib.get_close_matches(column, known, n=1)), None)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return (
        f"unknown column {column!r}{hint}: {what} has no such column. Rename it, or drop it; "
        "a misspelt column is refused rather than silently ignored"
    )


def is_temporary_name(path: Path) -> bool:
    name = path.name
    return name.startswith(TEMPORARY_PREFIXES) or name.lower().endswith(TEMPORARY_SUFFIXES)


SETTINGS_FILE = "_format.toml"
# What a settings file may say, with its meaning (for messages).
SETTING_KEYS = {
    "decimal": "the decimal mark, '.' or ','",
    "thousands": "the thousands separator, one of ',', '.', ' ', \"'\" or '' (none)",
    "encoding": "the text encoding of the folder's CSV files (e.g. 'cp1252'); default UTF-8",
    "delimiter": "the CSV field delimiter, one character (e.g. ';'); default ','",
    "ignore": "file name patterns (fnmatch, e.g. ['*.pdf', 'archive/*']) that are in the folder but are not data",
    "confirmed": "true: every rate in the folder's FX files is meant as it is, however far it moved",
}
_THOUSANDS = (",", ".", " ", "'", "")


@dataclass(frozen=True)
class FolderSettings:
    """A landed folder's `_format.toml`: how its files are written, and what in it is not data.
    The defaults are the project's format (UTF-8, ',' delimiter, '.' decimal mark)."""

    number_format: NumberFormat = NumberFormat()
    encoding: str = "utf-8"
    delimiter: str = ","
    ignore: tuple[str, ...] = ()
    confirmed: bool = False
    source: Path | None = None

    def ignores(self, relative: str) -> bool:
        return any(fnmatch.fnmatch(relative, pattern) for pattern in self.ignore)


def _settings_problems(values: dict) -> list[str]:
    problems = [
        unknown_column_problem(key, SETTING_KEYS, "a _format.toml") for key in values if key not in SETTING_KEYS
    ]
    decimal, thousands = (
        values.get("decimal", "."),
        values.get("thousands", "," if values.get("decimal", ".") == "." else ""),
    )
    if decimal not in (".", ","):
        problems.append(f"decimal = {decimal!r}: write {SETTING_KEYS['decimal']}")
    if thousands not in _THOUSANDS or thousands == decimal:
        problems.append(f"thousands = {thousands!r}: write {SETTING_KEYS['thousands']}, not the decimal mark")
    encoding = values.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding) if isinstance(encoding, str) else None
    except LookupError:
        problems.append(f"encoding = {encoding!r} is not an encoding Python knows: e.g. 'utf-8', 'cp1252', 'latin-1'")
    delimiter = values.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        problems.append(f"delimiter = {delimiter!r}: write {SETTING_KEYS['delimiter']}")
    ignore = values.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        problems.append(f"ignore = {ignore!r}: write a list of name patterns, e.g. ['*.pdf']")
    if not isinstance(values.get("confirmed", False), bool):
        problems.append(f"confirmed = {values['confirmed']!r}: write true or false")
    return problems


def folder_settings(directory: Path) -> FolderSettings:
    """The folder's `_format.toml`, or the defaults when it has none. A settings file that cannot be
    read, or says something it cannot mean, is refused (LandedFileError): every file of the folder
    would otherwise be read the wrong way."""
    path = Path(directory) / SETTINGS_FILE
    if not path.is_file():
        return FolderSettings()
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise LandedFileError(path, f'not a readable TOML settings file ({error}): e.g. decimal = ","') from error
    problems = _settings_problems(values)
    if problems:
        raise LandedFileError(path, problems)
    decimal = values.get("decimal", ".")
    thousands = values.get("thousands", "," if decimal == "." else "")
    return FolderSettings(
        number_format=NumberFormat(decimal, thousands),
        encoding=codecs.lookup(values.get("encoding", "utf-8")).name,
        delimiter=values.get("delimiter", ","),
        ignore=tuple(values.get("ignore", [])),
        confirmed=values.get("confirmed", False),
        source=path,
    )


@dataclass(frozen=True)
class FolderFiles:
    """What a landed folder holds: the files a reader reads, by name, and every other entry it
    will not read (another extension, a sub-folder's file, a temporary name), each with why."""

    directory: Path
    exists: bool
    read: tuple[Path, ...]
    unread: dict[str, str]
    settings: FolderSettings

    def unread_problem(self, what: str) -> str | None:
        """The refusal for files that would otherwise be skipped without a word, or None."""
        if not self.unread:
            return None
        named = [f"{name} ({why})" for name, why in sorted(self.unread.items())]
        return (
            f"{len(self.unread)} file(s) in {self.directory} would not be read: {listing(named)}. {what} "
            f"Move them out of the folder, or list them under ignore = [...] in its {SETTINGS_FILE}"
        )

    def missing_problem(self, what: str) -> str:
        return (
            f"the folder {self.directory} does not exist: create it and land {what} there (or check PIVOT_LANDING_DIR)"
        )


def _unread_reason(entry: Path, wanted: tuple[str, ...]) -> str | None:
    if entry.is_dir():
        return "a sub-folder: sub-folders are not read"
    if is_temporary_name(entry):
        return "a temporary name: a file still being written or a lock file"
    if not entry.name.lower().endswith(wanted):
        return f"not one of {', '.join(wanted)}"
    return None


def folder_files(directory: Path, suffixes: Sequence[str], *, exclude: Iterable[str] = ()) -> FolderFiles:
    """List `directory`: the files whose name ends with one of `suffixes` (case-insensitive), by name,
    and every other entry (files inside sub-folders named by their relative path) unless the folder's
    settings ignore it. `exclude`: names another reader of the folder owns (not reported here)."""
    directory = Path(directory)
    if not directory.is_dir():
        return FolderFiles(directory, False, (), {}, FolderSettings())
    settings = folder_settings(directory)
    wanted = tuple(s.lower() for s in suffixes)
    owned = {SETTINGS_FILE, *OS_METADATA_NAMES, *exclude}
    read, unread = [], {}
    for entry in sorted(directory.iterdir()):
        if entry.name in owned or settings.ignores(entry.name):
            continue
        reason = _unread_reason(entry, wanted)
        if reason is None:
            read.append(entry)
            continue
        if entry.is_dir():
            inside = [
                str(p.relative_to(directory))
                for p in sorted(entry.rglob("*"))
                if p.is_file() and p.name not in OS_METADATA_NAMES
            ]
            unread.update({name: reason for name in inside if not settings.ignores(name)})
            continue
        unread[entry.name] = reason
    return FolderFiles(directory, True, tuple(read), unread, settings)


def landed_files(directory: Path, suffixes: Sequence[str]) -> list[Path]:
    """The files of `directory` a reader reads (`folder_files`), by name; [] for a missing folder."""
    return list(folder_files(directory, suffixes).read)


def content_digest(path: Path) -> str:
    """SHA-256 of the bytes, read in blocks (a landed trade file can be large): a file is 'new or
    changed' exactly when this changes, whatever its name or modification time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_DIGEST_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def date_in_name(path: Path) -> date | None:
    """The ISO date (YYYY-MM-DD) a file name carries, e.g. trades_2024-01-15.csv; None if none."""
    match = _ISO_DATE_IN_NAME.search(path.name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


@dataclass(frozen=True)
class FileState:
    """A file's size and modification time at one observation."""

    size: int
    mtime_ns: int

    def to_cursor(self) -> list[int]:
        return [self.size, self.mtime_ns]

    @classmethod
    def from_cursor(cls, value: Sequence[int]) -> FileState:
        return cls(int(value[0]), int(value[1]))


def _name(path: Path) -> str:
    return path.name


def observe(paths: Iterable[Path], key: Callable[[Path], str] = _name) -> dict[str, FileState]:
    """Each file's state, keyed by `key` (its name; a path under the landing folder where names can
    repeat across folders); a file that vanished since it was listed is left out."""
    states = {}
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        states[key(path)] = FileState(stat.st_size, stat.st_mtime_ns)
    return states


def parquet_is_complete(path: Path) -> bool:
    """A Parquet file starts and ends with PAR1 (its footer is written last): without the trailing
    magic it is truncated or still being written."""
    size = path.stat().st_size
    if size < 2 * len(PARQUET_MAGIC):
        return False
    with path.open("rb") as handle:
        head = handle.read(len(PARQUET_MAGIC))
        handle.seek(size - len(PARQUET_MAGIC))
        tail = handle.read(len(PARQUET_MAGIC))
    return head == PARQUET_MAGIC and tail == PARQUET_MAGIC


def still_being_written(path: Path, previous: FileState | None, current: FileState) -> str | None:
    """Why `path` must not be read yet, or None when it has settled.

    A file is read only once it was seen twice with the same size and modification time (one
    sensor tick apart): a copy in progress changes between ticks. A 0-byte file or a Parquet file
    without its footer is also left alone while it keeps changing; once it stops changing it is
    read, and refused for what it is (empty, truncated)."""
    if previous is None:
        return "first seen on this tick: read once its size and modification time stay the same for one more tick"
    if previous != current:
        return (
            f"changed since the last tick (size {previous.size:,} -> {current.size:,} bytes): still being written, "
            "read on a later tick"
        )
    return None


def ready_files(
    paths: Iterable[Path], previous: Mapping[str, FileState], key: Callable[[Path], str] = _name
) -> tuple[list[Path], dict[str, str], dict[str, FileState]]:
    """Split `paths` into the files that may be read now and those still being written (with why,
    by `key`), and return this tick's observation, to be kept as the next `previous`."""
    paths = list(paths)
    current = observe(paths, key)
    ready, waiting = [], {}
    for path in paths:
        state = current.get(key(path))
        if state is None:
            continue
        reason = still_being_written(path, previous.get(key(path)), state)
        if reason is None:
            ready.append(path)
        else:
            waiting[key(path)] = reason
    return ready, waiting, current


def files_still_being_written(
    paths: Iterable[Path], observed: Mapping[str, Sequence[int]], key: Callable[[Path], str] = _name
) -> tuple[dict[str, str], dict[str, list[int]]]:
    """For a sensor that reads a folder's files all together: those not settled yet (by `key`, with
    why; read nothing while any is) and this tick's observation in the cursor's form."""
    previous = {name: FileState.from_cursor(value) for name, value in observed.items()}
    _, waiting, current = ready_files(paths, previous, key)
    return waiting, {name: state.to_cursor() for name, state in current.items()}


def require_nonempty(path: Path, what: str) -> None:
    """Refuse a missing or 0-byte file with what it should contain."""
    if not path.is_file():
        raise LandedFileError(path, "no such file (moved or deleted while being read?)")
    if path.stat().st_size == 0:
        raise LandedFileError(path, f"the file is empty (0 bytes): {what}, or remove the file")


def require_complete_parquet(path: Path) -> None:
    if not parquet_is_complete(path):
        raise LandedFileError(
            path,
            "truncated Parquet file: it does not end with the PAR1 footer (cut short by a failed copy, or still "
            "being written). Copy it again in full; write it under a temporary name (e.g. .part) and rename it "
            "when complete",
        )


_WAIT_OR_COPY = (
    "wait until it has stopped changing and run again, or copy it again in full (write it under a temporary "
    "name such as .part and rename it when complete)"
)


def settled_state(path: Path, settle_seconds: float, now: float | None = None) -> FileState:
    """The file's state, refused (LandedFileError) while its last change lies within the settle
    window: a load, unlike the sensor, sees a file once, so it cannot wait for a second look."""
    stat = Path(path).stat()
    age = (time.time() if now is None else now) - stat.st_mtime_ns / 1e9
    if age < settle_seconds:
        raise LandedFileError(
            path,
            f"modified {max(age, 0):.1f} s ago, within the {settle_seconds:g} s settle window "
            f"(PIVOT_LANDED_SETTLE_SECONDS): it may still be being written; {_WAIT_OR_COPY}",
        )
    return FileState(stat.st_size, stat.st_mtime_ns)


def require_unchanged(path: Path, before: FileState) -> None:
    """Refuse a file whose size or modification time changed while it was read."""
    try:
        stat = Path(path).stat()
    except FileNotFoundError as error:
        raise LandedFileError(path, f"removed while it was being read: {_WAIT_OR_COPY}") from error
    if FileState(stat.st_size, stat.st_mtime_ns) != before:
        raise LandedFileError(
            path,
            f"changed while it was being read (size {before.size:,} -> {stat.st_size:,} bytes): it is still being "
            f"written; {_WAIT_OR_COPY}",
        )


def ready_folder(
    directory: Path, suffixes: Sequence[str], what: str, settle_seconds: float, *, exclude: Iterable[str] = ()
) -> FolderFiles:
    """A landed folder a load reads whole: every file it would not read and every file changed within
    the settle window refused together (LandedFileError naming each); a missing folder holds nothing."""
    folder = folder_files(directory, suffixes, exclude=exclude)
    problems = [p for p in [folder.unread_problem(what)] if p]
    for path in folder.read:
        try:
            settled_state(path, settle_seconds)
        except LandedFileError as error:
            problems.append(error.summary())
    if problems:
        raise LandedFileError(directory, problems)
    return folder
