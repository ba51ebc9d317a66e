"""Example: see README.md in this folder."""
