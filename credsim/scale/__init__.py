"""Shards and the executors that run them (in-process, local processes, Dask)."""
