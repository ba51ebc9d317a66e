"""Shipped calibration targets (TOML files of dated published figures)."""
