"""What every landed file kind shares: listing a folder, content digests, the refusal type, and
telling a file that is still being written from one that is finished.

Pure: no Dagster, no database. A sensor observes a folder on each tick (`observe`), keeps the
observation in its cursor (`FileState.to_cursor` / `from_cursor`) and reads only the files that
`ready_files` says have settled; everything it reads is identified by `content_digest`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# One folder per kind under $PIVOT_LANDING_DIR (DESIGN decision 8).
TRADES_FOLDER = "trades"
INSTRUMENTS_FOLDER = "instruments"
COMPOSITIONS_FOLDER = "compositions"

PARQUET_MAGIC = b"PAR1"
# Names browsers, copy tools and editors give a file while they write it (and Excel's lock file):
# never a finished landed file, so never read.
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp")
TEMPORARY_PREFIXES = (".", "~$", "~")
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


def landed_files(directory: Path, suffixes: Sequence[str]) -> list[Path]:
    """The finished-looking files of `directory` whose name ends with one of `suffixes`
    (case-insensitive), by name. Sub-folders, hidden files and temporary names are skipped."""
    if not directory.is_dir():
        return []
    wanted = tuple(s.lower() for s in suffixes)
    return sorted(
        p for p in directory.iterdir() if p.is_file() and not is_temporary_name(p) and p.name.lower().endswith(wanted)
    )


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
