"""Default sizes and figures of experiments (light: the command line reads them at start)."""

DEFAULT_POPULATION = 100_000
DEFAULT_DAYS = 365
DEFAULT_METRICS = ("restricted", "wrongful", "spillover_only", "score_mean")
