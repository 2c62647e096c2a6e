"""One measurement in a fresh process: `python -m benchmarks.worker <task> '<json args>'`.

Prints one JSON object as the last line of stdout. Each task opens its own
temporary store under /tmp (chDB admits one data directory per process) and
removes it afterwards. Peak RSS comes from the kernel (ru_maxrss) for the
whole process and from a 10 ms psutil sampler for the window of each step.

Where the tasks are: benchmarks/pivot_tasks.py (pivot, fx_day, landed, limit, naive, memory; the chDB
warehouse), benchmarks/dagster_task.py (dagster), benchmarks/postgres_task.py (postgres; the
dist_perf_dw warehouse), benchmarks/dist_landed_task.py (dist_landed: a landed flows date) and
benchmarks/history_task.py (history: a year backfilled, settled, queried and restored);
benchmarks/measuring.py has the RSS sampler and the temporary stores.
"""

from __future__ import annotations

import json
import logging
import sys

from benchmarks.dagster_task import task_dagster
from benchmarks.dist_landed_task import task_dist_landed
from benchmarks.history_task import task_history
from benchmarks.pivot_tasks import task_fx_day, task_landed, task_limit, task_memory, task_naive, task_pivot
from benchmarks.postgres_task import task_postgres

TASKS = {
    "pivot": task_pivot,
    "fx_day": task_fx_day,
    "landed": task_landed,
    "limit": task_limit,
    "naive": task_naive,
    "memory": task_memory,
    "dagster": task_dagster,
    "postgres": task_postgres,
    "dist_landed": task_dist_landed,
    "history": task_history,
}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    task, raw = sys.argv[1], sys.argv[2]
    result = TASKS[task](json.loads(raw))
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
