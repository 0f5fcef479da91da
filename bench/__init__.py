"""Kehu benchmarks: `make bench` (bench/run.py). See docs/benchmarks.md."""
