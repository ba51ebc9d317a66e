"""Imported once by the fork server: the engine and its compiled kernels, loaded for every
worker forked from it."""

from credsim.scale.shards import warm

warm()
