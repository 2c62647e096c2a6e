"""Dagster adapters of both warehouses.

The Dagster APIs below are marked beta or preview, and the assets use them on purpose; each
warning is filtered here, by its exact text, before any asset module runs, so every process that
loads the definitions (`dagster` CLI, `dagster dev`, run workers, the demo) prints nothing for
them. Any other Dagster warning still shows.
"""

import warnings

KNOWN_DAGSTER_WARNINGS = {
    # The facts load a partition range in one run (decision 7, STYLE 8): `--partition-range A...B`
    # needs BackfillPolicy.single_run(); beta since 1.6 and unchanged in use since.
    r"Parameter `backfill_policy` of function `asset` is currently in beta": "single-run backfills of the facts",
    # Revenue and retention read flows of days before their partition (start_offset < 0); before
    # 2024-01-01 there is none, which this flag allows instead of failing the first days.
    r"Parameter `allow_nonexistent_upstream_partitions` of initializer `TimeWindowPartitionMapping.__init__`": (
        "revenue/retention read flows from before the first partition"
    ),
    # Data-quality checks of a partitioned fact check the run's partitions only, not the whole table.
    r"Specifying a partitions_def on an AssetCheckSpec is currently in preview": "partitioned asset checks",
}

for message in KNOWN_DAGSTER_WARNINGS:
    warnings.filterwarnings("ignore", message=message)
