"""Shipped regime presets (TOML files)."""
