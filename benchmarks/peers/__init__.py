"""Benchmark peers: REF-1 written in other agent-based simulators."""
