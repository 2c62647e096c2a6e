"""Jobs and schedules, one module per warehouse."""
