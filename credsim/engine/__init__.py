"""The engine: a shard's columns (state), its mechanisms (components), the day's plan (loop)."""
