"""Default sizes and figures of experiments (light: read by the command line at start-up)."""

DEFAULT_POPULATION = 100_000
DEFAULT_DAYS = 365
DEFAULT_METRICS = ("restricted", "wrongful", "spillover_only", "score_mean")
