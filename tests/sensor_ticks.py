"""Evaluating the landed-file sensors in tests, as the daemon would tick them."""

import dagster as dg

from pipeline.definitions import defs
from pipeline.resources.generation import GenerationSettings


def evaluate(sensor, instance, cursor=None) -> dg.SensorResult:
    """One tick of `sensor` with the code location's resources."""
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        resources={"generation": GenerationSettings()},
    )
    return sensor(context)


def settled_tick(sensor, instance, cursor=None) -> dg.SensorResult:
    """The sensor's verdict once the landed files have settled: a file new or changed since the last
    tick is only observed (the skip reason says it waits), the next tick reads it."""
    result = evaluate(sensor, instance, cursor)
    if result.skip_reason and result.skip_reason.skip_message.startswith("waiting for"):
        result = evaluate(sensor, instance, result.cursor)
    return result
