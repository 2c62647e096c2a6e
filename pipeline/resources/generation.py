"""The run-wide settings of the synthetic data, as one resource.

Every generated row is a function of the seed (decision 1), and revenue,
retention and compensation are derived from the same generated flows: so the
seed and the flow scale are bound once, in definitions.py, and every asset and
sensor of a run reads the same values from here.
"""

import dagster as dg
from pydantic import Field

from pipeline.settings import DEFAULT_SEED


class GenerationSettings(dg.ConfigurableResource):
    """Seed and scale of the synthetic universe (both warehouses)."""

    seed: int = Field(default=DEFAULT_SEED, description="Global seed; every generated row is a pure function of it.")
    flow_scale: float = Field(
        default=1.0,
        gt=0,
        le=200,
        description="Multiplier on dist_perf_dw's flows per business day (1.0 = about 3,000 flows).",
    )
