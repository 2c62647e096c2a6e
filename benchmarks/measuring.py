"""What every worker task measures with: peak RSS (the kernel's for the process, a sampler's for a
window) and a temporary store under /tmp, removed afterwards (chDB admits one data directory per
process, so each task opens its own)."""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

MB = 1024 * 1024
TMP_PREFIX = "pivot-bench-"
REPO_ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class RssSampler:
    """Samples this process's RSS every `interval` seconds; `window()` gives the peak inside a block."""

    def __init__(self, interval: float = 0.01):
        self._process = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> int:
        rss = self._process.memory_info().rss
        self._peak = max(self._peak, rss)
        return rss

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    @contextmanager
    def window(self, into: dict, key: str = "peak_rss_mb"):
        self._peak = 0
        into["rss_before_mb"] = round(self._sample() / MB, 1)
        started = time.perf_counter()
        yield
        into["seconds"] = time.perf_counter() - started
        self._sample()
        into[key] = round(self._peak / MB, 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def temporary_directory(label: str):
    path = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{label}-", dir="/tmp"))
    try:
        yield path
    finally:
        if "pipeline.resources.clickhouse" in sys.modules:
            # chDB keeps writing (merges) until its store is closed; close it before removing.
            sys.modules["pipeline.resources.clickhouse"].close_all_clients()
        shutil.rmtree(path, ignore_errors=True)
