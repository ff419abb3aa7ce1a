"""Benchmarks of Rightful on a large PostgreSQL estate; run them with `make bench`."""
