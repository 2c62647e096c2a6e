"""What keeping versions costs a load: a 100k-trade day loaded on a fresh store, then reloaded twice (a reload
keeps the replaced day as a version), each timed (wall and process CPU) with the time spent in
`DayVersions.prepare` + `commit`. Run it on an older tree too for the before figure:

    python -m benchmarks.experiments.versions_overhead
    git archive 717e8ff | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before python benchmarks/experiments/versions_overhead.py
"""

import json
import shutil
import tempfile
import time
from datetime import date

from benchmarks.pivot_tasks import store_with_reference_data
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.resources.clickhouse import close_all_clients
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 16)


def main() -> None:
    spent = {"seconds": 0.0}
    try:
        from pipeline.pivot import versions
    except ImportError:  # a tree from before versions
        versions = None
    if versions is not None:
        for name in ("prepare", "commit"):
            original = getattr(versions.DayVersions, name)

            def timed(self, *args, _original=original, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(self, *args, **kwargs)
                finally:
                    spent["seconds"] += time.perf_counter() - started

            setattr(versions.DayVersions, name, timed)
    store = tempfile.mkdtemp(prefix="pivot-versions-", dir="/tmp")
    try:
        clickhouse, _, _ = store_with_reference_data(store, DEFAULT_SEED)
        out = {}
        for label in ("first", "reload", "reload2"):
            spent["seconds"] = 0.0
            wall, cpu = time.perf_counter(), time.process_time()
            load_trade_date(clickhouse, DAY, read_reference_data(clickhouse), trades_per_day=100_000, seed=DEFAULT_SEED)
            out[label] = {
                "wall": round(time.perf_counter() - wall, 3),
                "cpu": round(time.process_time() - cpu, 3),
                "versions_ms": round(spent["seconds"] * 1000, 1),
            }
        print(json.dumps(out))
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
