"""Benchmarks for Collaboration Atlas (`make bench`); never part of `make test`."""
